// The store's SQLite connection and the settings every one of them needs: one per process (each
// worker, the CLI) on the shared database file.

import Database from 'better-sqlite3';
import { WRITE_LOCK_WAIT_MS } from './write-lock.js';

/** Address space mapped for reading the database file (PRAGMA mmap_size); a larger file is read
 * beyond it by system call. */
export const SQLITE_MMAP_BYTES = 1 << 30;

export function openConnection(path: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // Commits write the WAL without fsync; GroupCommit then fsyncs the WAL file off the event loop
  // (one fsync for every commit made meanwhile) before any caller is told its write is done:
  // what synchronous=FULL guarantees, without blocking every connection on each commit's fsync.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  // The CLI and the server share the database; wait for each other's short transactions (the hot
  // write paths take the lock without this blocking wait: write-lock.ts).
  db.pragma(`busy_timeout = ${WRITE_LOCK_WAIT_MS}`);
  // Pages of the database file are read through a memory map, not a pread() each. It matters with
  // worker processes: a connection drops its whole page cache whenever another process committed
  // since its last read (SQLite cannot tell which pages changed), so without the map nearly every
  // command re-reads its pages by system call (measured under bench/imap-loadgen.ts: 9.5 preads
  // per command with two workers, 0.5 with one). Pages still in the WAL are read from it as before.
  db.pragma(`mmap_size = ${SQLITE_MMAP_BYTES}`);
  return db;
}
