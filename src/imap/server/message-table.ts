// The messages of a mailbox view by UID: a Map's interface over many small Maps, one per range of
// 2^SHARD_BITS UIDs. One Map of a million entries grows by copying all of them at once (the doubling
// step past 2^19 entries is tens of milliseconds in one piece, during which no other session of
// the process runs); small Maps grow in small steps. Values come in UID order as long as each range
// was filled in ascending order (a SELECT loads in UID order, new messages have higher UIDs).

const SHARD_BITS = 15;

export class MessageTable<V> {
  private readonly shards = new Map<number, Map<number, V>>();
  /** Shard numbers, ascending (for values() in UID order). */
  private order: number[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(uid: number): V | undefined {
    return this.shards.get((uid >>> SHARD_BITS))?.get(uid);
  }

  has(uid: number): boolean {
    return this.shards.get((uid >>> SHARD_BITS))?.has(uid) ?? false;
  }

  set(uid: number, value: V): this {
    const k = (uid >>> SHARD_BITS);
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
    const k = (uid >>> SHARD_BITS);
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
    return new ShardValues(this.order, this.shards);
  }

  *keys(): IterableIterator<number> {
    for (const k of this.order) {
      const shard = this.shards.get(k);
      if (shard) yield* shard.keys();
    }
  }
}

class ShardValues<V> implements IterableIterator<V> {
  private i = 0;
  private cur: Iterator<V> | null = null;

  constructor(
    private readonly order: readonly number[],
    private readonly shards: Map<number, Map<number, V>>,
  ) {}

  next(): IteratorResult<V> {
    for (;;) {
      if (this.cur) {
        const r = this.cur.next();
        if (!r.done) return r;
        this.cur = null;
      }
      if (this.i >= this.order.length) return { done: true, value: undefined };
      this.cur = this.shards.get(this.order[this.i++]!)?.values() ?? null;
    }
  }

  [Symbol.iterator](): IterableIterator<V> {
    return this;
  }
}
