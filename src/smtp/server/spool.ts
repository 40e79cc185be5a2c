// Spool files: message data is streamed to a file while it is received, so a connection never holds
// a message in memory. The file is only a staging area (no fsync): the durable copies are made by
// the store when the message is delivered, and the spool file is removed at the end of the
// transaction either way.

import { mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { STALE_SPOOL_MS } from './limits.js';

const cleaned = new Set<string>();

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

  async create(tag: string): Promise<SpoolFile> {
    const path = join(this.dir, `${tag}-${randomBytes(6).toString('hex')}`);
    const fh = await open(path, 'wx', 0o600);
    return new SpoolFile(path, fh);
  }
}

export class SpoolFile {
  #size = 0;
  #error: unknown = null;
  #fh: FileHandle | null;

  constructor(
    readonly path: string,
    fh: FileHandle,
  ) {
    this.#fh = fh;
  }

  get size(): number {
    return this.#size;
  }

  /** The first write error (e.g. ENOSPC); later writes are skipped so the session can read the
   * rest of the data and answer at its end. */
  get error(): unknown {
    return this.#error;
  }

  async write(chunks: Buffer[]): Promise<void> {
    if (chunks.length === 0 || this.#error || !this.#fh) return;
    try {
      let total = 0;
      for (const c of chunks) total += c.length;
      let written = 0;
      let bufs = chunks;
      while (written < total) {
        const { bytesWritten } = await this.#fh.writev(bufs);
        written += bytesWritten;
        if (written < total) bufs = [Buffer.concat(chunks).subarray(written)];
      }
      this.#size += total;
    } catch (err) {
      this.#error = err;
    }
  }

  /** Closes the file for writing; its content stays readable by path. */
  async finish(): Promise<void> {
    const fh = this.#fh;
    this.#fh = null;
    if (fh) await fh.close().catch((err) => (this.#error ??= err));
  }

  async remove(): Promise<void> {
    await this.finish();
    await unlink(this.path).catch(() => {});
  }
}
