import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import { CredentialCache } from './credential-cache.js';

const PW = 'correct horse battery staple';

/** The cache's lookup keys (private): what it holds instead of secrets. */
const tags = (c: CredentialCache): string[] => [...(c as unknown as { entries: Map<string, unknown> }).entries.keys()];

test('a remembered password hits for its account and generation only', () => {
  const c = new CredentialCache();
  assert.equal(c.has(1, 5, PW), false);
  c.remember(1, 5, PW);
  assert.equal(c.has(1, 5, PW), true);
  assert.equal(c.has(1, 5, PW + ' '), false, 'another password');
  assert.equal(c.has(2, 5, PW), false, 'another account');
});

test('never holds the secret: keyed tags, different per process key, no plain or unkeyed hash', () => {
  const a = new CredentialCache();
  const b = new CredentialCache();
  a.remember(1, 1, PW);
  b.remember(1, 1, PW);
  const dump = inspect(a, { depth: 10, showHidden: true });
  const unkeyed = [createHash('sha256').update(`1\0${PW}`).digest(), createHash('sha256').update(PW).digest()];
  for (const secret of [PW, Buffer.from(PW).toString('base64'), Buffer.from(PW).toString('hex'), ...unkeyed.flatMap((h) => [h.toString('base64'), h.toString('hex')])]) {
    assert.ok(!dump.includes(secret), `cache dump contains ${secret}`);
  }
  assert.equal(tags(a).length, 1);
  assert.notEqual(tags(a)[0], tags(b)[0], 'the tag depends on a per-instance random key');
});

test('a new auth generation (password set, login disabled) makes every entry of the account miss, and drops them', () => {
  const c = new CredentialCache();
  c.remember(1, 5, PW);
  c.remember(1, 5, 'second device password');
  c.remember(2, 9, PW);
  assert.equal(c.size, 3);
  assert.equal(c.has(1, 6, PW), false, 'old password after a change');
  assert.equal(c.size, 1, "both of account 1's entries dropped; account 2 kept");
  assert.equal(c.has(1, 5, 'second device password'), false);
  assert.equal(c.has(2, 9, PW), true);
  c.forgetAccount(2);
  assert.equal(c.has(2, 9, PW), false);
  assert.equal(c.size, 0);
});

test('entries expire after the TTL', () => {
  let t = 1_000_000;
  const c = new CredentialCache({ ttlMs: 60_000, now: () => t });
  c.remember(1, 1, PW);
  t += 59_999;
  assert.equal(c.has(1, 1, PW), true);
  t += 1;
  assert.equal(c.has(1, 1, PW), false);
  assert.equal(c.size, 0);
});

test('bounded: the least recently used entry goes first', () => {
  const c = new CredentialCache({ maxEntries: 3 });
  for (const id of [1, 2, 3]) c.remember(id, 1, PW);
  assert.equal(c.has(1, 1, PW), true); // 1 is now the most recent; 2 the least
  c.remember(4, 1, PW);
  assert.equal(c.size, 3);
  assert.equal(c.has(2, 1, PW), false);
  for (const id of [1, 3, 4]) assert.equal(c.has(id, 1, PW), true, `account ${id}`);
  c.remember(4, 1, PW); // remembering again does not grow it
  assert.equal(c.size, 3);
});

test('size 0 turns the cache off', () => {
  const c = new CredentialCache({ maxEntries: 0 });
  c.remember(1, 1, PW);
  assert.equal(c.has(1, 1, PW), false);
  assert.equal(c.size, 0);
});
