// Shared work for one change fanned out to many sessions, and the batched output of a view sync.
//
// One published batch of changes (a ChangeFeed.publish call) reaches every session of the account;
// thousands of them may have the same mailbox selected (and be in IDLE). Each reports new messages
// with `* N EXISTS` after loading their metadata from the store (MailboxView.sync); done per
// session, that is one identical store query per session, all of them before the first session
// writes anything. Here the query result is shared by every session that reports the same batch.
//
// Why sharing is as correct as each session querying on its own: the first session to ask queries
// after the batch was published, so after it committed (and after every earlier batch); a session
// uses the shared result only for the batch it queued last for that mailbox. A change committed
// after the query is published after it, so it reaches every session's queue and is applied on top
// of the result (flags by MODSEQ, expunges by UID), exactly as with a query of its own made before
// that change. A session whose last batch is unknown (null) queries the store itself.
//
// Also here: BatchedOutput (a session's report leaves in one socket write, one TLS record) and
// FanoutScheduler (IDLE updates run a group of sessions at a time, so the first are written
// before the last have started).
import type { Change } from '../../store/change-feed.js';
import type { MessageMeta, Store } from '../../store/types.js';
import type { MessageLookup, NewMessageFetch, ViewOutput } from './mailbox-view.js';

/** Per batch (the array object handed to every listener): a lookup whose results are shared. */
const shared = new WeakMap<Change[], MessageLookup>();

/**
 * The store to sync a view with after `batch` (the last batch queued for the view's mailbox):
 * getMessages results are shared by every session that passes the same batch. Without a batch,
 * the store itself.
 */
export function storeForBatch(store: Store, batch: Change[] | null): MessageLookup {
  if (!batch) return store;
  let s = shared.get(batch);
  if (!s) {
    s = sharedLookup(store);
    shared.set(batch, s);
  }
  return s;
}

function sharedLookup(store: Store): MessageLookup {
  const results = new Map<string, Promise<MessageMeta[]>>();
  const getMessages = (mailboxId: number, uids: number[]): Promise<MessageMeta[]> => {
    const key = `${mailboxId}:${uids.join(',')}`;
    let p = results.get(key);
    if (!p) {
      p = store.getMessages(mailboxId, uids);
      results.set(key, p);
      // A failed lookup is not kept: the next session tries again.
      p.catch(() => results.delete(key));
    }
    // Each caller gets its own array and objects (callers sort the array, and keep the objects).
    return p.then((metas) => metas.map((m) => ({ ...m, flags: [...m.flags] })));
  };
  return { getMessages };
}

/** Above this many buffered characters a batched output writes what it holds before going on. */
const BATCH_BYTES = 16 * 1024;

/**
 * A ViewOutput that collects untagged lines and writes them with one socket write (one TLS record)
 * when flushed, instead of one write per line: `* 5 EXISTS` and `* 0 RECENT` leave together.
 */
export class BatchedOutput implements ViewOutput {
  private buf = '';
  uidOnly = false;
  newMessages?: NewMessageFetch;

  constructor(
    private readonly send: (data: string) => Promise<void>,
    readonly condstore: boolean,
    readonly qresync: boolean,
    readonly rev2: boolean,
    readonly flagList: (flags: string[]) => string,
  ) {}

  untagged(text: string): Promise<void> {
    this.buf += `* ${text}\r\n`;
    return this.buf.length >= BATCH_BYTES ? this.flush() : Promise.resolve();
  }

  flush(): Promise<void> {
    if (!this.buf) return Promise.resolve();
    const data = this.buf;
    this.buf = '';
    return this.send(data);
  }
}

/** Sessions whose updates are started together; the next group starts when these are written. */
const GROUP = 64;

/** A session's update; it handles its own errors (a rejection is dropped here). */
export type FanoutJob = () => Promise<void>;

/**
 * Runs the IDLE updates of many sessions a group at a time, in the order the change reached them.
 * Started all at once (each session on its own promise chain), every session would do the first
 * part of its update (up to its first await) before any of them wrote: the first `* N EXISTS`
 * would leave only after all sessions had been visited once, with all their suspended updates
 * alive together (heap growth, scavenges copying them). Here a group of GROUP sessions runs to its
 * writes before the next one starts. A session that waits longer than the current macrotask (a
 * peer that does not read: back-pressure) does not hold up the others: the next group starts after
 * one event-loop turn, and the waiting session finishes on its own.
 */
export class FanoutScheduler {
  private queue: FanoutJob[] = [];
  private head = 0;
  private running = false;

  schedule(job: FanoutJob): void {
    this.queue.push(job);
    if (!this.running) {
      this.running = true;
      // After the publishing call returns (it is still handing the change to other sessions).
      queueMicrotask(() => void this.drain());
    }
  }

  private async drain(): Promise<void> {
    while (this.head < this.queue.length) {
      const end = Math.min(this.queue.length, this.head + GROUP);
      const group: Promise<void>[] = [];
      for (let i = this.head; i < end; i++) group.push(start(this.queue[i]!));
      this.head = end;
      if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      await Promise.race([Promise.allSettled(group), nextTurn()]);
    }
    this.queue = [];
    this.head = 0;
    this.running = false;
  }
}

function start(job: FanoutJob): Promise<void> {
  try {
    return job();
  } catch (err) {
    return Promise.reject(err);
  }
}

function nextTurn(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/** One scheduler for the process: all sessions' IDLE updates share the event loop anyway. */
export const idleFanout = new FanoutScheduler();
