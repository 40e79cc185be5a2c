// Storage quota in the SQLite store: the usage follows every change that adds or removes messages
// (kept incrementally, never summed on a check), survives a restart, is computed for existing
// messages by the migration, and the limit (the account's own or the default) is enforced by the
// transaction that adds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from './sqlite-store.js';
import { StoreError } from '../errors.js';

const msg = (n: number, size: number) => {
  const head = `Subject: test ${n}\r\n\r\n`;
  return Buffer.from(head + 'x'.repeat(size - head.length)).subarray(0, size);
};
async function* streamed(b: Buffer): AsyncGenerator<Buffer> {
  yield b;
}

/** The usage the messages add up to, the slow way the store never takes. */
function summed(s: SqliteStore, accountId: number): number {
  return (s.db.prepare('SELECT coalesce(sum(m.size), 0) AS n FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.account_id = ?').get(accountId) as { n: number }).n;
}

test('quota usage follows append, copy, move, expunge, mailbox delete and INBOX rename, and survives a restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'postern-quota-'));
  try {
    let s = await SqliteStore.open({ dir, recover: true });
    const a = await s.createAccount('alice', 'alice@example.test');
    const b = await s.createAccount('bob', 'bob@example.test');
    const inbox = (await s.getMailbox(a.id, 'INBOX'))!.id;
    const archive = (await s.getMailbox(a.id, 'Archive'))!.id;
    const check = async (expected: number) => {
      assert.equal((await s.getQuota(a.id)).used, expected);
      assert.equal(summed(s, a.id), expected);
      assert.equal((await s.getQuota(b.id)).used, 0);
    };
    // A small message kept in the database and a big one in a file.
    await s.appendMessages(a.id, inbox, [{ blob: await s.stageBlob(msg(1, 1000)), flags: [], internalDate: new Date(), cache: null }]);
    await s.appendMessages(a.id, inbox, [{ blob: await s.stageBlob(streamed(msg(2, 100_000))), flags: ['\\Deleted'], internalDate: new Date(), cache: null }]);
    await check(101_000);
    await s.copyMessages(a.id, inbox, [1, 2], archive);
    await check(202_000);
    await s.moveMessages(a.id, archive, [1], (await s.getMailbox(a.id, 'Trash'))!.id);
    await check(202_000);
    await s.expunge(a.id, inbox, null);
    await check(102_000);
    await s.deleteMailbox(a.id, 'Trash');
    await check(101_000);
    await s.renameMailbox(a.id, 'INBOX', 'Old');
    await check(101_000);
    await s.close();
    s = await SqliteStore.open({ dir, recover: true });
    await check(101_000);
    await s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('quota limit: the server default, an account\'s own, none; an append or copy over it commits nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'postern-quota-'));
  try {
    const s = await SqliteStore.open({ dir, recover: true, defaultQuota: 5000 });
    const a = await s.createAccount('alice', 'alice@example.test');
    const inbox = (await s.getMailbox(a.id, 'INBOX'))!;
    assert.deepEqual(await s.getQuota(a.id), { used: 0, limit: 5000, setting: 'default' });
    const add = async (n: number, size: number) =>
      s.appendMessages(a.id, inbox.id, [{ blob: await s.stageBlob(msg(n, size)), flags: [], internalDate: new Date(), cache: null }]);
    await add(1, 3000);
    // Up to the limit exactly is fine; one byte more is not.
    await assert.rejects(add(2, 2001), (e: StoreError) => e.code === 'overquota');
    await add(3, 2000);
    await assert.rejects(add(4, 100), (e: StoreError) => e.code === 'overquota');
    // Nothing of the refused appends is left: no row, no UID used, usage unchanged.
    assert.equal((await s.listMessages(inbox.id)).length, 2);
    assert.equal((await s.getMailbox(a.id, 'INBOX'))!.uidNext, 3);
    assert.equal((await s.getQuota(a.id)).used, 5000);
    await assert.rejects(s.copyMessages(a.id, inbox.id, [1], (await s.getMailbox(a.id, 'Archive'))!.id), (e: StoreError) => e.code === 'overquota');
    assert.equal(summed(s, a.id), 5000);

    await s.setQuota('alice', 20_000);
    assert.deepEqual(await s.getQuota(a.id), { used: 5000, limit: 20_000, setting: 20_000 });
    await s.copyMessages(a.id, inbox.id, [1], (await s.getMailbox(a.id, 'Archive'))!.id);
    await s.setQuota('alice', null);
    assert.deepEqual(await s.getQuota(a.id), { used: 8000, limit: null, setting: null });
    await add(5, 50_000);
    await s.setQuota('alice', 'default');
    assert.equal((await s.getQuota(a.id)).limit, 5000);
    await assert.rejects(s.setQuota('alice', -5), (e: StoreError) => e.code === 'invalid');
    await assert.rejects(s.setQuota('nobody', 5), (e: StoreError) => e.code === 'notfound');
    await s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the quota migration computes the usage of messages stored before it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'postern-quota-'));
  try {
    let s = await SqliteStore.open({ dir, recover: true });
    const a = await s.createAccount('alice', 'alice@example.test');
    const inbox = (await s.getMailbox(a.id, 'INBOX'))!.id;
    for (let n = 1; n <= 3; n++) await s.appendMessages(a.id, inbox, [{ blob: await s.stageBlob(msg(n, 1000 * n)), flags: [], internalDate: new Date(), cache: null }]);
    // Back to the schema before the quota columns (and the migrations after it), as a database of
    // the previous release.
    s.db.exec('DROP TABLE mta_sts_policies; DROP TABLE tls_results; DROP TABLE tls_reports; ALTER TABLE queue_messages DROP COLUMN require_tls');
    s.db.exec('ALTER TABLE accounts DROP COLUMN quota_used; ALTER TABLE accounts DROP COLUMN quota_limit; DROP TABLE message_sort_keys; ALTER TABLE mailboxes DROP COLUMN first_recent_uid; ALTER TABLE accounts DROP COLUMN hidden_capabilities');
    s.db.exec('DROP INDEX queue_recipients_leased; ALTER TABLE queue_recipients DROP COLUMN lease_owner; ALTER TABLE queue_recipients DROP COLUMN lease_until; ALTER TABLE junk_accounts DROP COLUMN version');
    s.db.pragma('user_version = 2');
    await s.close();
    s = await SqliteStore.open({ dir, recover: true });
    assert.deepEqual(await s.getQuota(a.id), { used: 6000, limit: null, setting: 'default' });
    await s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
