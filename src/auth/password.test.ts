import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { normalizePassword, deriveCredentials, verifyPassword, PasswordError, SCRAM_ITERATIONS } from './password.js';
import { hmacMd5FromMidstates } from './md5.js';
import { scramKeysFromSaltedPassword, scramSaltedPassword } from './password-scram.js';

test('normalizePassword maps non-ASCII spaces and applies NFC', () => {
  assert.equal(normalizePassword('a\u00A0b\u3000c'), 'a b c');
  assert.equal(normalizePassword('e\u0301'), '\u00E9');
  assert.equal(normalizePassword('pässwörd ☃'), 'pässwörd ☃');
  // Compatibility characters are kept (OpaqueString is not NFKC).
  assert.equal(normalizePassword('\u2168'), '\u2168');
});

test('normalizePassword refuses empty, control, unassigned and ignorable code points', () => {
  for (const bad of ['', 'a\u0000b', 'tab\there', 'new\nline', 'del\u007F', 'c1\u0085', 'soft\u00ADhyphen', 'bom\uFEFF', 'nc\uFDD0', 'x\uD800', 'unassigned\u0378', 'nc\u{1FFFE}']) {
    assert.throws(() => normalizePassword(bad), PasswordError, JSON.stringify(bad));
  }
});

test('deriveCredentials stores no password and verifyPassword checks it', async () => {
  const creds = await deriveCredentials('correct horse\u00A0battery');
  const json = JSON.stringify(creds);
  assert.ok(!json.includes('correct horse'));
  assert.deepEqual(JSON.parse(json), creds, 'plain JSON round trip');
  assert.equal(creds.version, 1);
  assert.ok(creds.scramSha1.iterations >= 8192);
  assert.ok(creds.scramSha256.iterations >= 4096);
  assert.equal(Buffer.from(creds.scramSha1.salt, 'base64').length, 16);
  assert.notEqual(creds.scramSha1.salt, creds.scramSha256.salt);

  assert.equal(await verifyPassword(creds, 'correct horse battery'), true, 'mapped space');
  assert.equal(await verifyPassword(creds, 'correct horse\u00A0battery'), true);
  assert.equal(await verifyPassword(creds, 'correct horse batterY'), false);
  assert.equal(await verifyPassword(creds, ''), false);
  assert.equal(await verifyPassword(creds, 'bad\u0000'), false);
});

test('two derivations of one password use different salts', async () => {
  const a = await deriveCredentials('secret12');
  const b = await deriveCredentials('secret12');
  assert.notEqual(a.scrypt.hash, b.scrypt.hash);
  assert.notEqual(a.scramSha256.storedKey, b.scramSha256.storedKey);
});

test('stored SCRAM keys and CRAM-MD5 midstates match independent computations', async () => {
  const pw = 'tanstaaftanstaaf';
  const creds = await deriveCredentials(pw);
  const challenge = '<1896.697170952@postoffice.reston.mci.net>';
  const fromState = hmacMd5FromMidstates(
    { inner: Buffer.from(creds.cramMd5.inner, 'base64'), outer: Buffer.from(creds.cramMd5.outer, 'base64') },
    challenge,
  );
  assert.equal(fromState.toString('hex'), 'b913a602c7eda7a495b4e6e7334d3890');
  assert.deepEqual(fromState, createHmac('md5', pw).update(challenge).digest());

  for (const [hash, stored] of [['sha1', creds.scramSha1], ['sha256', creds.scramSha256]] as const) {
    assert.equal(stored.iterations, SCRAM_ITERATIONS[hash]);
    const salted = await scramSaltedPassword(hash, pw, Buffer.from(stored.salt, 'base64'), stored.iterations);
    const keys = scramKeysFromSaltedPassword(hash, salted);
    assert.equal(keys.storedKey.toString('base64'), stored.storedKey);
    assert.equal(keys.serverKey.toString('base64'), stored.serverKey);
  }
});

test('deriveCredentials refuses a disallowed password', async () => {
  await assert.rejects(deriveCredentials(''), PasswordError);
  await assert.rejects(deriveCredentials('x\u0007y'), PasswordError);
});
