// Several SqliteStore instances on one data directory, as the worker processes of `postern serve`
// use it: each instance has its own database connection, so what one decides in memory the other
// cannot see. What must hold across them is tested here.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStore } from './sqlite-store.js';

async function withTwoStores(fn: (a: SqliteStore, b: SqliteStore, dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'postern-shared-'));
  const a = await SqliteStore.open({ dir, recover: true });
  const b = await SqliteStore.open({ dir });
  try {
    await fn(a, b, dir);
  } finally {
    await a.close();
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const msg = (n: number) => Buffer.from(`Subject: test ${n}\r\nMessage-ID: <${n}@test>\r\n\r\nbody ${n}\r\n`);

test('\\Recent: of all sessions on two store instances, exactly one claims each message', async () => {
  await withTwoStores(async (a, b) => {
    const acct = await a.createAccount('alice', 'alice@example.test');
    const inbox = (await a.getMailbox(acct.id, 'INBOX'))!;
    const claimed = new Map<number, string>();
    const take = (who: string) => (r: { first: number; next: number }) => {
      for (let uid = r.first; uid < r.next; uid++) {
        assert.equal(claimed.get(uid), undefined, `UID ${uid} claimed by ${claimed.get(uid)} and by ${who}`);
        claimed.set(uid, who);
      }
    };
    let uids = 0;
    for (let round = 0; round < 30; round++) {
      const n = 1 + (round % 4);
      const blobs = await Promise.all(Array.from({ length: n }, (_, i) => a.stageBlob(msg(round * 10 + i))));
      await a.appendMessages(acct.id, inbox.id, blobs.map((blob) => ({ blob, flags: [], internalDate: new Date(), cache: null })));
      uids += n;
      // Sessions of both processes select at the same moment, each knowing the mailbox up to UIDNEXT.
      const sessions: [string, SqliteStore][] = [['a1', a], ['b1', b], ['b2', b], ['a2', a]];
      const order = [...sessions.slice(round % 4), ...sessions.slice(0, round % 4)];
      await Promise.all(order.map(([who, s]) => s.claimRecent(acct.id, inbox.id, uids + 1).then(take(who))));
    }
    assert.equal(claimed.size, uids, 'every message was recent for one session');
    assert.ok(new Set(claimed.values()).size > 1, 'both stores won some claims');
    assert.equal((await a.mailboxCounts(inbox.id)).recent, 0);
    assert.equal((await b.mailboxCounts(inbox.id)).recent, 0);
  });
});

test('authChangeVersion moves for auth changes made through another store instance, and only for those', async () => {
  await withTwoStores(async (a, b) => {
    const acct = await a.createAccount('alice', 'alice@example.test');
    await a.addAddress('alice', 'other@example.test');
    const inbox = (await b.getMailbox(acct.id, 'INBOX'))!;
    const v0 = await a.authChangeVersion();
    // Mail, flags and logins on the other instance (another worker): sessions need no recheck.
    for (let n = 0; n < 5; n++) {
      const blob = await b.stageBlob(msg(n));
      const r = await b.appendMessages(acct.id, inbox.id, [{ blob, flags: [], internalDate: new Date(), cache: null }]);
      await b.storeFlags(acct.id, inbox.id, r.uids, 'add', ['\\Seen']);
    }
    await b.recordLoginAttempt({ time: new Date(), accountId: acct.id, address: 'alice@example.test', mechanism: 'PLAIN', keyFingerprint: null, protocol: 'imap', ip: '192.0.2.1', result: 'ok' });
    assert.equal(await a.authChangeVersion(), v0, 'no auth change, no new version');
    // Each revoking change on the other instance moves it, for both.
    let last = v0;
    const moved = async (what: string) => {
      const v = await a.authChangeVersion();
      assert.notEqual(v, last, what);
      assert.equal(await b.authChangeVersion(), v);
      last = v;
    };
    await b.setLoginDisabled('alice', 'moved away');
    await moved('login disabled');
    await b.setLoginDisabled('alice', null);
    await moved('login enabled');
    await b.setCredentials(acct.id, { scheme: 'test' });
    await moved('credentials');
    await b.removeAddress('other@example.test');
    await moved('address removed');
    await b.deleteAccount('alice');
    await moved('account deleted');
  });
});

test('writes that find the lock held by another process wait off the event loop, then commit', async () => {
  await withTwoStores(async (a, _b, dir) => {
    const acct = await a.createAccount('alice', 'alice@example.test');
    const inbox = (await a.getMailbox(acct.id, 'INBOX'))!;
    const blobs = await Promise.all([1, 2].map((n) => a.stageBlob(msg(n))));
    const { uids } = await a.appendMessages(acct.id, inbox.id, blobs.map((blob) => ({ blob, flags: [], internalDate: new Date(), cache: null })));
    // The CLI (another process) writing: its lock is released by a timer of this event loop, which
    // runs only if the waiting writes do not hold the loop in SQLite's busy handler.
    const cli = new Database(join(dir, 'postern.db'));
    try {
      cli.exec("BEGIN IMMEDIATE; INSERT INTO meta (key, value) VALUES ('test_lock', 1)");
      let ticks = 0;
      const tick = setInterval(() => ticks++, 1);
      setTimeout(() => cli.exec('COMMIT'), 60);
      const [claim] = await Promise.all([a.claimRecent(acct.id, inbox.id, uids[1]! + 1), a.storeFlags(acct.id, inbox.id, uids, 'add', ['\\Seen'])]);
      clearInterval(tick);
      assert.ok(ticks >= 5, `the event loop ran while waiting (${ticks} ticks)`);
      assert.deepEqual(claim, { first: uids[0], next: uids[1]! + 1 });
      const flags = (await a.listMessages(inbox.id)).map((m) => m.flags);
      assert.deepEqual(flags, [['\\Seen'], ['\\Seen']]);
    } finally {
      cli.close();
    }
  });
});
