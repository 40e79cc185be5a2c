// Loads what FETCH and SEARCH need for a message: its content (through the store's blob interface)
// and the parsed cache. A message stored without cache (too big to parse while streaming the
// APPEND) is parsed on first use and the result written back to the store. Parsed caches are kept
// for the whole process by file id (message-cache-lru.ts); the loader holds those of its batch.
import { StoreError } from '../../store/errors.js';
import type { Store } from '../../store/types.js';
import { buildMessageCache, parseMessageCache, type MessageCache } from '../../mime/message-cache.js';
import type { ByteLru } from '../../store/byte-lru.js';
import { ImapError, no } from './errors.js';
import type { ViewMessage } from './mailbox-view.js';
import { messageCacheLru } from './message-cache-lru.js';

/**
 * A message the session still shows was expunged by another session, whose commit removed the
 * file. RFC 9051 7.5.1 lets the server answer NO [EXPUNGEISSUED] (RFC 5530 4) instead of the data.
 */
export const expungeIssued = (): ImapError => no('EXPUNGEISSUED', 'message was expunged by another session');

export function isExpungeIssued(err: unknown): boolean {
  return err instanceof ImapError && err.code === 'EXPUNGEISSUED';
}

/**
 * Contents up to this size are read when used, not ahead: the store reads them in one quick step
 * (from its database or the page cache), so overlapping them gains nothing.
 */
export const READ_AHEAD_MIN = 128 * 1024;

/** Gives the event loop a turn when `sliceMs` of work went by since the last one. */
export class Yielder {
  private last = performance.now();
  private n = 0;

  constructor(private readonly sliceMs = 5) {}

  /** Call once per message (or with the number of messages done); returns a promise only when it
   * is time to yield. */
  tick(messages = 1): Promise<void> | undefined {
    if ((this.n += messages) < 16) return undefined;
    this.n = 0;
    const now = performance.now();
    if (now - this.last < this.sliceMs) return undefined;
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        this.last = performance.now();
        resolve();
      }),
    );
  }
}

export class MessageLoader {
  /** The caches of the batch in use, by UID: the process-wide LRU may evict them meanwhile. */
  private caches = new Map<number, MessageCache>();
  /** Files being read ahead of use, by UID (see preload). */
  private reads = new Map<number, Promise<Buffer>>();
  /** UIDs of the batch whose stored row has no cache (asked once; built on use). */
  private uncached = new Set<number>();
  private readonly lru: ByteLru<number, MessageCache>;

  constructor(
    private readonly store: Store,
    private readonly mailboxId: number,
  ) {
    this.lru = messageCacheLru(store);
  }

  /** Caches for a batch of messages: from the process's LRU, the others in one store query. */
  async prefetch(msgs: readonly (ViewMessage | undefined)[]): Promise<void> {
    const want: number[] = [];
    for (const m of msgs) {
      if (!m || this.caches.has(m.uid) || this.uncached.has(m.uid)) continue;
      const c = this.lru.get(m.fileId);
      if (c) this.caches.set(m.uid, c);
      else want.push(m.uid);
    }
    if (!want.length) return;
    for (const m of await this.store.getMessages(this.mailboxId, want)) {
      const c = parseMessageCache(m.cache);
      if (!c) {
        this.uncached.add(m.uid);
        continue;
      }
      this.caches.set(m.uid, c);
      this.lru.set(m.fileId, c, m.cache!.length);
    }
  }

  private read(m: ViewMessage): Promise<Buffer> {
    return this.store.readBlob(m.fileId, m.size);
  }

  /**
   * Bytes [offset, offset + length) of the message (fewer at its end), without reading the rest:
   * partial FETCHes of big messages. Missing content as for content().
   */
  async range(m: ViewMessage, offset: number, length: number): Promise<Buffer> {
    try {
      return await this.store.readBlobRange(m.fileId, offset, length);
    } catch (err) {
      throw await this.missing(m, err);
    }
  }

  /**
   * Starts reading this message's file now, so that reads overlap (the caller bounds how many are
   * ahead); content() takes it. Errors surface in content().
   */
  preload(m: ViewMessage): void {
    if (this.reads.has(m.uid)) return;
    const p = this.read(m);
    p.catch(() => undefined);
    this.reads.set(m.uid, p);
  }

  async content(m: ViewMessage): Promise<Buffer> {
    const pre = this.reads.get(m.uid);
    if (pre) this.reads.delete(m.uid);
    try {
      return await (pre ?? this.read(m));
    } catch (err) {
      throw await this.missing(m, err);
    }
  }

  /** What a failed read means for the client: EXPUNGEISSUED when another session expunged it. */
  private async missing(m: ViewMessage, err: unknown): Promise<unknown> {
    if (!(err instanceof StoreError) || err.code !== 'contentmissing') return err;
    // Only a committed expunge explains missing content; a message still in the store without it
    // is lost data, a real server bug (NO [SERVERBUG], errors.ts).
    const still = await this.store.getMessages(this.mailboxId, [m.uid]);
    return still.some((x) => x.uid === m.uid) ? err : expungeIssued();
  }

  /** The cache: kept, else stored, else built from `content` (or the file) and stored. */
  async cache(m: ViewMessage, content?: Buffer): Promise<MessageCache> {
    const kept = this.caches.get(m.uid) ?? this.lru.get(m.fileId);
    if (kept) return kept;
    // A caller that did not prefetch: the stored cache is one row away, a parse and a write dearer.
    await this.prefetch([m]);
    const have = this.caches.get(m.uid);
    if (have) return have;
    const buf = content ?? (await this.content(m));
    const c = buildMessageCache(buf);
    const json = JSON.stringify(c);
    this.caches.set(m.uid, c);
    this.lru.set(m.fileId, c, json.length);
    // Stored for next time, not waited for: it is a cache (the store commits it with the next
    // group), and a FETCH over many uncached messages must not wait for a commit per message.
    void this.store.setMessageCache(m.id, json).catch(() => undefined);
    return c;
  }

  /** Forget a batch once written, so memory stays bounded on big FETCHes. */
  release(uids: number[]): void {
    for (const u of uids) {
      this.caches.delete(u);
      this.uncached.delete(u);
      this.reads.delete(u);
    }
  }
}

/**
 * Keeps file reads going ahead of a sequential walk over `msgs`: at most `count` files and about
 * `bytes` bytes beyond the current position, so memory stays bounded whatever the message sizes.
 */
export class ReadAhead {
  private next = 0;
  private bytes = 0;

  constructor(
    private readonly loader: MessageLoader,
    private readonly msgs: (ViewMessage | undefined)[],
    private readonly maxCount = 64,
    private readonly maxBytes = 8 * 1024 * 1024,
  ) {}

  /** Call before using msgs[i] (i ascending): starts reads up to the window from i. */
  at(i: number): void {
    if (this.next <= i) {
      this.next = i;
      this.bytes = 0;
    }
    while (this.next < this.msgs.length && (this.next === i || (this.next - i < this.maxCount && this.bytes < this.maxBytes))) {
      const m = this.msgs[this.next++];
      // Small contents are read when used (see READ_AHEAD_MIN).
      if (!m || m.size <= READ_AHEAD_MIN) continue;
      this.loader.preload(m);
      this.bytes += m.size;
    }
  }

  /** Call after msgs[i] was used. */
  done(i: number): void {
    const m = this.msgs[i];
    if (m && m.size > READ_AHEAD_MIN && i < this.next) this.bytes = Math.max(0, this.bytes - m.size);
  }
}
