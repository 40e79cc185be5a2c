// Taking SQLite's write lock without blocking the event loop. Worker processes (and the CLI) share
// one database, and SQLite lets one connection write at a time. A connection that finds the lock
// taken calls its busy handler, which sleeps (1, 2, 5, 10 ms ...) in the calling thread: on the
// event loop, that stalls every session of the process while another process commits. The write
// transactions of the hot paths instead start with the busy wait off (busy_timeout 0 around their
// BEGIN IMMEDIATE only); one that finds the lock taken is retried from a timer, and the event loop
// serves the other sessions meanwhile. Rare synchronous paths keep the connection's busy_timeout.

import type Database from 'better-sqlite3';

/** Longest a write waits for the lock before failing with SQLITE_BUSY: the connection's busy_timeout. */
export const WRITE_LOCK_WAIT_MS = 10_000;
/** Retry delays after a busy BEGIN, in ms; the last repeats. Another process's transaction holds the
 * lock for well under a millisecond (its fsync runs after it let go), so the first retry is soon. */
const RETRY_DELAYS_MS = [1, 1, 2, 2, 4, 8, 16];

export function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || (typeof code === 'string' && code.startsWith('SQLITE_BUSY_'));
}

/** The error of a write that waited WRITE_LOCK_WAIT_MS for the lock: what SQLite's own wait raises. */
export function lockTimeout(): Error {
  return Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
}

/** The delay before retry number `attempt` (0-based). */
export function retryDelay(attempt: number): number {
  return RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)]!;
}

export class WriteLock {
  /** The connection's own busy_timeout, restored after each BEGIN, for its synchronous paths. */
  private readonly configured: number;
  /** BEGINs that found the lock taken (each retried later), for diagnosis and tests. */
  busy = 0;

  // PRAGMA busy_timeout acts when compiled, not when run: a prepared statement cannot be kept for
  // it, so each switch compiles one (a few microseconds, twice per transaction).
  constructor(private readonly db: Database.Database) {
    this.configured = Number(db.pragma('busy_timeout', { simple: true }));
  }

  /**
   * Runs `begin` (a better-sqlite3 `.immediate()` transaction call) with the busy wait off. Returns
   * false, having run nothing, when BEGIN IMMEDIATE found the write lock taken; `started` tells a
   * busy error of the BEGIN from one raised after the transaction body began (then it is thrown,
   * since the body may have had effects outside the database and must not run twice).
   */
  tryImmediate(begin: () => void, started: () => boolean): boolean {
    this.db.pragma('busy_timeout = 0');
    try {
      begin();
      return true;
    } catch (err) {
      if (isBusy(err) && !started()) {
        this.busy++;
        return false;
      }
      throw err;
    } finally {
      this.db.pragma(`busy_timeout = ${this.configured}`);
    }
  }
}

/**
 * Runs `fn` in a write transaction taken without a blocking wait, retrying from timers while
 * another connection holds the lock (up to WRITE_LOCK_WAIT_MS, then the busy error).
 */
export async function immediateAsync<T>(lock: WriteLock, tx: Database.Transaction<(fn: () => unknown) => unknown>, fn: () => T): Promise<T> {
  const since = Date.now();
  for (let attempt = 0; ; attempt++) {
    let started = false;
    let value: T | undefined;
    const body = (): unknown => {
      started = true;
      return (value = fn());
    };
    if (lock.tryImmediate(() => tx.immediate(body), () => started)) return value as T;
    if (Date.now() - since >= WRITE_LOCK_WAIT_MS) throw lockTimeout();
    await new Promise((resolve) => setTimeout(resolve, retryDelay(attempt)));
  }
}
