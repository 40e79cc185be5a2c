// Group commit. With synchronous=FULL every SQLite commit ends in an fsync of the WAL, and
// better-sqlite3 runs it on the event loop, so one commit per request makes every connection wait
// for every other one's fsync. Write requests made in the same event-loop turn (and those arriving
// while the previous group's fsync blocked the loop) are run together in one transaction: each in
// its own savepoint, so one request's error rolls back only its own changes, and one fsync makes
// them all durable. A request's promise settles only after that commit returned, so nothing is
// acknowledged before it is on disk.

import type Database from 'better-sqlite3';
import { asStoreIoError } from '../errors.js';

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
  /** Groups committed and requests in them (for tests and diagnosis). */
  readonly stats = { groups: 0, requests: 0 };

  /** `durable` makes the commits so far durable (the WAL fsync); jobs settle after it. */
  constructor(
    private readonly db: Database.Database,
    private readonly durable: () => Promise<void> = async () => undefined,
  ) {}

  /** Runs `fn` inside the next group's transaction; resolves with its result after the commit. */
  run<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // setImmediate runs after the I/O callbacks of this turn: every request they make joins.
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  /** Commits every pending request now (before closing the database). */
  flushAll(): void {
    while (this.pending.length) this.flush();
  }

  private flush(): void {
    const jobs = this.pending.splice(0, MAX_GROUP);
    if (this.pending.length) this.schedule();
    if (jobs.length === 0) return;
    const outcomes: Outcome[] = [];
    try {
      this.db.transaction(() => {
        for (const job of jobs) {
          try {
            // Nested better-sqlite3 transactions are savepoints.
            outcomes.push({ ok: true, value: this.db.transaction(job.fn)() });
          } catch (err) {
            // Some errors (disk full, I/O) make SQLite roll back the whole transaction: then no
            // request of the group is committed, and all must fail.
            if (!this.db.inTransaction) throw err;
            outcomes.push({ ok: false, err });
          }
        }
      }).immediate();
    } catch (err) {
      const e = asStoreIoError(err);
      for (const job of jobs) job.reject(e);
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
    this.durable().then(() => settle(undefined), (err: unknown) => settle(err ?? new Error('fsync failed')));
  }
}
