// `postern serve`: loads the config, opens the store (with crash recovery), starts every configured
// listener, and shuts down cleanly on SIGTERM/SIGINT: listeners close, sessions end, in-flight
// commits finish, the store closes.

import { resolverAt } from './dns-resolver.js';
import { JunkService } from '../junk/service.js';
import { startReportSchedule } from '../dmarc/report-sender.js';
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContext } from 'node:tls';
import { listenerTlsOptions } from '../tls/server-context.js';
import { startQueue, type QueueOptions } from '../queue/index.js';
import type { DnsResolver } from '../smtp/server/policy.js';
import { SessionRegistry } from '../auth/session-registry.js';
import { StoreAuthenticator } from '../auth/store-authenticator.js';
import { authLimitsOf } from '../auth/limits.js';
import type { Config, ServiceName } from '../config/types.js';
import { createLogger, type Logger } from '../log/logger.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { ServerContext } from './context.js';
import { SERVICE_STARTERS } from './services.js';

export interface RunningServer {
  ctx: ServerContext;
  listeners: { service: ServiceName; host: string; port: number }[];
  stop(): Promise<void>;
}

export function loadTlsContext(config: Config): SecureContext | null {
  if (!config.tls) return null;
  // One context for all listeners: TLS 1.2+, and a session id context so that resumed sessions keep
  // the client certificate they were made with (spec 2.2; see tls/server-context.ts).
  return createSecureContext(listenerTlsOptions({
    cert: readFileSync(config.tls.certFile),
    key: readFileSync(config.tls.keyFile),
    requestClientCertificate: true,
  }));
}

/** What a test may inject into a whole server. */
export interface ServerHooks {
  resolver?: DnsResolver;
  queue?: QueueOptions;
}

export async function startServer(config: Config, log: Logger = createLogger(), hooks: ServerHooks = {}): Promise<RunningServer> {
  const store = await SqliteStore.open({ dir: config.dir, recover: true, defaultQuota: config.quota.default });
  const controller = new AbortController();
  const auth = new StoreAuthenticator({ store, log, hostname: config.hostname, windows: authLimitsOf(config).windows });
  const sessions = new SessionRegistry(store, auth, log);
  const ctx: ServerContext = {
    store,
    config,
    auth,
    sessions,
    log,
    tls: loadTlsContext(config),
    resolver: hooks.resolver ?? (config.dns?.resolver ? resolverAt(config.dns.resolver) : undefined),
    shutdown: controller.signal,
  };
  if (config.junk?.enabled) {
    ctx.junk = new JunkService(store, log, { threshold: config.junk.threshold });
    ctx.junk.start();
  }
  const queue = startQueue(ctx, hooks.queue);
  ctx.queue = queue;
  const stopReports = startReportSchedule({ store, hostname: config.hostname, resolver: ctx.resolver, log, kick: () => queue.kick() });
  const started: { service: ServiceName; host: string; port: number; close(): Promise<void> }[] = [];
  const stop = async () => {
    controller.abort();
    stopReports();
    sessions.stop();
    await Promise.allSettled(started.map((l) => l.close()));
    await queue.stop();
    await ctx.junk?.stop();
    await store.close();
  };
  try {
    for (const l of config.listeners) {
      for (const [service, port] of Object.entries(l.ports) as [ServiceName, number][]) {
        const starter = SERVICE_STARTERS[service];
        if (!starter) continue;
        for (const host of l.ips) {
          const s = await starter(ctx, { host, port, requestClientCert: l.requestClientCertificates });
          started.push({ service, host, port: s.port, close: s.close });
          log.info('listening', { service, address: host, port: s.port, listener: l.name });
        }
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { ctx, listeners: started.map(({ service, host, port }) => ({ service, host, port })), stop };
}

/** Runs until SIGTERM/SIGINT. */
export async function serveForever(config: Config, log: Logger = createLogger()): Promise<RunningServer> {
  const server = await startServer(config, log);
  let stopping = false;
  const onSignal = (sig: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal: sig });
    server.stop().then(
      () => process.exit(0),
      (err) => {
        log.error('shutdown failed', { err });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  return server;
}
