// Loads what FETCH and SEARCH need for a message: the content file and the parsed cache. A message
// stored without cache (too big to parse while streaming the APPEND) is parsed on first use and the
// result written back when the store supports it.
import type { Store } from '../../store/types.js';
import { buildMessageCache, parseMessageCache, type MessageCache } from '../../mime/message-cache.js';
import { ImapError, no } from './errors.js';
import type { ViewMessage } from './mailbox-view.js';

/**
 * A message the session still shows was expunged by another session, whose commit removed the
 * file. RFC 9051 7.5.1 lets the server answer NO [EXPUNGEISSUED] (RFC 5530 4) instead of the data.
 */
export const expungeIssued = (): ImapError => no('EXPUNGEISSUED', 'message was expunged by another session');

export function isExpungeIssued(err: unknown): boolean {
  return err instanceof ImapError && err.code === 'EXPUNGEISSUED';
}

/** SqliteStore has this; it is not (yet) in the Store interface. */
interface CacheWriter {
  setMessageCache?(messageId: number, cache: string): Promise<void>;
}

export class MessageLoader {
  private caches = new Map<number, MessageCache>();

  constructor(
    private readonly store: Store,
    private readonly mailboxId: number,
  ) {}

  /** Caches for a batch of UIDs (one store query). */
  async prefetch(uids: number[]): Promise<void> {
    const want = uids.filter((u) => !this.caches.has(u));
    if (!want.length) return;
    for (const m of await this.store.getMessages(this.mailboxId, want)) {
      const c = parseMessageCache(m.cache);
      if (c) this.caches.set(m.uid, c);
    }
  }

  async content(m: ViewMessage): Promise<Buffer> {
    try {
      return await this.store.readBlob(m.fileId);
    } catch (err) {
      if ((err as NodeJS.ErrnoException)?.code !== 'ENOENT') throw err;
      // Only a committed expunge explains a missing file; a message still in the store without
      // its file is lost data, a real server bug.
      const still = await this.store.getMessages(this.mailboxId, [m.uid]);
      if (still.some((x) => x.uid === m.uid)) throw err;
      throw expungeIssued();
    }
  }

  /** The cache, building it from `content` (or the file) when missing. */
  async cache(m: ViewMessage, content?: Buffer): Promise<MessageCache> {
    const have = this.caches.get(m.uid);
    if (have) return have;
    const buf = content ?? (await this.content(m));
    const c = buildMessageCache(buf);
    this.caches.set(m.uid, c);
    const writer = this.store as Store & CacheWriter;
    if (writer.setMessageCache) await writer.setMessageCache(m.id, JSON.stringify(c)).catch(() => undefined);
    return c;
  }

  /** Forget a batch once written, so memory stays bounded on big FETCHes. */
  release(uids: number[]): void {
    for (const u of uids) this.caches.delete(u);
  }
}
