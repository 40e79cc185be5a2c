// Message content files. Each file has a numeric id; ids are reserved in blocks recorded in the
// database before any file of the block is written, so that after a crash the start-up recovery only
// has to look at the ids of unfinished blocks to find orphans (files written, row never committed).
// Files are immutable; a COPY is a hard link under a new id.

import { mkdirSync, promises as fsp, constants as fsc } from 'node:fs';
import { join } from 'node:path';
import { StoreError, asStoreIoError } from './errors.js';
import { SharedFsync, fsyncPath } from './shared-fsync.js';
import type { StagedBlob } from './types.js';

const FILES_PER_DIR = 4096;

export interface BlockAllocator {
  /** Reserves [start, end) durably (committed) before any file in it is written. */
  reserveBlock(size: number): { start: number; end: number };
}

export class BlobFiles {
  private next = 0;
  private end = 0;
  private readonly dirsKnown = new Set<number>();
  private readonly dirSync = new Map<string, SharedFsync>();

  constructor(
    readonly root: string,
    private readonly allocator: BlockAllocator,
    private readonly blockSize = 256,
  ) {
    mkdirSync(root, { recursive: true });
  }

  path(fileId: number): string {
    return join(this.root, String(Math.floor(fileId / FILES_PER_DIR)), String(fileId));
  }

  /** A new id from the file id space (also used for blobs kept in the database). */
  allocateId(): number {
    if (this.next >= this.end) {
      const block = this.allocator.reserveBlock(this.blockSize);
      this.next = block.start;
      this.end = block.end;
    }
    return this.next++;
  }

  private async ensureDir(fileId: number): Promise<string> {
    const n = Math.floor(fileId / FILES_PER_DIR);
    const dir = join(this.root, String(n));
    if (!this.dirsKnown.has(n)) {
      await fsp.mkdir(dir, { recursive: true });
      await fsyncPath(this.root);
      this.dirsKnown.add(n);
    }
    return dir;
  }

  /** Writes the content, fsyncs file and directory. `maxSize` is enforced while streaming. */
  async stage(content: Buffer | AsyncIterable<Buffer>, maxSize = Infinity): Promise<StagedBlob> {
    const fileId = this.allocateId();
    const dir = await this.ensureDir(fileId);
    const path = this.path(fileId);
    let size = 0;
    let fh: fsp.FileHandle | undefined;
    try {
      fh = await fsp.open(path, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
      if (Buffer.isBuffer(content)) {
        if (content.length > maxSize) throw new StoreError('toobig', 'message too large');
        await fh.writeFile(content);
        size = content.length;
      } else {
        for await (const chunk of content) {
          size += chunk.length;
          if (size > maxSize) throw new StoreError('toobig', 'message too large');
          await fh.write(chunk);
        }
      }
      // The data and the directory entry (made by open) are fsynced concurrently: both are done
      // before the caller may commit a row that references the file.
      await Promise.all([fh.sync(), this.syncEntry(dir)]);
      await fh.close();
      fh = undefined;
    } catch (err) {
      await fh?.close().catch(() => {});
      await fsp.unlink(path).catch(() => {});
      throw asStoreIoError(err);
    }
    return this.staged(fileId, size);
  }

  /** A new id for the same content (hard link), made durable like a staged file. */
  async link(fileId: number): Promise<StagedBlob> {
    const newId = this.allocateId();
    const dir = await this.ensureDir(newId);
    try {
      await fsp.link(this.path(fileId), this.path(newId));
      await this.syncEntry(dir);
    } catch (err) {
      await fsp.unlink(this.path(newId)).catch(() => {});
      throw asStoreIoError(err);
    }
    const st = await fsp.stat(this.path(newId));
    return this.staged(newId, st.size);
  }

  /** Makes a new directory entry durable; concurrent stagers share the directory's fsyncs. */
  private async syncEntry(dir: string): Promise<void> {
    let sync = this.dirSync.get(dir);
    if (!sync) this.dirSync.set(dir, (sync = new SharedFsync(dir)));
    await sync.covering();
  }

  private staged(fileId: number, size: number): StagedBlob {
    return {
      fileId,
      size,
      discard: async () => {
        await fsp.unlink(this.path(fileId)).catch(() => {});
      },
    };
  }

  async read(fileId: number): Promise<Buffer> {
    return fsp.readFile(this.path(fileId));
  }

  /** Removes files whose rows are committed as gone. Missing files are fine (a repeated removal). */
  async remove(fileIds: number[]): Promise<void> {
    for (const id of fileIds) {
      await fsp.unlink(this.path(id)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
  }

  /** Start-up recovery: files in [start, end) that no row references are orphans of a crash. */
  async removeOrphans(start: number, end: number, isReferenced: (fileId: number) => boolean): Promise<number> {
    let removed = 0;
    for (let id = start; id < end; id++) {
      if (isReferenced(id)) continue;
      try {
        await fsp.unlink(this.path(id));
        removed++;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    return removed;
  }
}
