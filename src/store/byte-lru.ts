// A least-recently-used map bounded by an estimate of the bytes its values hold, for per-process
// caches of data that never changes for its key (message contents and parse results by file id:
// ids are never reused, see docs/scaling.md). A Map keeps insertion order: a hit moves the entry to
// the end, eviction takes from the front.

export class ByteLru<K, V> {
  private readonly map = new Map<K, { value: V; bytes: number }>();
  private used = 0;

  /**
   * @param maxBytes the bound on the sum of the entries' estimates
   * @param maxEntryBytes entries above this are not kept (one big value must not flush the rest)
   */
  constructor(
    readonly maxBytes: number,
    readonly maxEntryBytes = Math.floor(maxBytes / 8),
  ) {}

  get(key: K): V | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    this.map.delete(key);
    this.map.set(key, e);
    return e.value;
  }

  /** Keeps `value` (estimated at `bytes`), evicting the least recently used entries beyond the bound. */
  set(key: K, value: V, bytes: number): void {
    this.delete(key);
    if (bytes > this.maxEntryBytes) return;
    this.map.set(key, { value, bytes });
    this.used += bytes;
    for (const [k, e] of this.map) {
      if (this.used <= this.maxBytes) break;
      this.map.delete(k);
      this.used -= e.bytes;
    }
  }

  delete(key: K): void {
    const e = this.map.get(key);
    if (!e) return;
    this.map.delete(key);
    this.used -= e.bytes;
  }

  clear(): void {
    this.map.clear();
    this.used = 0;
  }

  /** Entries kept. */
  get size(): number {
    return this.map.size;
  }

  /** The sum of the kept entries' estimates (never above maxBytes). */
  get bytes(): number {
    return this.used;
  }
}
