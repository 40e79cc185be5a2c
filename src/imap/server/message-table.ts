// The messages of a mailbox view by UID: a Map's interface over many small Maps, one per range of
// SHARD_UIDS UIDs. One Map of a million entries grows by copying all of them at once (the doubling
// step past 2^19 entries is tens of milliseconds in one piece, during which no other session of
// the process runs); small Maps grow in small steps. Values come in UID order as long as each range
// was filled in ascending order (a SELECT loads in UID order, new messages have higher UIDs).

const SHARD_BITS = 15;
const SHARD_UIDS = 1 << SHARD_BITS;

export class MessageTable<V> {
  private readonly shards = new Map<number, Map<number, V>>();
  /** Shard numbers, ascending (for values() in UID order). */
  private order: number[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(uid: number): V | undefined {
    return this.shards.get(Math.floor(uid / SHARD_UIDS))?.get(uid);
  }

  has(uid: number): boolean {
    return this.shards.get(Math.floor(uid / SHARD_UIDS))?.has(uid) ?? false;
  }

  set(uid: number, value: V): this {
    const k = Math.floor(uid / SHARD_UIDS);
    let shard = this.shards.get(k);
    if (!shard) {
      this.shards.set(k, (shard = new Map()));
      const last = this.order[this.order.length - 1];
      this.order.push(k);
      if (last !== undefined && last > k) this.order.sort((a, b) => a - b);
    }
    const before = shard.size;
    shard.set(uid, value);
    this.count += shard.size - before;
    return this;
  }

  delete(uid: number): boolean {
    const k = Math.floor(uid / SHARD_UIDS);
    const shard = this.shards.get(k);
    if (!shard?.delete(uid)) return false;
    this.count--;
    if (shard.size === 0) {
      this.shards.delete(k);
      this.order = this.order.filter((x) => x !== k);
    }
    return true;
  }

  /** A plain iterator over the shards' own (not a generator: FETCH 1:* walks a million values). */
  values(): IterableIterator<V> {
    const { order, shards } = this;
    let i = 0;
    let cur: Iterator<V> | null = null;
    const it: IterableIterator<V> = {
      next(): IteratorResult<V> {
        for (;;) {
          if (cur) {
            const r = cur.next();
            if (!r.done) return r;
            cur = null;
          }
          if (i >= order.length) return { done: true, value: undefined };
          cur = shards.get(order[i++]!)?.values() ?? null;
        }
      },
      [Symbol.iterator]: () => it,
    };
    return it;
  }

  *keys(): IterableIterator<number> {
    for (const k of this.order) {
      const shard = this.shards.get(k);
      if (shard) yield* shard.keys();
    }
  }
}
