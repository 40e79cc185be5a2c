import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomToken } from './random-pool.js';

test('tokens have the asked length, differ, and span pool refills', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 5000; i++) {
    const t = randomToken(9, 'base64url');
    assert.match(t, /^[A-Za-z0-9_-]{12}$/);
    seen.add(t);
  }
  assert.equal(seen.size, 5000);
  assert.match(randomToken(6, 'hex'), /^[0-9a-f]{12}$/);
  assert.equal(randomToken(256, 'hex').length, 512);
  assert.throws(() => randomToken(257, 'hex'), RangeError);
});
