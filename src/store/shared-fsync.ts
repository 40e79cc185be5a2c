// fsync shared by concurrent callers. A caller needs an fsync that *started* after its own write;
// while one runs, everyone who wrote meanwhile waits for it to end and then shares the next one.
// So N writers finishing together cost two fsyncs, not N (the classic group commit), and the fsync
// runs on libuv's thread pool, never on the event loop.

import { close, closeSync, fdatasync, constants as fsc, fsync, fsyncSync, open, openSync } from 'node:fs';

export interface SharedFsyncOptions {
  /** Called instead when `path` does not exist (yet). */
  onMissing?: () => Promise<void>;
  /**
   * fdatasync, for a file whose content is what matters (SQLite's WAL, as SQLite itself syncs it
   * on Linux): the data and the size are made durable, not the modification time, which spares a
   * journal commit when the file was only overwritten.
   */
  dataOnly?: boolean;
  /**
   * Keep the file open between fsyncs (until `close`): one thread-pool job per fsync instead of
   * three. Only for a file that is never replaced while in use, like SQLite's WAL while the
   * database is open (SQLite deletes it only when the last connection closes).
   */
  keepOpen?: boolean;
}

export class SharedFsync {
  /** Writes announced (a counter) and the highest one known durable. */
  private made = 0;
  private synced = 0;
  private running: Promise<void> | null = null;
  private fd: Promise<number> | null = null;
  private closed = false;

  /** `path` is opened for each fsync (a file may be replaced; a directory fd is cheap to open),
   * unless `keepOpen`. */
  constructor(
    readonly path: string,
    private readonly opts: SharedFsyncOptions = {},
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

  /** Closes the file kept open, once a running fsync ended; later fsyncs open it each time. */
  close(): void {
    this.closed = true;
    const fd = this.fd;
    this.fd = null;
    if (fd) void Promise.all([fd, this.running?.catch(() => undefined)]).then(([n]) => close(n, () => undefined), () => undefined);
  }

  private async fsyncOnce(): Promise<void> {
    const { dataOnly = false, keepOpen = false, onMissing } = this.opts;
    try {
      if (!keepOpen || this.closed) return await fsyncPath(this.path, dataOnly);
      // The promise is kept, not the number: close() may run while the file is being opened.
      const opening = (this.fd ??= openReadOnly(this.path));
      const fd = await opening.catch((err: unknown) => {
        if (this.fd === opening) this.fd = null;
        throw err;
      });
      await syncFd(fd, dataOnly);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && onMissing) return onMissing();
      throw err;
    }
  }
}

/** A callback-style fs call as a promise: cheaper than fs/promises' FileHandle, on a path taken
 * for every group commit. */
function callback<T>(call: (cb: (err: NodeJS.ErrnoException | null, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => call((err, value) => (err ? reject(err) : resolve(value as T))));
}

function openReadOnly(path: string): Promise<number> {
  return callback<number>((cb) => open(path, fsc.O_RDONLY, cb));
}

function syncFd(fd: number, dataOnly: boolean): Promise<void> {
  return callback<void>((cb) => (dataOnly ? fdatasync : fsync)(fd, cb));
}

/** fsync of a file or directory by path, on the thread pool. */
export async function fsyncPath(path: string, dataOnly = false): Promise<void> {
  const fd = await openReadOnly(path);
  try {
    await syncFd(fd, dataOnly);
  } finally {
    await callback<void>((cb) => close(fd, cb));
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
