// fsync shared by concurrent callers. A caller needs an fsync that *started* after its own write;
// while one runs, everyone who wrote meanwhile waits for it to end and then shares the next one.
// So N writers finishing together cost two fsyncs, not N (the classic group commit), and the fsync
// runs on libuv's thread pool, never on the event loop.

import { closeSync, constants as fsc, fsyncSync, openSync, promises as fsp } from 'node:fs';

export class SharedFsync {
  /** Writes announced (a counter) and the highest one known durable. */
  private made = 0;
  private synced = 0;
  private running: Promise<void> | null = null;

  /**
   * `path` is opened for each fsync (a file may be replaced; a directory fd is cheap to open).
   * `dataOnly`: fdatasync, for a file whose content is what matters (SQLite's WAL, as SQLite itself
   * syncs it on Linux): the data and the size are made durable, not the modification time, which
   * spares a journal commit when the file was only overwritten.
   */
  constructor(
    readonly path: string,
    private readonly onMissing?: () => Promise<void>,
    private readonly dataOnly = false,
  ) {}

  /** Resolves once an fsync that began after this call has completed; rejects if it failed. */
  async covering(): Promise<void> {
    const mine = ++this.made;
    while (this.synced < mine) {
      if (this.running) {
        // Started before our write (or failed): wait for it, then start or join the next.
        await this.running.catch(() => undefined);
        continue;
      }
      const upTo = this.made;
      this.running = this.fsyncOnce()
        .then(() => {
          this.synced = Math.max(this.synced, upTo);
        })
        .finally(() => {
          this.running = null;
        });
      await this.running;
    }
  }

  private async fsyncOnce(): Promise<void> {
    try {
      await fsyncPath(this.path, this.dataOnly);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && this.onMissing) return this.onMissing();
      throw err;
    }
  }
}

/** fsync of a file or directory by path, on the thread pool. */
export async function fsyncPath(path: string, dataOnly = false): Promise<void> {
  const fh = await fsp.open(path, fsc.O_RDONLY);
  try {
    await (dataOnly ? fh.datasync() : fh.sync());
  } finally {
    await fh.close();
  }
}

/** The same on the event loop, for rare synchronous paths; a missing file has nothing to sync. */
export function fsyncPathSync(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, fsc.O_RDONLY);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
