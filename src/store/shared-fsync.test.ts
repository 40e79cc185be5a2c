import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SharedFsync } from './shared-fsync.js';

/** Descriptors of this process open on `path`. */
function openOn(path: string): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false;
    }
  }).length;
}

test('keepOpen: one descriptor serves every fsync until close; later fsyncs open the file each time', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'postern-fsync-'));
  try {
    const file = join(dir, 'wal');
    writeFileSync(file, 'x');
    const s = new SharedFsync(file, { dataOnly: true, keepOpen: true });
    await Promise.all(Array.from({ length: 20 }, () => s.covering()));
    assert.equal(openOn(file), 1);
    await s.covering();
    assert.equal(openOn(file), 1);
    s.close();
    await new Promise((r) => setImmediate(r));
    assert.equal(openOn(file), 0);
    await s.covering();
    assert.equal(openOn(file), 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('close during an fsync waits for it; a missing file goes to onMissing, then is opened once it exists', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'postern-fsync-'));
  try {
    const file = join(dir, 'wal');
    let missing = 0;
    const s = new SharedFsync(file, { keepOpen: true, onMissing: async () => void missing++ });
    await s.covering();
    assert.equal(missing, 1);
    writeFileSync(file, 'x');
    await s.covering();
    assert.equal(openOn(file), 1);
    const pending = s.covering();
    s.close();
    await pending;
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(openOn(file), 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
