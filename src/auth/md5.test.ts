import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { Md5, md5, hmacMd5Midstates, hmacMd5FromMidstates } from './md5.js';

test('RFC 1321 A.5 test suite', () => {
  const suite: [string, string][] = [
    ['', 'd41d8cd98f00b204e9800998ecf8427e'],
    ['a', '0cc175b9c0f1b6a831c399e269772661'],
    ['abc', '900150983cd24fb0d6963f7d28e17f72'],
    ['message digest', 'f96b697d7cb7938d525a2f31aaf161d0'],
    ['abcdefghijklmnopqrstuvwxyz', 'c3fcd3d76192e4007dfb496cca67e13b'],
    ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 'd174ab98d277d9f5a5611c2c9f419d9f'],
    ['12345678901234567890123456789012345678901234567890123456789012345678901234567890', '57edf4a22be3c955ac49da2e2107b67a'],
  ];
  for (const [input, hex] of suite) assert.equal(md5(input).toString('hex'), hex, JSON.stringify(input));
});

test('matches node:crypto for lengths around block and padding boundaries, fed in pieces', () => {
  for (let len = 0; len < 300; len++) {
    const data = randomBytes(len);
    const split = Math.floor(len / 3);
    const ours = new Md5().update(data.subarray(0, split)).update(data.subarray(split)).digest();
    assert.deepEqual(ours, createHash('md5').update(data).digest(), `length ${len}`);
  }
});

test('resuming from a midstate gives the same digest', () => {
  const data = randomBytes(64 * 3 + 17);
  const h = new Md5().update(data.subarray(0, 128));
  const resumed = new Md5(h.midstate(), 128).update(data.subarray(128)).digest();
  assert.deepEqual(resumed, md5(data));
});

test('midstate off a block boundary, bad midstates and reuse are refused', () => {
  assert.throws(() => new Md5().update('abc').midstate(), /boundary/);
  assert.throws(() => new Md5(Buffer.alloc(15), 64), RangeError);
  assert.throws(() => new Md5(Buffer.alloc(16), 10), RangeError);
  const h = new Md5();
  h.digest();
  assert.throws(() => h.digest(), /finalised/);
  assert.throws(() => h.update('x'), /finalised/);
});

test('HMAC from midstates equals crypto HMAC-MD5, short and long keys', () => {
  for (const keyLen of [0, 1, 16, 63, 64, 65, 200]) {
    const key = randomBytes(keyLen);
    const msg = randomBytes(keyLen + 7);
    const states = hmacMd5Midstates(key);
    assert.equal(states.inner.length, 16);
    assert.deepEqual(hmacMd5FromMidstates(states, msg), createHmac('md5', key).update(msg).digest(), `key ${keyLen}`);
  }
});

test('RFC 2195 2 CRAM-MD5 example', () => {
  const states = hmacMd5Midstates(Buffer.from('tanstaaftanstaaf'));
  const digest = hmacMd5FromMidstates(states, '<1896.697170952@postoffice.reston.mci.net>');
  assert.equal(digest.toString('hex'), 'b913a602c7eda7a495b4e6e7334d3890');
});
