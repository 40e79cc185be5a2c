// A worker process of `postern serve --workers N`: the whole server (run-server.ts) with its part
// in the cluster: the bus to the primary, the change feed and failure counts shared over it, the
// primary's session-ticket secret and connection counts, and the singletons in worker slot 0.

import cluster from 'node:cluster';
import { authLimitsOf } from '../auth/limits.js';
import type { Config } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import { startServer, type RunningServer } from '../server/run-server.js';
import { ClusterChangeFeed } from './change-feed.js';
import { RemoteAdmitter } from './connection-counts.js';
import { SharedFailureLimiter } from './failure-limiter.js';
import { IpcWorkerBus } from './ipc-worker-bus.js';
import { BusTicketSecrets } from './ticket-secrets.js';
import { TOPIC, WORKER_SLOT_ENV } from './topics.js';

export async function runWorker(config: Config, baseLog: Logger): Promise<RunningServer | null> {
  const slot = Number(process.env[WORKER_SLOT_ENV] ?? '0');
  const log = baseLog.child({ worker: slot });
  const bus = new IpcWorkerBus(cluster.worker?.id ?? 0, log);
  let server: RunningServer | null = null;
  let stopping = false;
  const stop = (why: string): void => {
    if (stopping) return;
    stopping = true;
    log.info('worker shutting down', { reason: why, pid: process.pid });
    void (server?.stop() ?? Promise.resolve()).then(
      () => {
        bus.close();
        process.exit(0);
      },
      (err) => {
        log.error('shutdown failed', { err });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // The primary is gone (killed): no new connections come, and nothing coordinates: end cleanly.
  process.on('disconnect', () => stop('primary gone'));
  try {
    const ticketSecrets = config.tls ? await BusTicketSecrets.fetch(bus) : undefined;
    const failureLimiter = new SharedFailureLimiter(bus, authLimitsOf(config).windows);
    await failureLimiter.catchUp();
    server = await startServer(config, log, {}, {
      bus,
      singletons: slot === 0,
      // Recovery sweeps only the file-id blocks of processes that are gone, so a worker started in
      // place of a dead one removes that one's orphans without touching its siblings' staged files.
      recover: true,
      changes: new ClusterChangeFeed(bus, log),
      ...(ticketSecrets && { ticketSecrets }),
      failureLimiter,
      admission: (listener, limits) => new RemoteAdmitter(bus, listener, limits, log),
      announce: false,
    });
    if (stopping) return server;
    bus.notify(TOPIC.ready, { slot, pid: process.pid, listeners: server.listeners });
    log.info('worker ready', { pid: process.pid, singletons: slot === 0 });
    return server;
  } catch (err) {
    bus.notify(TOPIC.fatal, { message: err instanceof Error ? err.message : String(err) });
    // Give the message time to reach the primary before this process ends.
    setTimeout(() => process.exit(1), 200);
    return null;
  }
}
