import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SESSION_IDLE_MS, SESSION_MAX_AGE_MS, MAX_SESSIONS_PER_ACCOUNT } from './limits.js';
import { WebSessions } from './web-sessions.js';

const who = { accountId: 1, accountName: 'a', address: 'a@example.org', generation: 0 };

test('sessions expire after the idle time, and after the maximum age even when used', () => {
  let now = 1_000_000;
  const s = new WebSessions(() => now);
  const { token, session } = s.create(who);
  assert.match(token, /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(session.csrfToken, token);
  now += SESSION_IDLE_MS - 1;
  assert.equal(s.get(token), session, 'used just in time');
  now += SESSION_IDLE_MS + 1;
  assert.equal(s.get(token), null, 'idle too long');

  const b = s.create(who);
  const start = now;
  while (now - start < SESSION_MAX_AGE_MS) {
    now += SESSION_IDLE_MS / 2;
    s.get(b.token);
  }
  now += 1;
  assert.equal(s.get(b.token), null, 'too old');
});

test('unknown, empty and overlong tokens; logout; ending the other sessions of an account', () => {
  const s = new WebSessions();
  assert.equal(s.get(undefined), null);
  assert.equal(s.get(''), null);
  assert.equal(s.get('x'.repeat(1000)), null);
  const a = s.create(who);
  const b = s.create(who);
  const other = s.create({ ...who, accountId: 2 });
  s.destroyAccount(1, a.session);
  assert.equal(s.get(a.token), a.session);
  assert.equal(s.get(b.token), null);
  assert.equal(s.get(other.token), other.session);
  s.destroy(a.token);
  assert.equal(s.get(a.token), null);
});

test('an account keeps at most MAX_SESSIONS_PER_ACCOUNT sessions; the least recently used go', () => {
  let now = 0;
  const s = new WebSessions(() => now);
  const tokens: string[] = [];
  for (let i = 0; i < MAX_SESSIONS_PER_ACCOUNT + 5; i++) {
    now++;
    tokens.push(s.create(who).token);
  }
  assert.equal(s.size, MAX_SESSIONS_PER_ACCOUNT);
  assert.equal(s.get(tokens[0]), null);
  assert.ok(s.get(tokens.at(-1)));
});
