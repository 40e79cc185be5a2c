// The primary process of `postern serve --workers N`: it serves no connection itself. It recovers
// the store once, forks the workers (node:cluster shares the listening sockets and hands each
// accepted connection to a worker, round-robin), is the bus coordinator (connection counts,
// session-ticket secrets, the copy of failed-login counts), restarts a worker that dies (with
// backoff: never a fork loop), forwards SIGTERM/SIGINT, and on SIGHUP replaces the workers one at
// a time so that they read the configuration again. docs/scaling.md describes the whole.

import cluster, { type Worker } from 'node:cluster';
import { authLimitsOf } from '../auth/limits.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { ConnectionCounts } from './connection-counts.js';
import { serveFailureCopy } from './failure-limiter.js';
import { IpcHub } from './ipc-hub.js';
import { RESTART_BASE_DELAY_MS, RESTART_MAX_DELAY_MS, RESTART_STABLE_MS, WORKER_START_TIMEOUT_MS, WORKER_STOP_TIMEOUT_MS } from './limits.js';
import { serveTicketSecrets } from './ticket-secrets.js';
import { TOPIC, WORKER_SLOT_ENV } from './topics.js';
import { exitOnShutdownSignals } from '../server/shutdown-signals.js';

export interface ListenerInfo {
  service: string;
  host: string;
  port: number;
  listener: string;
}

interface Slot {
  worker: Worker | null;
  startedAt: number;
  /** Deaths in a row, each within RESTART_STABLE_MS of its start. */
  quickDeaths: number;
  restartTimer: NodeJS.Timeout | null;
  /** Being replaced on purpose (SIGHUP): its exit is not a crash. */
  replacing: boolean;
}

interface Starting {
  resolve(listeners: ListenerInfo[]): void;
  reject(err: Error): void;
}

export class Primary {
  private readonly hub: IpcHub;
  private readonly counts: ConnectionCounts;
  private readonly closers: (() => void)[] = [];
  private readonly slots: Slot[];
  private readonly starting = new Map<number, Starting>();
  private stopping = false;
  private rolling: Promise<void> | null = null;
  private rollAgain = false;

  constructor(
    private readonly config: Config,
    workers: number,
    private readonly log: Logger,
  ) {
    this.hub = new IpcHub(log);
    this.counts = new ConnectionCounts(this.hub);
    this.closers.push(serveTicketSecrets(this.hub), serveFailureCopy(this.hub, authLimitsOf(config).windows));
    this.closers.push(
      this.hub.handle(TOPIC.ready, (p, from) => this.starting.get(from)?.resolve((p as { listeners: ListenerInfo[] }).listeners)),
      this.hub.handle(TOPIC.fatal, (p, from) => this.starting.get(from)?.reject(new Error(String((p as { message?: unknown }).message)))),
    );
    this.slots = Array.from({ length: workers }, () => ({ worker: null, startedAt: 0, quickDeaths: 0, restartTimer: null, replacing: false }));
  }

