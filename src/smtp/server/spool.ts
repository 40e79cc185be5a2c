// Spools: message data is kept while it is received, so that a connection never holds a big
// message in memory. Small messages (most mail) stay in memory, within a budget shared by all
// sessions: reading them back for header checks, DKIM and delivery then costs no file operations.
// Bigger ones, and any message once the budget is used up, go to a file. A spool is only a staging
// area (no fsync): the durable copies are made by the store when the message is delivered, and the
// spool is dropped at the end of the transaction either way.

import { mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { randomToken } from '../../util/random-pool.js';
import type { SourcePart } from '../../delivery/message-source.js';
import { MEMORY_SPOOL_BUDGET, MEMORY_SPOOL_MAX, STALE_SPOOL_MS } from './limits.js';

const cleaned = new Set<string>();

/** Bytes held by all in-memory spools of the process. */
let memoryInUse = 0;
export const spoolMemoryInUse = (): number => memoryInUse;

export class SpoolDir {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Leftovers of a crash, once per process and directory; files of live sessions are younger.
    if (!cleaned.has(dir)) {
      cleaned.add(dir);
      const now = Date.now();
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        try {
          if (now - statSync(p).mtimeMs > STALE_SPOOL_MS) unlinkSync(p);
        } catch {
          // gone already
        }
      }
    }
  }

  /** A new, empty spool; its file is created only if the message goes to disk. */
  create(tag: string): SpoolFile {
    return new SpoolFile(join(this.dir, `${tag}-${randomToken(6, 'hex')}`));
  }
}

export class SpoolFile {
  #size = 0;
  #error: unknown = null;
  /** In memory: the chunks so far (each a copy), counted in memoryInUse; null once on disk. */
  #mem: Buffer[] | null = [];
  #buf: Buffer | null = null;
  #fh: FileHandle | null = null;
  #onDisk = false;
  #finished = false;

  constructor(readonly path: string) {}

  get size(): number {
    return this.#size;
  }

  /** The first write error (e.g. ENOSPC); later writes are skipped so the session can read the
   * rest of the data and answer at its end. */
  get error(): unknown {
    return this.#error;
  }

  /** Whether the data is in a file (for tests and logs). */
  get onDisk(): boolean {
    return this.#onDisk;
  }

  async write(chunks: Buffer[]): Promise<void> {
    if (chunks.length === 0 || this.#error || this.#finished) return;
    let total = 0;
    for (const c of chunks) total += c.length;
    if (total === 0) return;
    if (this.#mem && this.#size + total <= MEMORY_SPOOL_MAX && memoryInUse + total <= MEMORY_SPOOL_BUDGET) {
      // A copy: the chunks may be slices of larger socket buffers, which must not be kept alive.
      this.#mem.push(Buffer.concat(chunks, total));
      memoryInUse += total;
      this.#size += total;
      return;
    }
    try {
      if (this.#mem) await this.spill();
      await this.writeFile(chunks, total);
      this.#size += total;
    } catch (err) {
      this.#error = err;
    }
  }

  /** Moves what is in memory to the file (the message outgrew memory or the budget). */
  private async spill(): Promise<void> {
    const mem = this.#mem!;
    this.#mem = null;
    this.#onDisk = true;
    const held = mem.reduce((n, b) => n + b.length, 0);
    try {
      this.#fh = await open(this.path, 'wx', 0o600);
      await this.writeFile(mem, held);
    } finally {
      memoryInUse -= held;
    }
  }

  private async writeFile(chunks: Buffer[], total: number): Promise<void> {
    let written = 0;
    let bufs = chunks;
    while (written < total) {
      const { bytesWritten } = await this.#fh!.writev(bufs);
      written += bytesWritten;
      if (written < total) bufs = [Buffer.concat(chunks).subarray(written)];
    }
  }

  /** The end of the data: closes the file, or joins the chunks in memory. */
  async finish(): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#mem) {
      this.#buf = this.#mem.length === 1 ? this.#mem[0]! : Buffer.concat(this.#mem, this.#size);
      this.#mem = null;
      return;
    }
    const fh = this.#fh;
    this.#fh = null;
    if (fh) await fh.close().catch((err) => (this.#error ??= err));
  }

  /** Bytes [start, end) of the message, for a MessageSource (after finish). */
  part(start: number, end: number): SourcePart {
    if (this.#buf) return this.#buf.subarray(start, end);
    return { path: this.path, start, end };
  }

  /** Up to `len` bytes from `start` (after finish). */
  async read(start: number, len: number): Promise<Buffer> {
    len = Math.max(0, Math.min(len, this.#size - start));
    if (this.#buf) return this.#buf.subarray(start, start + len);
    if (!this.#onDisk) return Buffer.alloc(0);
    const buf = Buffer.alloc(len);
    const fh = await open(this.path, 'r');
    try {
      let off = 0;
      while (off < len) {
        const { bytesRead } = await fh.read(buf, off, len - off, start + off);
        if (bytesRead === 0) break;
        off += bytesRead;
      }
      return buf.subarray(0, off);
    } finally {
      await fh.close();
    }
  }

  async remove(): Promise<void> {
    await this.finish();
    if (this.#buf) {
      memoryInUse -= this.#size;
      this.#buf = null;
    }
    if (this.#onDisk) await unlink(this.path).catch(() => {});
  }
}
