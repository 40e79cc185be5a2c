// Checkpoints off the event loop. SQLite's automatic checkpoint (every 1,000 WAL pages) runs inside
// the commit that crosses the threshold: two fsyncs (WAL, then database file) and a copy of the
// WAL's pages, on the event loop of the committing process, holding all its sessions for
// milliseconds several times a second under load. Serving connections turn it off
// (wal_autocheckpoint = 0) and a worker thread with its own connection runs a PASSIVE checkpoint
// every CHECKPOINT_INTERVAL_MS instead: it never blocks a writer or a reader, and the next writer
// after a complete checkpoint starts the WAL over, so the WAL stays as small as before. Worker
// processes each run one; concurrent checkpoints of one database are serialized by SQLite (the
// second finds the checkpoint lock taken and tries again next round).
import { Worker } from 'node:worker_threads';
import type { CheckpointWorkerData } from './checkpoint-worker.js';

/** How often the checkpointer looks for committed pages to copy. The WAL holds at most about this
 * long's worth of commits beyond what readers still need. */
export const CHECKPOINT_INTERVAL_MS = 200;

export class Checkpointer {
  private readonly state = new Int32Array(new SharedArrayBuffer(12));
  private readonly worker: Worker;
  private stopped: Promise<void> | null = null;

  constructor(path: string, intervalMs = CHECKPOINT_INTERVAL_MS) {
    const data: CheckpointWorkerData = { path, intervalMs, shared: this.state.buffer as SharedArrayBuffer };
    this.worker = new Worker(new URL('./checkpoint-worker.js', import.meta.url), { workerData: data });
    // A thread that sleeps most of the time must not keep the process alive.
    this.worker.unref();
    this.worker.on('error', () => undefined);
  }

  /** Checkpoint rounds run and failed (busy), for tests and diagnosis. */
  get rounds(): { done: number; failed: number } {
    return { done: Atomics.load(this.state, 1), failed: Atomics.load(this.state, 2) };
  }

  /** Stops the thread (it closes its connection) and waits for it to end. */
  stop(): Promise<void> {
    this.stopped ??= new Promise<void>((resolve) => {
      this.worker.once('exit', () => resolve());
      // Held by the wait for its exit, which otherwise would not keep the process alive.
      this.worker.ref();
      Atomics.store(this.state, 0, 1);
      Atomics.notify(this.state, 0);
    });
    return this.stopped;
  }
}
