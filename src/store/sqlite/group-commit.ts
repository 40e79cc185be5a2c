// Group commit. With synchronous=FULL every SQLite commit ends in an fsync of the WAL, and
// better-sqlite3 runs it on the event loop, so one commit per request makes every connection wait
// for every other one's fsync. Instead, requests wait together: while one group's fsync runs (on
// the thread pool), every new request queues, and when it ends they all run in one transaction,
// each in its own savepoint (one request's error rolls back only its own changes), made durable by
// one fsync. A request on an idle store starts its group at once (in the same event-loop turn's
// check phase, so requests of that turn join it). A request's promise settles only after its
// group's fsync, so nothing is acknowledged before it is on disk; and since a request waits for
// the running fsync either way (it needs one that started after its commit), holding its commit
// back until then costs no latency while sparing a transaction per request.
// A group that finds the write lock held by another process (another worker, the CLI) does not
// wait for it on the event loop: it is retried from a timer (write-lock.ts).

import type Database from 'better-sqlite3';
import { asStoreIoError } from '../errors.js';
import { WRITE_LOCK_WAIT_MS, WriteLock, lockTimeout, retryDelay } from './write-lock.js';

interface Job {
  fn: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; err: unknown };

/** Largest number of requests in one transaction: bounds the time the loop is held by one group. */
const MAX_GROUP = 512;

export class GroupCommit {
  private pending: Job[] = [];
  private scheduled = false;
  /** A group's fsync is running: new requests wait for it and then form the next group. */
  private syncing = false;
  /** Groups committed and requests in them (for tests and diagnosis). */
  readonly stats = { groups: 0, requests: 0 };
  /** The write lock taken without blocking; shared with the store's other write paths. */
  readonly lock: WriteLock;
  /** The group body began (a busy error after that is the group's failure, not a retry). */
  private started = false;
  /** Retries of the pending head while the write lock is taken, and since when. */
  private busyAttempts = 0;
  private busySince = 0;

  /** One group's transaction (made once: better-sqlite3 builds a wrapper per transaction()). */
  private readonly runGroup: Database.Transaction<(jobs: Job[], outcomes: Outcome[]) => void>;

  /** `durable` makes the commits so far durable (the WAL fsync); jobs settle after it. */
  constructor(
    private readonly db: Database.Database,
    private readonly durable: () => Promise<void> = async () => undefined,
  ) {
    // Each request in its savepoint, as a nested better-sqlite3 transaction would do, without
    // building that wrapper (four closures) per request.
    const savepoint = db.prepare('SAVEPOINT group_request');
    const release = db.prepare('RELEASE group_request');
    const rollbackTo = db.prepare('ROLLBACK TO group_request');
    this.lock = new WriteLock(db);
    this.runGroup = db.transaction((jobs: Job[], outcomes: Outcome[]) => {
      this.started = true;
      // A lone request needs no savepoint: its error rolls back the whole transaction, which
      // holds nothing else (two statements fewer on an idle store's every write).
      if (jobs.length === 1) {
        outcomes.push({ ok: true, value: jobs[0]!.fn() });
        return;
      }
      for (const job of jobs) {
        savepoint.run();
        try {
          const value = job.fn();
          release.run();
          outcomes.push({ ok: true, value });
        } catch (err) {
          // Some errors (disk full, I/O) make SQLite roll back the whole transaction: then no
          // request of the group is committed, and all must fail.
          if (!db.inTransaction) throw err;
          rollbackTo.run();
          release.run();
          outcomes.push({ ok: false, err });
        }
      }
    });
  }

  /** Runs `fn` inside the next group's transaction; resolves with its result after the commit. */
  run<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  private schedule(delayMs?: number): void {
    if (this.scheduled || this.syncing) return;
    this.scheduled = true;
    const go = (): void => {
      this.scheduled = false;
      // A group committed meanwhile (flushAll) and its fsync runs: its end schedules the next.
      if (!this.syncing) this.flush(false);
    };
    // setImmediate runs after the I/O callbacks of this turn: every request they make joins.
    if (delayMs === undefined) setImmediate(go);
    else setTimeout(go, delayMs);
  }

  /** Commits every pending request now (before closing the database), waiting for the lock. */
  flushAll(): void {
    while (this.pending.length) this.flush(true);
  }

  /** `wait`: take the write lock with SQLite's blocking busy wait (only for flushAll). */
  private flush(wait: boolean): void {
    const jobs = this.pending.splice(0, MAX_GROUP);
    if (jobs.length === 0) return;
    const outcomes: Outcome[] = [];
    try {
      this.started = false;
      const begin = (): void => void this.runGroup.immediate(jobs, outcomes);
      if (wait) begin();
      else if (!this.lock.tryImmediate(begin, () => this.started)) {
        // Another connection writes: nothing ran. The group goes back to the head of the queue
        // (requests made meanwhile join it) and is retried soon, the event loop free meanwhile.
        if (this.busyAttempts === 0) this.busySince = Date.now();
        if (Date.now() - this.busySince < WRITE_LOCK_WAIT_MS) {
          this.pending.unshift(...jobs);
          this.schedule(retryDelay(this.busyAttempts++));
          return;
        }
        throw lockTimeout();
      }
      this.busyAttempts = 0;
    } catch (err) {
      this.busyAttempts = 0;
      const e = asStoreIoError(err);
      for (const job of jobs) job.reject(e);
      if (this.pending.length) this.schedule();
      return;
    }
    this.stats.groups++;
    this.stats.requests += jobs.length;
    const settle = (durableErr: unknown): void =>
      jobs.forEach((job, i) => {
        const o = outcomes[i]!;
        if (durableErr !== undefined) job.reject(asStoreIoError(durableErr));
        else if (o.ok) job.resolve(o.value);
        else job.reject(asStoreIoError(o.err));
      });
    this.syncing = true;
    const done = (durableErr: unknown): void => {
      this.syncing = false;
      settle(durableErr);
      if (this.pending.length) this.schedule();
    };
    this.durable().then(() => done(undefined), (err: unknown) => done(err ?? new Error('fsync failed')));
  }
}
