// The store's read interface for message contents (Store.readBlob, readBlobRange, blobChunks,
// setMessageCache, messageSummaryPage, chunked expunge): the same answers for contents kept in the
// database and in files, and a missing content as StoreError 'contentmissing', never a raw ENOENT.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from './sqlite-store.js';
import { INLINE_BLOB_MAX, type MessageSummary } from '../types.js';
import { StoreError } from '../errors.js';
import type { Change } from '../change-feed.js';

async function withStore(fn: (s: SqliteStore) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'postern-blob-read-'));
  const s = await SqliteStore.open({ dir, recover: true });
  try {
    await fn(s);
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Distinct bytes at every offset, so that a range read from the wrong place shows. */
function content(size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + (i >> 8)) & 0xff;
  return b;
}

async function collect(it: AsyncIterable<Buffer>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const b of it) out.push(b);
  return out;
}

const missing = (e: unknown): boolean => e instanceof StoreError && e.code === 'contentmissing';

test('readBlob, readBlobRange and blobChunks give the same bytes for inline, file and big file contents', async () => {
  await withStore(async (s) => {
    const a = await s.createAccount('alice', 'alice@example.test');
    const inbox = (await s.getMailbox(a.id, 'INBOX'))!;
    // Inline (kept in the database), a file read synchronously, a file read through the thread pool.
    const sizes = [1000, INLINE_BLOB_MAX + 10, 300 * 1024];
    const bodies = sizes.map(content);
    const blobs = await Promise.all(bodies.map((b) => s.stageBlob(b)));
    assert.ok(blobs[0]!.inline && !blobs[1]!.inline && !blobs[2]!.inline);
    const r = await s.appendMessages(a.id, inbox.id, blobs.map((blob) => ({ blob, flags: [], internalDate: new Date(), cache: null })));
    const metas = await s.getMessages(inbox.id, r.uids);
    for (let i = 0; i < metas.length; i++) {
      const m = metas[i]!;
      const body = bodies[i]!;
      assert.deepEqual(await s.readBlob(m.fileId), body);
      assert.deepEqual(await s.readBlob(m.fileId, m.size), body);
      // A wrong size hint (a caller's mistake) still gives the whole content.
      assert.deepEqual(await s.readBlob(m.fileId, m.size - 7), body);
      assert.deepEqual(await s.readBlobRange(m.fileId, 0, 10), body.subarray(0, 10));
      assert.deepEqual(await s.readBlobRange(m.fileId, 517, 1234), body.subarray(517, 517 + 1234));
      // Past the end: what there is; a huge length allocates no more than that.
      assert.deepEqual(await s.readBlobRange(m.fileId, body.length - 5, 2 ** 32), body.subarray(body.length - 5));
      assert.equal((await s.readBlobRange(m.fileId, body.length + 100, 10)).length, 0);
      assert.equal((await s.readBlobRange(m.fileId, 3, 0)).length, 0);
      const pieces = await collect(s.blobChunks(m.fileId, 4096));
      assert.ok(pieces.every((p) => p.length <= 4096 && p.length > 0));
      assert.deepEqual(Buffer.concat(pieces), body);
    }
  });
});

test('a missing content file is StoreError contentmissing for every read', async () => {
  await withStore(async (s) => {
    const a = await s.createAccount('alice', 'alice@example.test');
    const inbox = (await s.getMailbox(a.id, 'INBOX'))!;
    const blob = await s.stageBlob(content(INLINE_BLOB_MAX + 1));
    const r = await s.appendMessages(a.id, inbox.id, [{ blob, flags: [], internalDate: new Date(), cache: null }]);
    const [m] = await s.getMessages(inbox.id, r.uids);
    unlinkSync(s.blobPath(m!.fileId));
    await assert.rejects(s.readBlob(m!.fileId), missing);
    await assert.rejects(s.readBlob(m!.fileId, m!.size), missing);
    await assert.rejects(s.readBlobRange(m!.fileId, 0, 100), missing);
    await assert.rejects(s.readBlobRange(m!.fileId, 0, 0), missing);
    await assert.rejects(collect(s.blobChunks(m!.fileId)), missing);
  });
});

/** Counts the database reads of inline contents (the SQL of SqliteStore.inlineBlob). */
function countInlineReads(s: SqliteStore): { n: number } {
  const count = { n: 0 };
  const prepare = s.db.prepare.bind(s.db);
  s.db.prepare = ((sql: string) => {
    if (sql.includes('FROM blob_inline')) count.n++;
    return prepare(sql);
  }) as typeof s.db.prepare;
  return count;
}

test('an inline content is read from the database once, then from the process cache; an expunge here drops it', async () => {
  await withStore(async (s) => {
    const a = await s.createAccount('alice', 'alice@example.test');
    const inbox = (await s.getMailbox(a.id, 'INBOX'))!;
    const body = content(5000);
    const r = await s.appendMessages(a.id, inbox.id, [{ blob: await s.stageBlob(body), flags: [], internalDate: new Date(), cache: null }]);
    const [m] = await s.getMessages(inbox.id, r.uids);
    const reads = countInlineReads(s);
    assert.deepEqual(await s.readBlob(m!.fileId, m!.size), body);
    assert.equal(reads.n, 1);
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(await s.readBlob(m!.fileId, m!.size), body);
      assert.deepEqual(await s.readBlobRange(m!.fileId, 100, 50), body.subarray(100, 150));
      assert.deepEqual(Buffer.concat(await collect(s.blobChunks(m!.fileId, 1024))), body);
    }
    assert.equal(reads.n, 1);
    // Expunged by this process: the content is gone for its readers too, as a file's would be.
    await s.expunge(a.id, inbox.id, r.uids);
    await assert.rejects(s.readBlob(m!.fileId, m!.size), missing);
    await assert.rejects(s.readBlobRange(m!.fileId, 0, 10), missing);
  });
});

