import assert from 'node:assert/strict';
import { test } from 'node:test';
import { internalToken, internalTokenMatches } from './token.js';

const key = Buffer.alloc(32, 7);
const rump = 'imap://joe@example.com/INBOX/;uid=20/;section=1.2;urlauth=submit+fred';

test('INTERNAL token: a version octet and HMAC-SHA256 of the rump URL in hex, checked in constant time', () => {
  const t = internalToken(key, rump);
  assert.match(t, /^01[0-9a-f]{64}$/);
  assert.equal(internalTokenMatches(key, rump, t), true);
  assert.equal(internalTokenMatches(key, rump, t.toUpperCase()), true, 'HEXDIG is case-insensitive');
  const flipped = t.slice(0, -1) + (t.endsWith('0') ? '1' : '0');
  assert.equal(internalTokenMatches(key, rump, flipped), false, 'tampered token');
  assert.equal(internalTokenMatches(key, rump, '02' + t.slice(2)), false, 'another version');
  assert.equal(internalTokenMatches(key, rump + 'x', t), false, 'tampered URL');
  assert.equal(internalTokenMatches(Buffer.alloc(32, 8), rump, t), false, 'another key (after RESETKEY)');
  assert.equal(internalTokenMatches(null, rump, t), false, 'no key');
  assert.equal(internalTokenMatches(key, rump, t.slice(0, 32)), false, 'short token');
  assert.equal(internalTokenMatches(key, rump, t.slice(2)), false, 'without its version');
  assert.equal(internalTokenMatches(key, rump, ''), false);
});
