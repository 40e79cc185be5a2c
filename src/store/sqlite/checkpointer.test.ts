// Background checkpoints (checkpointer.ts): the serving connection never checkpoints inside a
// commit, and the worker thread copies the WAL into the database file soon after the commits.
// What SQLite has copied is read from the WAL index itself (the -shm file): mxFrame, the last
// committed frame, at byte 16 of the index header; nBackfill, the last frame copied into the
// database, at byte 96 (after the header's two copies), both in native byte order.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { endianness, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SqliteStore } from './sqlite-store.js';
import { CHECKPOINT_INTERVAL_MS } from './checkpointer.js';

function walIndex(dir: string): { mxFrame: number; nBackfill: number } {
  const shm = readFileSync(join(dir, 'postern.db-shm'));
  const le = endianness() === 'LE';
  const u32 = (at: number): number => (le ? shm.readUInt32LE(at) : shm.readUInt32BE(at));
  return { mxFrame: u32(16), nBackfill: u32(96) };
}

async function fill(store: SqliteStore, n: number): Promise<void> {
  const acct = await store.createAccount('alice', 'alice@example.test');
  const inbox = (await store.getMailbox(acct.id, 'INBOX'))!;
  for (let i = 0; i < n; i++) {
    // Contents of 8 KiB, kept in the database: several WAL pages per message.
    const blob = await store.stageBlob(Buffer.from(`Subject: ${i}\r\n\r\n${'x'.repeat(8192)}\r\n`));
    await store.appendMessages(acct.id, inbox.id, [{ blob, flags: [], internalDate: new Date(), cache: null }]);
  }
}

async function withStore(backgroundCheckpoints: boolean | { intervalMs: number }, fn: (store: SqliteStore, dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'postern-ckpt-'));
  const store = await SqliteStore.open({ dir, backgroundCheckpoints });
  try {
    await fn(store, dir);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('background checkpoints: the WAL is copied into the database by the thread, soon after the commits', async () => {
  await withStore(true, async (store, dir) => {
    await fill(store, 40);
    const before = walIndex(dir);
    assert.ok(before.mxFrame > 0, 'the commits went to the WAL');
    let now = walIndex(dir);
    for (let waited = 0; now.nBackfill < now.mxFrame && waited < 20 * CHECKPOINT_INTERVAL_MS; waited += 50) {
      await sleep(50);
      now = walIndex(dir);
    }
    assert.equal(now.nBackfill, now.mxFrame, 'every committed frame is in the database file');
  });
});

test('background checkpoints: no commit checkpoints on the event loop, however large the WAL grows', async () => {
  // 300 messages of 8 KiB: well past SQLite's automatic threshold of 1,000 pages. With the thread's
  // round a minute away, nothing is copied unless a commit does it; with the automatic checkpoint
  // on, commits do (which shows the test can see it).
  // Copied: some frames backfilled, or the WAL started over (which follows a complete checkpoint).
  const after300 = async (backgroundCheckpoints: boolean | { intervalMs: number }): Promise<{ mxFrame: number; copied: boolean }> => {
    let seen = { mxFrame: 0, copied: false };
    await withStore(backgroundCheckpoints, async (store, dir) => {
      const acct = await store.createAccount('bob', 'bob@example.test');
      const inbox = (await store.getMailbox(acct.id, 'INBOX'))!;
      for (let i = 0; i < 300; i++) {
        const blob = await store.stageBlob(Buffer.from(`Subject: ${i}\r\n\r\n${'y'.repeat(8192)}\r\n`));
        await store.appendMessages(acct.id, inbox.id, [{ blob, flags: [], internalDate: new Date(), cache: null }]);
        const now = walIndex(dir);
        seen = { mxFrame: now.mxFrame, copied: seen.copied || now.nBackfill > 0 || now.mxFrame < seen.mxFrame };
      }
    });
    return seen;
  };
  const auto = await after300(false);
  assert.ok(auto.copied, `commits checkpoint by themselves: ${JSON.stringify(auto)}`);
  const background = await after300({ intervalMs: 60_000 });
  assert.ok(background.mxFrame > 1000, `the WAL grew past the automatic threshold: ${JSON.stringify(background)}`);
  assert.equal(background.copied, false, 'no commit copied the WAL');
});