test('an inline content expunged by another process may still be read here (immutable, never reused ids)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'postern-blob-read-'));
  const s = await SqliteStore.open({ dir, recover: true });
  const other = await SqliteStore.open({ dir });
  try {
    const a = await s.createAccount('alice', 'alice@example.test');
    const inbox = (await s.getMailbox(a.id, 'INBOX'))!;
    const body = content(3000);
    const r = await s.appendMessages(a.id, inbox.id, [{ blob: await s.stageBlob(body), flags: [], internalDate: new Date(), cache: null }]);
    const [m] = await s.getMessages(inbox.id, r.uids);
    assert.deepEqual(await s.readBlob(m!.fileId), body);
    await other.expunge(a.id, inbox.id, r.uids);
    // RFC 9051 7.5.1: a session that still shows the message may be given its data.
    assert.deepEqual(await s.readBlob(m!.fileId), body);
    await assert.rejects(other.readBlob(m!.fileId), missing);
  } finally {
    await s.close();
    await other.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('setMessageCache is part of the interface: the cache and its sort keys are stored', async () => {
  await withStore(async (s) => {
    const a = await s.createAccount('alice', 'alice@example.test');
    const inbox = (await s.getMailbox(a.id, 'INBOX'))!;
    const r = await s.appendMessages(a.id, inbox.id, [{ blob: await s.stageBlob(content(100)), flags: [], internalDate: new Date(), cache: null }]);
    const [m] = await s.getMessages(inbox.id, r.uids);
    await s.setMessageCache(m!.id, JSON.stringify({ sort: { subject: 'x' } }));
    assert.equal((await s.getMessages(inbox.id, r.uids))[0]!.cache, JSON.stringify({ sort: { subject: 'x' } }));
    const keys: [number, string | null][] = [];
    await s.forEachMessageSortKeys(inbox.id, 0, 10, (uid, k) => keys.push([uid, k]));
    assert.deepEqual(keys, [[m!.uid, JSON.stringify({ subject: 'x' })]]);
  });
});

test('messageSummaryPage pages by UID between bounds; a long expunge commits in chunks, each published', async () => {
  await withStore(async (s) => {
    const a = await s.createAccount('alice', 'alice@example.test');
    const inbox = (await s.getMailbox(a.id, 'INBOX'))!;
    const blobs = await Promise.all(Array.from({ length: 2500 }, (_, i) => s.stageBlob(content(50 + (i % 7)))));
    const r = await s.appendMessages(a.id, inbox.id, blobs.map((blob) => ({ blob, flags: [], internalDate: new Date(), cache: null })));
    const seen: number[] = [];
    let after = 0;
    for (;;) {
      const page: MessageSummary[] = [];
      const n = await s.messageSummaryPage(inbox.id, after, 2001, 700, (m) => page.push(m));
      assert.equal(n, page.length);
      for (const m of page) seen.push(m.uid);
      if (n < 700) break;
      after = page[page.length - 1]!.uid;
    }
    assert.deepEqual(seen, r.uids.slice(0, 2000));

    const batches: Change[][] = [];
    s.changes.subscribe(a.id, (c) => batches.push(c));
    const e = await s.expunge(a.id, inbox.id, r.uids.slice(0, 2500));
    assert.deepEqual(e.uids, r.uids);
    const expunges = batches.flat().filter((c): c is Extract<Change, { kind: 'expunge' }> => c.kind === 'expunge');
    assert.ok(expunges.length >= 3, `expunged in ${expunges.length} transactions`);
    assert.deepEqual(expunges.flatMap((c) => c.uids).sort((x, y) => x - y), r.uids);
    assert.equal(e.modseq, Math.max(...expunges.map((c) => c.modseq)));
    assert.equal((await s.getMailbox(a.id, 'INBOX'))!.highestModseq, e.modseq);
    assert.equal((await s.mailboxCounts(inbox.id)).messages, 0);
  });
});

test('a flag change of many messages commits in chunks, each published with its own MODSEQ', async () => {
  await withStore(async (s) => {
    const a = await s.createAccount('alice', 'alice@example.test');
    const inbox = (await s.getMailbox(a.id, 'INBOX'))!;
    const blobs = await Promise.all(Array.from({ length: 4500 }, (_, i) => s.stageBlob(content(40 + (i % 5)))));
    const r = await s.appendMessages(a.id, inbox.id, blobs.map((blob) => ({ blob, flags: [], internalDate: new Date(), cache: null })));
    const batches: Change[][] = [];
    s.changes.subscribe(a.id, (c) => batches.push(c));
    const f = await s.storeFlags(a.id, inbox.id, r.uids, 'add', ['\\Seen']);
    assert.deepEqual(f.updated.map((u) => u.uid), r.uids);
    const flagChanges = batches.flat().filter((c): c is Extract<Change, { kind: 'flags' }> => c.kind === 'flags');
    assert.ok(flagChanges.length >= 3, `changed in ${flagChanges.length} transactions`);
    assert.deepEqual(flagChanges.flatMap((c) => c.updates.map((u) => u.uid)), r.uids);
    assert.equal(new Set(f.updated.map((u) => u.modseq)).size, flagChanges.length);
    assert.equal((await s.mailboxCounts(inbox.id)).unseen, 0);
  });
});
