// Worker thread of the background checkpointer (checkpointer.ts): its own connection to the
// database copies the WAL's committed pages into the database file now and then. A checkpoint
// fsyncs the WAL and then the database file, and copies up to thousands of pages: run by SQLite's
// automatic checkpoint, that work would happen inside some commit, on the event loop of whichever
// process made it, holding every session of that process for milliseconds.
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

export interface CheckpointWorkerData {
  path: string;
  intervalMs: number;
  /** Int32Array over a SharedArrayBuffer: [0] stop flag, [1] checkpoints done, [2] failures. */
  shared: SharedArrayBuffer;
}

const { path, intervalMs, shared } = workerData as CheckpointWorkerData;
const state = new Int32Array(shared);
const db = new Database(path);
// A checkpoint never waits for a lock on this thread's behalf: PASSIVE does what it can now.
db.pragma('busy_timeout = 0');
db.pragma('wal_autocheckpoint = 0');
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');

// Sleeps on the stop flag, so stop() wakes the thread at once.
while (Atomics.wait(state, 0, 0, intervalMs) === 'timed-out') {
  try {
    // Nothing new since the last one: SQLite returns without any I/O.
    checkpoint.run();
    Atomics.add(state, 1, 1);
  } catch {
    // Busy (another process checkpoints, or recovery runs): the next round retries.
    Atomics.add(state, 2, 1);
  }
}
db.close();
parentPort?.postMessage('stopped');
