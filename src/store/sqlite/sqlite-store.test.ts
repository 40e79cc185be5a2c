import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from './sqlite-store.js';
import { INLINE_BLOB_MAX } from '../types.js';
import { StoreError } from '../errors.js';
import type { Change } from '../change-feed.js';

async function withStore(fn: (s: SqliteStore, dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'postern-store-'));
  const s = await SqliteStore.open({ dir, recover: true });
  try {
    await fn(s, dir);
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const msg = (n: number) => Buffer.from(`Subject: test ${n}\r\nMessage-ID: <${n}@test>\r\n\r\nbody ${n}\r\n`);
/** The same content as a stream: always staged as a file (a buffer this small is kept inline). */
async function* streamed(b: Buffer): AsyncGenerator<Buffer> {
  yield b;
}

async function append(s: SqliteStore, accountId: number, mailboxId: number, n: number, flags: string[] = []) {
  const blob = await s.stageBlob(streamed(msg(n)));
  return s.appendMessages(accountId, mailboxId, [{ blob, flags, internalDate: new Date(), cache: null }]);
}

test('accounts: create with default mailboxes, duplicates and bad input refused, nothing half-done', async () => {
  await withStore(async (s) => {
    const a = await s.createAccount('alice', 'Alice@Example.TEST');
    assert.equal((await s.lookupAddress('alice@example.test'))?.accountId, a.id);
    assert.equal((await s.lookupAddress('ALICE@example.test'))?.accountName, 'alice');
    assert.equal(await s.inboxId(a.id), (await s.getMailbox(a.id, 'INBOX'))!.id);
    assert.equal(await s.inboxId(a.id + 1000), null);
    const names = (await s.listMailboxes(a.id)).map((m) => [m.name, m.specialUse, m.subscribed]);
    assert.deepEqual(names.sort(), [
      ['Archive', '\\Archive', true], ['Drafts', '\\Drafts', true], ['INBOX', null, true],
      ['Junk', '\\Junk', true], ['Sent', '\\Sent', true], ['Trash', '\\Trash', true],
    ]);
    await assert.rejects(s.createAccount('alice', 'other@example.test'), (e: StoreError) => e.code === 'exists');
    await assert.rejects(s.createAccount('bob', 'alice@example.test'), (e: StoreError) => e.code === 'exists');
    // The failed createAccount left no account "bob" behind (one transaction).
    assert.equal(await s.getAccount('bob'), null);
    for (const bad of ['no-at-sign', '@example.test', 'a@', 'a..b@example.test', 'a b@example.test', 'a@exa mple.test', 'a@-x.test']) {
      await assert.rejects(s.createAccount('carol', bad), (e: StoreError) => e.code === 'invalid', bad);
    }
    await assert.rejects(s.createAccount('bad name', 'c@example.test'), (e: StoreError) => e.code === 'invalid');
    assert.equal(await s.getAccount('carol'), null);
    await s.addAddress('alice', 'al@other.test');
    assert.equal(await s.isLocalDomain('other.test'), true);
    await assert.rejects(s.addAddress('nobody', 'x@example.test'), (e: StoreError) => e.code === 'notfound');
    await s.removeAddress('al@other.test');
    await assert.rejects(s.removeAddress('alice@example.test'), (e: StoreError) => e.code === 'invalid'); // last address
  });
});

test('recipient lookup: our domain and the address in one answer', async () => {
  await withStore(async (s) => {
    const a = await s.createAccount('alice', 'alice@example.test');
    assert.deepEqual(await s.lookupRecipient('ALICE@example.test', 'example.test'), { localDomain: true, address: { address: 'alice@example.test', accountId: a.id, accountName: 'alice' } });
    assert.deepEqual(await s.lookupRecipient('bob@example.test', 'EXAMPLE.test'), { localDomain: true, address: null });
    // A local part the store cannot hold is nobody's, and the domain is still ours.
    assert.deepEqual(await s.lookupRecipient('"a b"@example.test', 'example.test'), { localDomain: true, address: null });
    assert.deepEqual(await s.lookupRecipient('alice@other.test', 'other.test'), { localDomain: false, address: null });
  });
});

test('credentials and auth generation', async () => {
  await withStore(async (s) => {
    const a = await s.createAccount('alice', 'alice@example.test');
    const g1 = await s.authGeneration(a.id);
    await s.setCredentials(a.id, { version: 1, x: 'y' });
    assert.deepEqual(await s.getCredentials(a.id), { version: 1, x: 'y' });
    const g2 = await s.authGeneration(a.id);
    assert.ok(g2 > g1);
    await s.setLoginDisabled('alice', 'moved away');
    assert.equal((await s.getAccount('alice'))?.loginDisabled, 'moved away');
    assert.ok((await s.authGeneration(a.id)) > g2);
    await s.deleteAccount('alice');
    assert.equal(await s.authGeneration(a.id), -1);
  });
});

test('append assigns increasing UIDs and MODSEQs; flags; expunge leaves tombstones', async () => {
  await withStore(async (s) => {
    const a = await s.createAccount('alice', 'alice@example.test');
    const inbox = (await s.getMailbox(a.id, 'inbox'))!;
    const r1 = await append(s, a.id, inbox.id, 1, ['\\seen', 'Work']);
    const r2 = await append(s, a.id, inbox.id, 2);
    assert.deepEqual(r1.uids, [1]);
    assert.deepEqual(r2.uids, [2]);
    assert.ok(r2.modseq > r1.modseq);
    const [m1] = await s.getMessages(inbox.id, [1]);
    assert.deepEqual(m1!.flags, ['\\Seen', 'Work']);
    assert.equal((await s.readBlob(m1!.fileId)).toString(), msg(1).toString());
    const st = await s.storeFlags(a.id, inbox.id, [1, 2], 'add', ['\\Deleted']);
    assert.equal(st.updated.length, 2);
    assert.ok(st.updated[0]!.modseq > r2.modseq);
    // UNCHANGEDSINCE below the messages' modseq: nothing changes (RFC 7162 3.1.3).
    const st2 = await s.storeFlags(a.id, inbox.id, [1], 'remove', ['\\Deleted'], r1.modseq);
    assert.deepEqual(st2.failedUnchangedSince, [1]);
    assert.deepEqual(await s.mailboxCounts(inbox.id), { messages: 2, unseen: 1, deleted: 2, size: msg(1).length + msg(2).length, recent: 2 });
    await assert.rejects(s.storeFlags(a.id, inbox.id, [1], 'add', ['\\Bogus']), (e: StoreError) => e.code === 'invalid');
    const ex = await s.expunge(a.id, inbox.id, null);
    assert.deepEqual(ex.uids, [1, 2]);
    assert.deepEqual(await s.expungedSince(inbox.id, st.updated[0]!.modseq), [1, 2]);
    assert.equal((await s.listMessages(inbox.id)).length, 0);
    const r3 = await append(s, a.id, inbox.id, 3);
    assert.deepEqual(r3.uids, [3], 'UIDs are never reused');
  });
});

test('append: another account\'s mailbox is not found, a full UID space is refused, and nothing is left of either', async () => {
  await withStore(async (s, dir) => {
    const a = await s.createAccount('alice', 'alice@example.test');
    const b = await s.createAccount('bob', 'bob@example.test');
    const inbox = (await s.getMailbox(a.id, 'INBOX'))!;
    await assert.rejects(append(s, b.id, inbox.id, 1), (e: StoreError) => e.code === 'notfound');
    // UIDs are 32-bit, and so is UIDNEXT (RFC 9051 2.3.1.1): two UIDs left, 4294967293 and 4294967294.
    const raw = new (await import('better-sqlite3')).default(join(dir, 'postern.db'));
    raw.prepare('UPDATE mailboxes SET uidnext = 4294967293 WHERE id = ?').run(inbox.id);
    raw.close();
    const small = async (n: number) => s.appendMessages(a.id, inbox.id, [{ blob: await s.stageBlob(msg(n)), flags: [], internalDate: new Date(), cache: null }]);
    assert.deepEqual((await small(1)).uids, [4294967293]);
    assert.deepEqual((await small(2)).uids, [4294967294]);
    await assert.rejects(small(3), (e: StoreError) => e.code === 'invalid' && /UID space/.test(e.message));
    const after = (await s.getMailbox(a.id, 'INBOX'))!;
    assert.equal(after.uidNext, 4294967295);
    assert.equal((await s.listMessages(inbox.id)).length, 2);
  });
});

test('copy and move keep content; UIDPLUS data; source untouched on copy', async () => {
  await withStore(async (s) => {
    const a = await s.createAccount('alice', 'alice@example.test');
    const inbox = (await s.getMailbox(a.id, 'INBOX'))!;
    const trash = (await s.getMailbox(a.id, 'Trash'))!;
    for (let i = 1; i <= 3; i++) await append(s, a.id, inbox.id, i, ['\\Flagged']);
    const c = await s.copyMessages(a.id, inbox.id, [1, 3, 99], trash.id);
    assert.deepEqual(c.sourceUids, [1, 3]);
    assert.deepEqual(c.destUids, [1, 2]);
    assert.equal(c.uidValidity, trash.uidValidity);
    const copied = await s.getMessages(trash.id, [2]);
    assert.equal((await s.readBlob(copied[0]!.fileId)).toString(), msg(3).toString());
    assert.deepEqual(copied[0]!.flags, ['\\Flagged']);
    // Expunging the original keeps the copy's content (separate file).
    await s.expunge(a.id, inbox.id, [3]);
    assert.equal((await s.readBlob(copied[0]!.fileId)).toString(), msg(3).toString());
    const mv = await s.moveMessages(a.id, inbox.id, [1, 2], trash.id);
    assert.deepEqual(mv.destUids, [3, 4]);
    assert.equal((await s.listMessages(inbox.id)).length, 0);
    assert.deepEqual(await s.expungedSince(inbox.id, 0), [1, 2, 3]);
  });
});

test('replaceMessage (RFC 8508): expunge and append in one transaction, net quota, all or nothing', async () => {
  await withStore(async (s) => {
    const a = await s.createAccount('alice', 'alice@example.test');
    const inbox = (await s.getMailbox(a.id, 'INBOX'))!;
    const drafts = (await s.getMailbox(a.id, 'Drafts'))!;
    for (let i = 1; i <= 2; i++) await append(s, a.id, drafts.id, i);
    const seen: Change[] = [];
    s.changes.subscribe(a.id, (c) => seen.push(...c));
    const blob = await s.stageBlob(streamed(msg(10)));
    const r = await s.replaceMessage(a.id, drafts.id, 2, drafts.id, { blob, flags: ['\\Draft'], internalDate: new Date(), cache: null });
    assert.equal(r.uid, 3);
    assert.equal(r.uidValidity, drafts.uidValidity);
    assert.ok(r.modseq > r.expungeModseq);
    assert.deepEqual((await s.listMessages(drafts.id)).map((m) => m.uid), [1, 3]);
    assert.deepEqual(await s.expungedSince(drafts.id, 0), [2]);
    assert.deepEqual(seen.map((c) => c.kind), ['expunge', 'append']);
    // Into another mailbox.
    const r2 = await s.replaceMessage(a.id, drafts.id, 3, inbox.id, { blob: await s.stageBlob(streamed(msg(11))), flags: [], internalDate: new Date(), cache: null });
    assert.equal(r2.uidValidity, inbox.uidValidity);
    assert.deepEqual((await s.listMessages(drafts.id)).map((m) => m.uid), [1]);
    assert.equal((await s.readBlob((await s.getMessages(inbox.id, [r2.uid]))[0]!.fileId)).toString(), msg(11).toString());
    // Gone already: nothing added, no UID used, usage unchanged.
    const used = (await s.getQuota(a.id)).used;
    const next = (await s.getMailbox(a.id, 'Drafts'))!.uidNext;
    await assert.rejects(s.replaceMessage(a.id, drafts.id, 3, drafts.id, { blob: await s.stageBlob(streamed(msg(12))), flags: [], internalDate: new Date(), cache: null }), (e: StoreError) => e.code === 'notfound');
    assert.equal((await s.getMailbox(a.id, 'Drafts'))!.uidNext, next);
    assert.equal((await s.getQuota(a.id)).used, used);
    // Only the difference counts: a same-size replacement fits a full quota, a bigger one does not
    // and leaves the old message in place.
    await s.setQuota('alice', used);
    await s.replaceMessage(a.id, drafts.id, 1, drafts.id, { blob: await s.stageBlob(streamed(msg(9))), flags: [], internalDate: new Date(), cache: null });
    const big = Buffer.concat([msg(14), Buffer.alloc(1000, 0x78)]);
    const kept = (await s.listMessages(drafts.id)).map((m) => m.uid);
    await assert.rejects(s.replaceMessage(a.id, drafts.id, kept[0]!, drafts.id, { blob: await s.stageBlob(streamed(big)), flags: [], internalDate: new Date(), cache: null }), (e: StoreError) => e.code === 'overquota');
    assert.deepEqual((await s.listMessages(drafts.id)).map((m) => m.uid), kept);
  });
});

test('mailboxes: UIDVALIDITY never reused, rename with children, INBOX rename moves messages, delete removes files', async () => {
  await withStore(async (s, dir) => {
    const a = await s.createAccount('alice', 'alice@example.test');
    const m1 = await s.createMailbox(a.id, 'Projects');
    await s.createMailbox(a.id, 'Projects/Alpha');
    await assert.rejects(s.createMailbox(a.id, 'Projects'), (e: StoreError) => e.code === 'exists');
    await assert.rejects(s.createMailbox(a.id, 'a//b'), (e: StoreError) => e.code === 'invalid');
    await assert.rejects(s.createMailbox(a.id, 'x', '\\Bogus'), (e: StoreError) => e.code === 'invalid');
    await s.renameMailbox(a.id, 'Projects', 'Work');
    assert.ok(await s.getMailbox(a.id, 'Work/Alpha'));
    assert.equal(await s.getMailbox(a.id, 'Projects/Alpha'), null);
    await append(s, a.id, m1.id, 1);
    await s.deleteMailbox(a.id, 'Work');
    const again = await s.createMailbox(a.id, 'Work');
    assert.ok(again.uidValidity > m1.uidValidity);
    await assert.rejects(s.deleteMailbox(a.id, 'INBOX'), (e: StoreError) => e.code === 'invalid');
    const inbox = (await s.getMailbox(a.id, 'INBOX'))!;
    await append(s, a.id, inbox.id, 2);
    await s.renameMailbox(a.id, 'INBOX', 'Old');
    assert.equal((await s.listMessages(inbox.id)).length, 0);
    assert.equal((await s.listMessages((await s.getMailbox(a.id, 'Old'))!.id)).length, 1);
    // Only the one remaining message file is on disk.
    const files = readdirSync(join(dir, 'msg'), { recursive: true, withFileTypes: true }).filter((d) => d.isFile());
    assert.equal(files.length, 1);
  });
});

test('change feed: published after commit, per account, not for failures', async () => {
  await withStore(async (s) => {
    const a = await s.createAccount('alice', 'alice@example.test');
    const b = await s.createAccount('bob', 'bob@example.test');
    const seenA: Change[] = [];
    const seenB: Change[] = [];
    const inbox = (await s.getMailbox(a.id, 'INBOX'))!;
    s.changes.subscribe(a.id, (c) => {
      // The change is committed when it is published: the data is visible.
      for (const ch of c) if (ch.kind === 'append') assert.equal(s.db.prepare('SELECT count(*) AS n FROM messages WHERE mailbox_id = ?').get(ch.mailboxId) !== undefined, true);
      seenA.push(...c);
    });
    s.changes.subscribe(b.id, (c) => seenB.push(...c));
    await append(s, a.id, inbox.id, 1);
    await s.storeFlags(a.id, inbox.id, [1], 'add', ['\\Seen']);
    await s.storeFlags(a.id, inbox.id, [1], 'add', ['\\Seen']); // no change, no event
    await assert.rejects(s.storeFlags(a.id, inbox.id, [1], 'add', ['\\Nope']));
    await s.expunge(a.id, inbox.id, [1]);
    assert.deepEqual(seenA.map((c) => c.kind), ['append', 'flags', 'expunge']);
    assert.equal(seenB.length, 0);
    // Another account's mailbox is not reachable with a's id.
    const binbox = (await s.getMailbox(b.id, 'INBOX'))!;
    await assert.rejects(append(s, a.id, binbox.id, 2), (e: StoreError) => e.code === 'notfound');
  });
});

test('UIDVALIDITY, UIDNEXT and MODSEQ survive a restart and keep growing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'postern-store-'));
  try {
    let s = await SqliteStore.open({ dir, recover: true });
    const a = await s.createAccount('alice', 'alice@example.test');
    let inbox = (await s.getMailbox(a.id, 'INBOX'))!;
    const r = await append(s, a.id, inbox.id, 1);
    const tmp = await s.createMailbox(a.id, 'Tmp');
    await s.deleteMailbox(a.id, 'Tmp');
    await s.close();
    s = await SqliteStore.open({ dir, recover: true });
    inbox = (await s.getMailbox(a.id, 'INBOX'))!;
    assert.equal(inbox.uidNext, 2);
    assert.ok(inbox.highestModseq >= r.modseq);
    const r2 = await append(s, a.id, inbox.id, 2);
    assert.deepEqual(r2.uids, [2]);
    assert.ok(r2.modseq > r.modseq);
    const tmp2 = await s.createMailbox(a.id, 'Tmp');
    assert.ok(tmp2.uidValidity > tmp.uidValidity);
    await s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('staged blob that is never committed is removed by recovery', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'postern-store-'));
  try {
    const s = await SqliteStore.open({ dir, recover: true });
    const blob = await s.stageBlob(streamed(msg(1)));
    const path = s.blobPath(blob.fileId);
    assert.equal(existsSync(path), true);
    // Simulate a crash: the process dies without committing or closing cleanly.
    s.db.close();
    const s2 = await SqliteStore.open({ dir, recover: true });
    assert.equal(existsSync(path), false);
    assert.equal(readdirSync(join(dir, 'msg'), { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).length, 0);
    await s2.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('small buffers are kept in the database: read, copied, moved, expunged and deleted with their rows', async () => {
  await withStore(async (s, dir) => {
    const a = await s.createAccount('alice', 'alice@example.test');
    const inbox = (await s.getMailbox(a.id, 'INBOX'))!;
    const trash = (await s.getMailbox(a.id, 'Trash'))!;
    const files = (): number => readdirSync(join(dir, 'msg'), { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).length;
    const inlineRows = (): number => (s.db.prepare('SELECT count(*) AS n FROM blob_inline').get() as { n: number }).n;

    const small = await s.stageBlob(msg(1));
    assert.ok(small.inline, 'a small buffer is staged inline');
    const big = Buffer.alloc(INLINE_BLOB_MAX + 1, 'b');
    const large = await s.stageBlob(big);
    assert.equal(large.inline, undefined, 'a buffer over the limit is a file');
    await assert.rejects(s.stageBlob(msg(2), 5), (e: StoreError) => e.code === 'toobig');
    const r = await s.appendMessages(a.id, inbox.id, [
      { blob: small, flags: [], internalDate: new Date(), cache: null },
      { blob: large, flags: [], internalDate: new Date(), cache: null },
    ]);
    assert.equal(files(), 1);
    assert.equal(inlineRows(), 1);
    const [m1, m2] = await s.getMessages(inbox.id, r.uids);
    assert.deepEqual(await s.readBlob(m1!.fileId), msg(1));
    assert.deepEqual(s.inlineBlob(m1!.fileId), msg(1));
    assert.equal(s.inlineBlob(m2!.fileId), null);
    assert.deepEqual(await s.readBlob(m2!.fileId), big);

    // COPY gives the copy its own content; the original's expunge leaves the copy intact.
    const c = await s.copyMessages(a.id, inbox.id, r.uids, trash.id);
    assert.equal(inlineRows(), 2);
    assert.equal(files(), 2);
    await s.expunge(a.id, inbox.id, r.uids);
    assert.equal(inlineRows(), 1);
    assert.equal(files(), 1);
    const copies = await s.getMessages(trash.id, c.destUids);
    assert.deepEqual(await s.readBlob(copies[0]!.fileId), msg(1));

    // A staged inline blob that is never committed leaves nothing behind.
    await s.stageBlob(msg(3));
    assert.equal(inlineRows(), 1);

    // The queue holds inline contents too; dropping the entry drops them.
    const q = await s.enqueue(a.id, 'alice@example.test', ['bob@remote.test'], await s.stageBlob(msg(4)));
    assert.deepEqual(await s.readBlob(q.fileId), msg(4));
    assert.equal(inlineRows(), 2);
    await s.dropQueueMessage(q.id);
    assert.equal(inlineRows(), 1);

    await s.deleteAccount('alice');
    assert.equal(inlineRows(), 0);
    assert.equal(files(), 0);
  });
});

test('group commit: concurrent appends share transactions and all get distinct UIDs', async () => {
  await withStore(async (s) => {
    const a = await s.createAccount('alice', 'alice@example.test');
    const inbox = (await s.getMailbox(a.id, 'INBOX'))!;
    const before = s.group.stats.groups;
    const rs = await Promise.all(Array.from({ length: 40 }, async (_, i) => {
      const blob = await s.stageBlob(msg(i));
      return s.appendMessages(a.id, inbox.id, [{ blob, flags: [], internalDate: new Date(), cache: null }]);
    }));
    const uids = rs.map((r) => r.uids[0]!).sort((x, y) => x - y);
    assert.deepEqual(uids, Array.from({ length: 40 }, (_, i) => i + 1));
    assert.ok(s.group.stats.groups - before < 40, `${s.group.stats.groups - before} groups for 40 appends`);
    // A failing request in a group (unknown mailbox) does not take the others down.
    const blob = await s.stageBlob(msg(99));
    const [bad, good] = await Promise.allSettled([
      s.appendMessages(a.id, 999_999, [{ blob, flags: [], internalDate: new Date(), cache: null }]),
      s.appendMessages(a.id, inbox.id, [{ blob: await s.stageBlob(msg(100)), flags: [], internalDate: new Date(), cache: null }]),
    ]);
    assert.equal(bad.status, 'rejected');
    assert.equal(good.status, 'fulfilled');
    assert.equal((await s.listMessages(inbox.id)).length, 41);
  });
});

test('\\Recent: one claim per message, kept across a restart; an upgraded database finds its old mail not recent', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'postern-store-'));
  try {
    let s = await SqliteStore.open({ dir, recover: true });
    const a = await s.createAccount('alice', 'alice@example.test');
    const inbox = (await s.getMailbox(a.id, 'INBOX'))!;
    await append(s, a.id, inbox.id, 1);
    await append(s, a.id, inbox.id, 2);
    await append(s, a.id, inbox.id, 3);
    assert.equal((await s.mailboxCounts(inbox.id)).recent, 3);
    // A session that knows of UIDs 1 and 2 only claims those; UID 3 stays recent for someone else.
    assert.deepEqual(await s.claimRecent(a.id, inbox.id, 3), { first: 1, next: 3 });
    assert.equal((await s.mailboxCounts(inbox.id)).recent, 1);
    assert.deepEqual(await s.claimRecent(a.id, inbox.id, 3), { first: 3, next: 3 });
    await s.close();
    s = await SqliteStore.open({ dir, recover: true });
    assert.equal((await s.getMailbox(a.id, 'INBOX'))!.firstRecentUid, 3);
    assert.equal((await s.mailboxCounts(inbox.id)).recent, 1);
    assert.deepEqual(await s.claimRecent(a.id, inbox.id, 100), { first: 3, next: 4 });
    assert.equal((await s.mailboxCounts(inbox.id)).recent, 0);
    await append(s, a.id, inbox.id, 4);
    await s.close();
    // A database from before \Recent was kept (schema version 2): migration 3 makes nothing recent.
    const raw = new (await import('better-sqlite3')).default(join(dir, 'postern.db'));
    raw.exec(`ALTER TABLE mailboxes DROP COLUMN first_recent_uid; ALTER TABLE accounts DROP COLUMN hidden_capabilities;
      DROP TABLE web_sessions; DROP INDEX queue_recipients_leased; ALTER TABLE queue_recipients DROP COLUMN lease_owner; ALTER TABLE queue_recipients DROP COLUMN lease_until;
      ALTER TABLE junk_accounts DROP COLUMN version`);
    raw.pragma('user_version = 5');
    raw.close();
    s = await SqliteStore.open({ dir, recover: true });
    assert.equal((await s.mailboxCounts(inbox.id)).recent, 0);
    assert.equal((await s.getMailbox(a.id, 'INBOX'))!.firstRecentUid, 5);
    await s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
