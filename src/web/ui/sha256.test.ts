import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { sha256 } from './sha256.js';

test('sha256 matches node:crypto across padding boundaries', () => {
  for (const len of [0, 1, 3, 31, 32, 55, 56, 57, 63, 64, 65, 119, 120, 1000]) {
    const data = randomBytes(len);
    assert.equal(Buffer.from(sha256(data)).toString('hex'), createHash('sha256').update(data).digest('hex'), `length ${len}`);
  }
  assert.equal(Buffer.from(sha256(new TextEncoder().encode('abc'))).toString('hex'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});
