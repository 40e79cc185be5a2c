import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from './sqlite-store.js';

test('URLAUTH mailbox keys: made once, per mailbox and account, replaced, removed, gone with the mailbox, kept across reopen', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'postern-urlauth-'));
  let s = await SqliteStore.open({ dir, recover: true });
  try {
    const a = await s.createAccount('a', 'a@example.org');
    const b = await s.createAccount('b', 'b@example.org');
    const inbox = (await s.getMailbox(a.id, 'INBOX'))!;
    const other = await s.createMailbox(a.id, 'Other');
    assert.equal(await s.urlauthKeys.key(a.id, inbox.id, 'INTERNAL', false), null);
    const k1 = (await s.urlauthKeys.key(a.id, inbox.id, 'INTERNAL', true))!;
    assert.ok(k1.length >= 16, 'at least 128 bits (RFC 4467 10)');
    assert.deepEqual(await s.urlauthKeys.key(a.id, inbox.id, 'INTERNAL', true), k1, 'made once');
    assert.deepEqual(await s.urlauthKeys.key(a.id, inbox.id, 'INTERNAL', false), k1);
    // Another account cannot reach the key through the mailbox id.
    assert.equal(await s.urlauthKeys.key(b.id, inbox.id, 'INTERNAL', false), null);
    const k2 = (await s.urlauthKeys.key(a.id, other.id, 'INTERNAL', true))!;
    assert.notDeepEqual(k2, k1, 'one key per mailbox');

    await s.urlauthKeys.resetKey(a.id, inbox.id, 'INTERNAL');
    const k3 = (await s.urlauthKeys.key(a.id, inbox.id, 'INTERNAL', false))!;
    assert.ok(k3 && !k3.equals(k1), 'RESETKEY mailbox replaces the key');
    assert.deepEqual(await s.urlauthKeys.key(a.id, other.id, 'INTERNAL', false), k2, 'other mailboxes keep theirs');

    await s.close();
    s = await SqliteStore.open({ dir, recover: true });
    assert.deepEqual(await s.urlauthKeys.key(a.id, inbox.id, 'INTERNAL', false), k3, 'durable');

    await s.deleteMailbox(a.id, 'Other');
    const again = await s.createMailbox(a.id, 'Other');
    assert.equal(await s.urlauthKeys.key(a.id, again.id, 'INTERNAL', false), null, 'deleted with its mailbox');

    await s.urlauthKeys.resetAll(a.id);
    assert.equal(await s.urlauthKeys.key(a.id, inbox.id, 'INTERNAL', false), null, 'RESETKEY without arguments removes all');
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
