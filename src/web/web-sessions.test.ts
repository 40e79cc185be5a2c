import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { SESSION_IDLE_MS, SESSION_MAX_AGE_MS, MAX_SESSIONS_PER_ACCOUNT, SESSION_TOUCH_MS } from './limits.js';
import { WEB_SESSION_LIMITS, WebSessions } from './web-sessions.js';

const who = { accountId: 1, accountName: 'a', address: 'a@example.org', generation: 1 };

/** One data directory and `n` store instances on it (as the processes of `postern serve` have). */
async function withStores(n: number, fn: (stores: SqliteStore[]) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'postern-websessions-'));
  const stores: SqliteStore[] = [];
  try {
    for (let i = 0; i < n; i++) stores.push(await SqliteStore.open({ dir, recover: i === 0 }));
    await stores[0]!.createAccount('a', 'a@example.org');
    await stores[0]!.createAccount('b', 'b@example.org');
    await fn(stores);
  } finally {
    for (const s of stores) await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('sessions expire after the idle time, and after the maximum age even when used', async () => {
  await withStores(1, async ([store]) => {
    let now = Date.now();
    const s = new WebSessions(store!, () => now);
    const { token, session } = await s.create(who);
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(session.csrfToken, token);
    now += SESSION_IDLE_MS - 1;
    assert.equal((await s.get(token))?.csrfToken, session.csrfToken, 'used just in time');
    now += SESSION_IDLE_MS + 1;
    assert.equal(await s.get(token), null, 'idle too long');

    const b = await s.create(who);
    const start = now;
    while (now - start < SESSION_MAX_AGE_MS) {
      now += SESSION_IDLE_MS / 2;
      assert.ok(await s.get(b.token));
    }
    now += 1;
    assert.equal(await s.get(b.token), null, 'too old');
  });
});

test('unknown, empty and overlong tokens; logout; ending the other sessions of an account', async () => {
  await withStores(1, async ([store]) => {
    const s = new WebSessions(store!);
    assert.equal(await s.get(undefined), null);
    assert.equal(await s.get(''), null);
    assert.equal(await s.get('x'.repeat(1000)), null);
    const a = await s.create(who);
    const b = await s.create(who);
    const other = await s.create({ ...who, accountId: 2, accountName: 'b' });
    await s.destroyAccount(1, a.session, 2);
    assert.equal(a.session.generation, 2);
    assert.equal((await s.get(a.token))?.generation, 2, 'the keeper moves to the new generation');
    assert.equal(await s.get(b.token), null);
    assert.equal((await s.get(other.token))?.accountName, 'b');
    await s.destroy(a.token);
    assert.equal(await s.get(a.token), null);
  });
});

test('an account keeps at most MAX_SESSIONS_PER_ACCOUNT sessions, all accounts MAX_SESSIONS; the least recently used go', async () => {
  await withStores(1, async ([store]) => {
    let now = Date.now();
    const s = new WebSessions(store!, () => now);
    const tokens: string[] = [];
    for (let i = 0; i < MAX_SESSIONS_PER_ACCOUNT + 5; i++) {
      now += SESSION_TOUCH_MS;
      tokens.push((await s.create(who)).token);
      // The first one stays in use: the least recently used go, not the oldest.
      assert.ok(await s.get(tokens[0]));
    }
    assert.equal(await s.size(), MAX_SESSIONS_PER_ACCOUNT);
    assert.ok(await s.get(tokens[0]), 'recently used: kept');
    assert.equal(await s.get(tokens[1]), null);
    assert.ok(await s.get(tokens.at(-1)));

    const small = new WebSessions(store!, () => now, { ...WEB_SESSION_LIMITS, maxSessions: 3 });
    const b = [];
    for (let i = 0; i < 4; i++) {
      now += SESSION_TOUCH_MS;
      b.push((await small.create({ ...who, accountId: 2, accountName: 'b' })).token);
    }
    assert.equal(await small.size(), 3, 'the total is bounded over all accounts');
    assert.equal(await small.get(b[0]), null);
    assert.ok(await small.get(b[3]));
  });
});

test('a session made through one store instance works through another; only the token\'s hash is stored; use is written at most once a minute', async () => {
  await withStores(2, async ([one, two]) => {
    let now = Date.now();
    const first = new WebSessions(one!, () => now);
    const second = new WebSessions(two!, () => now);
    const { token, session } = await first.create(who);
    assert.equal((await second.get(token))?.csrfToken, session.csrfToken);

    const rows = one!.db.prepare('SELECT * FROM web_sessions').all() as { token_hash: Buffer; last_used: number }[];
    assert.equal(rows.length, 1);
    assert.deepEqual(rows[0]!.token_hash, createHash('sha256').update(token).digest());
    assert.ok(!JSON.stringify(one!.db.prepare('SELECT * FROM web_sessions').raw().all()).includes(token), 'the token itself is nowhere');

    const lastUsed = () => (one!.db.prepare('SELECT last_used FROM web_sessions').get() as { last_used: number }).last_used;
    const created = lastUsed();
    for (let i = 0; i < 10; i++) {
      now += 1000;
      assert.ok(await second.get(token));
    }
    await two!.group.run(() => undefined);
    assert.equal(lastUsed(), created, 'ten requests within a minute: no write');
    now += SESSION_TOUCH_MS;
    assert.ok(await second.get(token));
    await two!.group.run(() => undefined);
    assert.equal(lastUsed(), now, 'written once the last write is a minute old');

    // Logged out through one, gone for the other.
    await second.destroy(token);
    assert.equal(await first.get(token), null);
  });
});
