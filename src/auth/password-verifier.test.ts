import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveCredentials } from './password.js';
import { PasswordVerifier } from './password-verifier.js';

const PW = 'device password 1';

/** Counts scrypt runs on the verifier's pool. */
function countHashes(v: PasswordVerifier): { n: number } {
  const counter = { n: 0 };
  const original = v.pool.scrypt.bind(v.pool);
  v.pool.scrypt = (...args) => {
    counter.n++;
    return original(...args);
  };
  return counter;
}

test('the first login hashes, a repeated one is answered from the cache; a wrong password always hashes', async () => {
  const v = new PasswordVerifier({ pool: { workers: 1 } });
  try {
    const hashes = countHashes(v);
    const account = { accountId: 7, generation: 1, creds: await deriveCredentials(PW), loginDisabled: false };
    assert.equal(await v.check(account, PW), 'ok');
    assert.equal(hashes.n, 1);
    assert.equal(await v.check(account, PW), 'ok');
    assert.equal(hashes.n, 1, 'cache hit: no scrypt');
    assert.equal(await v.check(account, 'wrong password'), 'bad');
    assert.equal(await v.check(account, 'wrong password'), 'bad');
    assert.equal(hashes.n, 3, 'failures are never cached');
    assert.equal(await v.check({ ...account, generation: 2 }, PW), 'ok', 'after a change the stored verifier decides again');
    assert.equal(hashes.n, 4);
  } finally {
    await v.close();
  }
});

test('unknown users and accounts without a password cost a scrypt run and are refused', async () => {
  const v = new PasswordVerifier({ pool: { workers: 1 } });
  try {
    const hashes = countHashes(v);
    assert.equal(await v.check(null, PW), 'bad');
    assert.equal(await v.check({ accountId: 3, generation: 1, creds: null, loginDisabled: false }, PW), 'bad');
    assert.equal(hashes.n, 2);
    assert.equal(v.cache.size, 0);
  } finally {
    await v.close();
  }
});

test('a full hash queue answers busy, while a cached login still succeeds', async () => {
  const v = new PasswordVerifier({ pool: { workers: 1, maxQueued: 0 } });
  try {
    const account = { accountId: 7, generation: 1, creds: await deriveCredentials(PW), loginDisabled: false };
    assert.equal(await v.check(account, PW), 'ok');
    const running = v.check(account, 'wrong 1');
    await new Promise((r) => setImmediate(r)); // the first reaches the pool
    assert.equal(await v.check(account, 'wrong 2'), 'busy');
    assert.equal(await v.check(account, PW), 'ok', 'cache hit needs no hashing thread');
    assert.equal(await running, 'bad');
  } finally {
    await v.close();
  }
});

test('a login-disabled account: the password is checked, never cached, and what was cached goes', async () => {
  const v = new PasswordVerifier({ pool: { workers: 1 } });
  try {
    const account = { accountId: 7, generation: 1, creds: await deriveCredentials(PW), loginDisabled: false };
    assert.equal(await v.check(account, PW), 'ok');
    assert.equal(v.cache.size, 1);
    const disabled = { ...account, loginDisabled: true };
    assert.equal(await v.check(disabled, PW), 'ok', 'the caller refuses it as disabled, after a right password');
    assert.equal(await v.check(disabled, 'wrong'), 'bad');
    assert.equal(v.cache.size, 0);
  } finally {
    await v.close();
  }
});
