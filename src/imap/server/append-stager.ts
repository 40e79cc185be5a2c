// One APPEND message on its way to the store: bytes pushed in order (a literal's chunks, or the
// pieces of a CATENATE: TEXT literals and URL contents, RFC 4469 5). A small message is gathered and
// staged as one buffer (kept in the database, INLINE_BLOB_MAX); past that it is streamed through a
// bounded channel into store.stageBlob, so it is never held whole. Up to CACHE_AT_STORE_MAX the
// bytes are also kept to build the MIME cache.
import { CACHE_AT_STORE_MAX, buildMessageCache } from '../../mime/message-cache.js';
import { messageCacheLru } from './message-cache-lru.js';
import { binaryPartsAsBase64 } from '../../mime/nul-free.js';
import { INLINE_BLOB_MAX, type StagedBlob, type Store } from '../../store/types.js';
import { ChunkChannel } from './chunk-channel.js';

export interface StagedMessage {
  blob: StagedBlob;
  cache: string | null;
}

export class AppendStager {
  private channel: ChunkChannel | null = null;
  private staging: Promise<StagedBlob> | null = null;
  private kept: Buffer[] | null = [];
  /** Bytes pushed so far. */
  size = 0;
  /** Some of the bytes came in a literal8 (`~{n}`): binary parts are stored as base64 (finish()). */
  private binary = false;

  /** `sizeHint`: the whole size when known up front (a plain literal), to stream from the start. */
  constructor(
    private readonly store: Store,
    private readonly maxSize: number,
    sizeHint?: number,
  ) {
    if (sizeHint !== undefined && sizeHint > INLINE_BLOB_MAX) this.openFile();
    if (sizeHint !== undefined && sizeHint > CACHE_AT_STORE_MAX) this.kept = null;
  }

  private openFile(): void {
    this.channel = new ChunkChannel();
    this.staging = this.store.stageBlob(this.channel, this.maxSize);
    // Kept for finish(); an early failure must not become an unhandled rejection.
    this.staging.catch(() => undefined);
  }

  markBinary(): void {
    this.binary = true;
  }

  async push(chunk: Buffer): Promise<void> {
    if (chunk.length === 0) return;
    this.size += chunk.length;
    if (!this.channel && this.size > INLINE_BLOB_MAX) {
      // Grown past what is staged inline: to a file, starting with what was gathered.
      this.openFile();
      for (const c of this.kept!) await this.channel!.push(c);
    }
    if (this.kept) {
      if (this.channel && this.size > CACHE_AT_STORE_MAX) this.kept = null;
      else this.kept.push(chunk);
    }
    if (this.channel) await this.channel.push(chunk);
  }

  /** All bytes are in: the staged blob (fsynced when a file) and the cache when it could be built. */
  async finish(onParseError: (err: unknown) => void): Promise<StagedMessage> {
    this.channel?.end();
    let whole: Buffer | null = this.kept ? Buffer.concat(this.kept) : null;
    this.kept = null;
    let staging = this.staging;
    // RFC 3516 4.4, as Dovecot: a message sent as literal8 is stored with its binary parts as
    // base64, so that BODY[], RFC822.SIZE and BODYSTRUCTURE agree on bytes a plain literal can
    // carry. Only up to CACHE_AT_STORE_MAX (the bytes kept whole); larger ones keep their NULs,
    // which BODY answers send as 0x80 (mime/nul-free.ts withoutNul).
    const converted = whole && this.binary ? binaryPartsAsBase64(whole) : whole;
    if (converted !== whole) {
      if (staging) await (await staging).discard();
      staging = null;
      whole = converted;
    }
    const blob = await (staging ?? this.store.stageBlob(whole!, Math.max(this.maxSize, whole!.length)));
    let cache: string | null = null;
    if (whole) {
      try {
        const parsed = buildMessageCache(whole);
        cache = JSON.stringify(parsed);
        // The first FETCH of the new message in this process then needs neither its row nor a
        // parse (message-cache-lru.ts; an id whose APPEND fails is never used again).
        messageCacheLru(this.store).set(blob.fileId, parsed, cache.length);
      } catch (err) {
        onParseError(err);
      }
    }
    return { blob, cache };
  }

  /** Dropped (the command failed or the connection closed): the file goes. */
  async discard(): Promise<void> {
    this.kept = null;
    if (!this.staging) return;
    this.channel?.end();
    const b = await this.staging.catch(() => null);
    if (b) await b.discard().catch(() => undefined);
  }
}
