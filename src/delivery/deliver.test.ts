import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../log/logger.js';
import { buildMessageCache, CACHE_AT_STORE_MAX, parseMessageCache } from '../mime/message-cache.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { deliver } from './deliver.js';
import { MessageSource } from './message-source.js';

async function withStore(fn: (s: SqliteStore, dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'postern-deliver-'));
  const s = await SqliteStore.open({ dir, recover: true });
  try {
    await fn(s, dir);
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const content = new MessageSource([Buffer.from('Subject: hi\r\n\r\nbody\r\n')]);

test('one copy per account with Return-Path, one queue entry without', async () => {
  await withStore(async (s) => {
    const a = await s.createAccount('a', 'a@example.test');
    const b = await s.createAccount('b', 'b@example.test');
    const res = await deliver(s, { sender: 'x@remote.test', localAccounts: [a.id, b.id, a.id], remote: { accountId: a.id, recipients: ['r@remote.test'] }, content }, silentLogger);
    assert.deepEqual([...res.local.keys()], [a.id, b.id]);
    for (const acc of [a, b]) {
      const inbox = await s.getMailbox(acc.id, 'INBOX');
      const msgs = await s.listMessages(inbox!.id);
      assert.equal(msgs.length, 1);
      assert.equal((await s.readBlob(msgs[0]!.fileId)).toString(), 'Return-Path: <x@remote.test>\r\nSubject: hi\r\n\r\nbody\r\n');
    }
    const q = await s.getQueueMessage(res.queueId!);
    assert.equal((await s.readBlob(q!.fileId)).toString(), 'Subject: hi\r\n\r\nbody\r\n');
    assert.deepEqual(q!.recipients.map((r) => r.address), ['r@remote.test']);
  });
});

test('a failure while staging commits nothing and leaves no files', async () => {
  await withStore(async (s, dir) => {
    const a = await s.createAccount('a', 'a@example.test');
    const countFiles = (): number => readdirSync(join(dir, 'msg'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
    const before = countFiles();
    // The queue copy (without Return-Path) fits, the local copy does not: the first stage fails.
    await assert.rejects(deliver(s, { sender: '', localAccounts: [a.id], remote: null, content, maxSize: 10 }, silentLogger));
    const inbox = await s.getMailbox(a.id, 'INBOX');
    assert.equal((await s.listMessages(inbox!.id)).length, 0);
    assert.equal(countFiles(), before);
  });
});

test('local copies carry the MIME cache of the stored bytes; big messages are left for later', async () => {
  await withStore(async (s) => {
    const a = await s.createAccount('a', 'a@example.test');
    await deliver(s, { sender: 'x@remote.test', localAccounts: [a.id], remote: null, content }, silentLogger);
    const big = new MessageSource([Buffer.from('Subject: big\r\n\r\n'), Buffer.alloc(CACHE_AT_STORE_MAX, 'a')]);
    await deliver(s, { sender: 'x@remote.test', localAccounts: [a.id], remote: null, content: big }, silentLogger);
    const inbox = (await s.getMailbox(a.id, 'INBOX'))!.id;
    // listMessages leaves the cache out; getMessages has it.
    const msgs = await s.getMessages(inbox, (await s.listMessages(inbox)).map((m) => m.uid));
    const c = parseMessageCache(msgs[0]!.cache);
    assert.ok(c, 'small message has a cache');
    // It describes the stored copy, Return-Path included: the same as building it from the file.
    assert.deepEqual(c, JSON.parse(JSON.stringify(buildMessageCache(await s.readBlob(msgs[0]!.fileId)))));
    assert.match(JSON.stringify(c.envelope), /"hi"/);
    assert.equal(msgs[1]!.cache, null);
  });
});

test('an account over quota does not stop the others; with no copy delivered at all, overquota is thrown', async () => {
  await withStore(async (s, dir) => {
    const a = await s.createAccount('a', 'a@example.test');
    const b = await s.createAccount('b', 'b@example.test');
    await s.setQuota('b', 10);
    const big = new MessageSource([Buffer.from('Subject: big\r\n\r\n'), Buffer.alloc(100_000, 'x')]);
    const res = await deliver(s, { sender: 'x@remote.test', localAccounts: [a.id, b.id], remote: null, content: big }, silentLogger);
    assert.deepEqual([...res.local.keys()], [a.id]);
    assert.deepEqual(res.overQuota, [b.id]);
    assert.equal((await s.listMessages((await s.inboxId(b.id))!)).length, 0);
    // b's copy was a file: it is gone, only a's remains.
    const files = readdirSync(join(dir, 'msg'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
    assert.equal(files, 1);
    await assert.rejects(deliver(s, { sender: 'x@remote.test', localAccounts: [b.id], remote: null, content: big }, silentLogger), (e: Error & { code?: string }) => e.code === 'overquota');
  });
});