  /** Recovers the store, starts every worker; resolves with the listeners once all serve. */
  async start(): Promise<ListenerInfo[]> {
    // Crash recovery once, before any worker opens the store (a worker recovers too when it starts: only the blocks of processes that are gone).
    const store = await SqliteStore.open({ dir: this.config.dir, recover: true, defaultQuota: this.config.quota.default });
    await store.close();
    // The workers run this same command line (bin/postern.cjs serve ...).
    cluster.setupPrimary({ exec: process.argv[1]!, args: process.argv.slice(2) });
    try {
      const all = await Promise.all(this.slots.map((_, i) => this.fork(i)));
      return all[0]!;
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** The pids of the workers now (tests, status). */
  workerPids(): number[] {
    return this.slots.flatMap((s) => (s.worker?.process.pid !== undefined ? [s.worker.process.pid] : []));
  }

  private fork(slot: number): Promise<ListenerInfo[]> {
    const s = this.slots[slot]!;
    const w = cluster.fork({ [WORKER_SLOT_ENV]: String(slot) });
    s.worker = w;
    s.startedAt = Date.now();
    this.hub.attach(w);
    const ready = new Promise<ListenerInfo[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`worker ${slot} did not start in ${WORKER_START_TIMEOUT_MS} ms`));
        w.process.kill('SIGKILL');
      }, WORKER_START_TIMEOUT_MS);
      const done = (): void => {
        clearTimeout(timer);
        this.starting.delete(w.id);
      };
      this.starting.set(w.id, {
        resolve: (l) => {
          done();
          resolve(l);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      });
    });
    w.on('exit', (code, signal) => this.exited(slot, w, code, signal));
    return ready;
  }

  private exited(slot: number, w: Worker, code: number | null, signal: string | null): void {
    this.hub.detach(w.id);
    // Its connections are gone with it.
    this.counts.workerGone(w.id);
    this.starting.get(w.id)?.reject(new Error(`worker ${slot} exited during start (${signal ?? `code ${code}`})`));
    const s = this.slots[slot]!;
    if (s.worker !== w) return;
    s.worker = null;
    if (this.stopping || s.replacing) return;
    const lived = Date.now() - s.startedAt;
    s.quickDeaths = lived >= RESTART_STABLE_MS ? 0 : s.quickDeaths + 1;
    const delay = Math.min(RESTART_MAX_DELAY_MS, RESTART_BASE_DELAY_MS * 2 ** s.quickDeaths);
    this.log.warn('worker died', { slot, pid: w.process.pid, code: code ?? undefined, signal: signal ?? undefined, restartInMs: delay });
    s.restartTimer = setTimeout(() => {
      s.restartTimer = null;
      if (this.stopping || s.worker) return;
      this.fork(slot).then(
        () => this.log.info('worker restarted', { slot, pid: s.worker?.process.pid }),
        (err) => this.log.error('worker restart failed', { slot, err }),
      );
    }, delay);
  }

  /** SIGHUP: replaces the workers one at a time (the others keep serving); a bad config keeps the old ones. */
  reload(): Promise<void> {
    if (this.rolling) {
      this.rollAgain = true;
      return this.rolling;
    }
    this.rolling = (async () => {
      do {
        this.rollAgain = false;
        try {
          loadConfig(this.config.dir);
        } catch (err) {
          this.log.error('reload refused: the configuration does not load; the workers keep running', { err });
          return;
        }
        this.log.info('reload: replacing the workers one at a time');
        for (let i = 0; i < this.slots.length && !this.stopping; i++) await this.replace(i);
      } while (this.rollAgain && !this.stopping);
    })().finally(() => {
      this.rolling = null;
    });
    return this.rolling;
  }

  /** Stops slot i's worker (its sessions end cleanly), then starts its successor. Stop first, so
   * that slot 0's singletons never run twice at once. */
  private async replace(i: number): Promise<void> {
    const s = this.slots[i]!;
    if (s.restartTimer) clearTimeout(s.restartTimer);
    s.restartTimer = null;
    const old = s.worker;
    if (old) {
      s.replacing = true;
      await this.stopWorker(old);
      s.replacing = false;
    }
    if (this.stopping) return;
    try {
      await this.fork(i);
      s.quickDeaths = 0;
    } catch (err) {
      this.log.error('reload: a new worker did not start', { slot: i, err });
    }
  }

  private stopWorker(w: Worker): Promise<void> {
    if (w.process.exitCode !== null || w.process.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => w.process.kill('SIGKILL'), WORKER_STOP_TIMEOUT_MS);
      w.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      w.process.kill('SIGTERM');
    });
  }

  /** SIGTERM/SIGINT: every worker closes its listeners, finishes its commits and exits. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const s of this.slots) {
      if (s.restartTimer) clearTimeout(s.restartTimer);
      s.restartTimer = null;
    }
    await Promise.all(this.slots.flatMap((s) => (s.worker ? [this.stopWorker(s.worker)] : [])));
    for (const c of this.closers) c();
    this.counts.close();
    this.hub.close();
  }
}

/** Runs the primary until SIGTERM/SIGINT; prints the listening lines once. */
export async function servePrimary(config: Config, workers: number, log: Logger): Promise<Primary> {
  const primary = new Primary(config, workers, log);
  exitOnShutdownSignals(log, () => primary.stop());
  process.on('SIGHUP', () => void primary.reload());
  const listeners = await primary.start();
  for (const l of listeners) log.info('listening', { service: l.service, address: l.host, port: l.port, listener: l.listener });
  log.info('workers started', { workers, pids: primary.workerPids().join(',') });
  return primary;
}
