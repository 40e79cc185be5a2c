// The change feed across workers: a commit's changes go to this process's listeners at once and to
// every other process over the bus, where they reach that process's listeners of the account (one
// array object per batch per process). subscribeAll listeners only ever see their own process's
// commits (store/change-feed.ts), so junk training runs once per change.

import { LocalChangeFeed, type AnyAccountListener, type Change, type ChangeFeed, type ChangeListener } from '../store/change-feed.js';
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

  constructor(private readonly bus: ClusterBus) {
    this.unsubscribe = bus.subscribe(TOPIC.changes, (p) => {
      const m = p as { a?: unknown; c?: unknown };
      if (typeof m?.a === 'number' && Array.isArray(m.c)) this.local.deliverFromElsewhere(m.a, m.c as Change[]);
    });
  }

  subscribe(accountId: number, listener: ChangeListener): () => void {
    return this.local.subscribe(accountId, listener);
  }

  subscribeAll(listener: AnyAccountListener): () => void {
    return this.local.subscribeAll(listener);
  }

  publish(accountId: number, changes: Change[]): void {
    if (changes.length === 0) return;
    this.local.publish(accountId, changes);
    for (const c of chunkChanges(changes)) this.bus.publish(TOPIC.changes, { a: accountId, c });
  }

  close(): void {
    this.unsubscribe();
  }
}
