// COMPRESS=DEFLATE (RFC 4978): raw deflate (RFC 1951) in both directions, between the socket (TLS
// or plain) and the IMAP reader and writer. RFC 4978 3: compression sits under TLS, so the
// compressed bytes are what the TLS socket encrypts.
//
// Memory per connection (figures in docs/imap-compress.md):
// - Inflate keeps the client's window (15 bits: any client's) for the whole session.
// - Deflate uses a small window and hash (proto/limits.ts) and exists only while responses are
//   written: COMPRESS_DEFLATE_RELEASE_MS after its last flush it is freed, and the next response
//   starts a new one. A raw deflate stream cut after a sync flush ends on a byte-aligned block
//   boundary with no final block, so the client's inflater reads the new stream's blocks as the
//   continuation of the old one (they just never refer back to the old data).
// Output is flushed (Z_SYNC_FLUSH) once per burst: the connection calls flush() before it waits
// for the client, never per write, so a FETCH of many messages compresses as one stream.
// Input is inflated COMPRESS_CHUNK bytes at a step into the connection's reader; the connection
// pauses the inflater with the socket at the reader's high-water mark, so a small input that
// inflates hugely (a decompression bomb) meets the reader's line and literal limits, not memory.
import type { Socket } from 'node:net';
import { constants, createDeflateRaw, createInflateRaw, type DeflateRaw, type InflateRaw } from 'node:zlib';
import {
  COMPRESS_CHUNK,
  COMPRESS_DEFLATE_LEVEL,
  COMPRESS_DEFLATE_MEM_LEVEL,
  COMPRESS_DEFLATE_RELEASE_MS,
  COMPRESS_DEFLATE_WINDOW_BITS,
  COMPRESS_INFLATE_CHUNK,
  COMPRESS_INFLATE_WINDOW_BITS,
} from '../proto/limits.js';

export interface CompressHost {
  /** Inflated client bytes, in order. */
  plain(data: Buffer): void;
  /** The client's data is not a valid deflate stream. */
  failed(err: Error): void;
}

export class CompressLayer {
  private deflater: DeflateRaw | null = null;
  private readonly inflater: InflateRaw;
  /** Written since the last flush. */
  private dirty = false;
  private flushQueued = false;
  /** Flushes handed to zlib and not done yet. */
  private flushing = 0;
  private releaseTimer: NodeJS.Timeout | null = null;
  private destroyed = false;

  constructor(
    private readonly sock: Socket,
    private readonly host: CompressHost,
  ) {
    this.inflater = createInflateRaw({ windowBits: COMPRESS_INFLATE_WINDOW_BITS, chunkSize: COMPRESS_INFLATE_CHUNK });
    this.inflater.on('data', (d: Buffer) => {
      if (!this.destroyed) host.plain(d);
    });
    this.inflater.on('error', (err) => {
      if (!this.destroyed) host.failed(err);
    });
    // Free the zlib state when the connection is gone, however it ended.
    sock.once('close', () => this.destroy());
  }

  /** Compressed bytes from the client. */
  input(data: Buffer): void {
    if (!this.destroyed) this.inflater.write(data);
  }

  pauseInput(): void {
    this.inflater.pause();
  }

  resumeInput(): void {
    this.inflater.resume();
  }

  /** Queues response bytes; false when the caller should wait for drained() (back-pressure). */
  write(data: Buffer | string): boolean {
    if (this.destroyed) return true;
    if (this.releaseTimer) {
      clearTimeout(this.releaseTimer);
      this.releaseTimer = null;
    }
    this.dirty = true;
    return this.openDeflater().write(data);
  }

  /** Resolves when the deflater takes writes again (or is gone). */
  drained(): Promise<void> {
    const d = this.deflater;
    if (!d || !d.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        d.off('drain', done);
        d.off('close', done);
        resolve();
      };
      d.on('drain', done);
      d.on('close', done);
    });
  }

  /** Whether a write now would have to wait (for best-effort writes such as BYE). */
  get needDrain(): boolean {
    return this.deflater?.writableNeedDrain === true || this.sock.writableNeedDrain;
  }

  /**
   * Ends the burst: everything written so far reaches the client (RFC 4978 4: Z_SYNC_FLUSH).
   * `release`: the session goes quiet (IDLE), so the deflate state is freed as soon as its output
   * is out, not after COMPRESS_DEFLATE_RELEASE_MS.
   */
  flush(release = false): void {
    const d = this.deflater;
    if (!this.dirty || !d || this.destroyed) return;
    this.dirty = false;
    this.flushing++;
    d.flush(constants.Z_SYNC_FLUSH, () => {
      this.flushing--;
      if (release) this.release();
      else this.armRelease();
    });
  }

  /** flush() once the current burst of writes is over (writes made while no command runs). */
  flushSoon(release = false): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    setImmediate(() => {
      this.flushQueued = false;
      this.flush(release);
    });
  }

  /** Final block after everything written, then `done` (the caller ends the socket). */
  end(done: () => void): void {
    const d = this.deflater;
    if (!d || this.destroyed) return done();
    this.dirty = false;
    d.once('end', done);
    d.end();
  }

  /** Frees both zlib states at once. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.releaseTimer) clearTimeout(this.releaseTimer);
    this.releaseTimer = null;
    this.deflater?.close();
    this.deflater = null;
    this.inflater.close();
  }

  /** Whether a deflate state is allocated now (tests and memory figures). */
  get deflating(): boolean {
    return this.deflater !== null;
  }

  private openDeflater(): DeflateRaw {
    if (this.deflater) return this.deflater;
    const d = createDeflateRaw({
      windowBits: COMPRESS_DEFLATE_WINDOW_BITS,
      memLevel: COMPRESS_DEFLATE_MEM_LEVEL,
      level: COMPRESS_DEFLATE_LEVEL,
      chunkSize: COMPRESS_CHUNK,
    });
    d.on('data', (c: Buffer) => {
      if (this.sock.destroyed || this.sock.write(c)) return;
      // The socket's buffer is full: stop compressing until it drains, so our writes wait too.
      d.pause();
      const go = (): void => {
        this.sock.off('drain', go);
        this.sock.off('close', go);
        d.resume();
      };
      this.sock.on('drain', go);
      this.sock.on('close', go);
    });
    d.on('error', (err) => this.host.failed(err));
    this.deflater = d;
    return d;
  }

  private armRelease(): void {
    if (this.destroyed || this.dirty || this.flushing > 0 || this.releaseTimer) return;
    this.releaseTimer = setTimeout(() => this.release(), COMPRESS_DEFLATE_RELEASE_MS);
    this.releaseTimer.unref();
  }

  private release(): void {
    if (this.releaseTimer) clearTimeout(this.releaseTimer);
    this.releaseTimer = null;
    const d = this.deflater;
    if (!d || this.destroyed || this.dirty || this.flushing > 0) return;
    // Output still waiting for the socket: try again later.
    if (d.writableLength > 0 || d.readableLength > 0 || d.isPaused()) return this.armRelease();
    this.deflater = null;
    d.close();
  }
}
