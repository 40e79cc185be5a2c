// The change feed across workers: a commit's changes go to this process's listeners at once and to
// the other processes with listeners of the account over the bus (a keyed publish: a process
// wants an account's batches while it has listeners of it), where they reach those listeners (one
// array object per batch per process). subscribeAll listeners only ever see their own process's
// commits (store/change-feed.ts), so junk training runs once per change.

import { LocalChangeFeed, type AnyAccountListener, type Change, type ChangeFeed, type ChangeListener } from '../store/change-feed.js';
import type { Logger } from '../log/logger.js';
import type { ClusterBus } from './bus.js';
import { CHANGE_CHUNK_ITEMS } from './limits.js';
import { TOPIC } from './topics.js';

/** Splits a batch so that no message carries more than CHANGE_CHUNK_ITEMS UIDs or flag updates. */
export function chunkChanges(changes: Change[]): Change[][] {
  const out: Change[][] = [];
  let cur: Change[] = [];
  let items = 0;
  const push = (c: Change, n: number): void => {
    if (items + n > CHANGE_CHUNK_ITEMS && cur.length > 0) {
      out.push(cur);
      cur = [];
      items = 0;
    }
    cur.push(c);
    items += n;
  };
  for (const c of changes) {
    if (c.kind === 'append' || c.kind === 'expunge') {
      for (let i = 0; i < Math.max(1, c.uids.length); i += CHANGE_CHUNK_ITEMS) {
        const uids = c.uids.slice(i, i + CHANGE_CHUNK_ITEMS);
        push({ ...c, uids }, uids.length);
      }
    } else if (c.kind === 'flags') {
      for (let i = 0; i < Math.max(1, c.updates.length); i += CHANGE_CHUNK_ITEMS) {
        const updates = c.updates.slice(i, i + CHANGE_CHUNK_ITEMS);
        push({ ...c, updates }, updates.length);
      }
    } else {
      push(c, 1);
    }
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

export class ClusterChangeFeed implements ChangeFeed {
  private readonly local = new LocalChangeFeed();
  private readonly unsubscribe: () => void;
  /** Accounts this process has listeners of: their count, and the coordinator routing them here. */
  private readonly wanted = new Map<number, { listeners: number; routed: Promise<void> }>();

  constructor(
    private readonly bus: ClusterBus,
    private readonly log?: Logger,
  ) {
    this.unsubscribe = bus.subscribe(TOPIC.changes, (p) => {
      const m = p as { a?: unknown; c?: unknown };
      if (typeof m?.a === 'number' && Array.isArray(m.c)) this.local.deliverFromElsewhere(m.a, m.c as Change[]);
    });
  }

  subscribe(accountId: number, listener: ChangeListener): () => void {
    const off = this.local.subscribe(accountId, listener);
    const w = this.wanted.get(accountId);
    if (w) w.listeners++;
    else this.wanted.set(accountId, { listeners: 1, routed: this.route(accountId, true) });
    let done = false;
    return () => {
      if (done) return;
      done = true;
      off();
      const now = this.wanted.get(accountId);
      if (now && --now.listeners === 0) {
        this.wanted.delete(accountId);
        void this.route(accountId, false);
      }
    };
  }

  /** Resolves once other processes' commits of the account reach this process (bus.ts want). */
  subscribed(accountId: number): Promise<void> {
    return this.wanted.get(accountId)?.routed ?? Promise.resolve();
  }

  /** Never rejects: a coordinator that cannot be reached (it is going away) leaves the process
   * without other processes' changes, which it cannot get in any case. */
  private route(accountId: number, on: boolean): Promise<void> {
    return this.bus.want(TOPIC.changes, String(accountId), on).catch((err: unknown) => {
      this.log?.warn('cluster: change routing not confirmed', { account: accountId, on, err });
    });
  }

  subscribeAll(listener: AnyAccountListener): () => void {
    return this.local.subscribeAll(listener);
  }

  publish(accountId: number, changes: Change[]): void {
    if (changes.length === 0) return;
    this.local.publish(accountId, changes);
    // Keyed by account: only the processes with sessions of it receive the batch.
    for (const c of chunkChanges(changes)) this.bus.publish(TOPIC.changes, { a: accountId, c }, String(accountId));
  }

  close(): void {
    this.unsubscribe();
  }
}
