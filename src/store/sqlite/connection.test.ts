import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SQLITE_MMAP_BYTES, openConnection } from './connection.js';
import { WRITE_LOCK_WAIT_MS } from './write-lock.js';

test('a store connection: WAL, the busy wait for synchronous paths, and reads through a memory map', () => {
  const dir = mkdtempSync(join(tmpdir(), 'postern-conn-'));
  const db = openConnection(join(dir, 'postern.db'));
  try {
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('busy_timeout', { simple: true }), WRITE_LOCK_WAIT_MS);
    // mmap_size reads back as the map in use (0 where SQLite was built without it).
    assert.equal(db.pragma('mmap_size', { simple: true }), SQLITE_MMAP_BYTES);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
