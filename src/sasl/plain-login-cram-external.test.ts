import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSaslClient } from './client.js';
import { createSaslServer } from './server.js';
import { parsePlainMessage } from './plain.js';
import { createCramMd5Server, parseCramMd5Response } from './cram-md5.js';
import { credentialsFor, runExchange, testContext } from './test-support.js';
import type { SaslStep } from './types.js';

const b = (s: string) => Buffer.from(s, 'utf8');
const strip = (st: SaslStep) => (st.kind === 'failure' ? { ...st, authcid: undefined } : st);

for (const mech of ['PLAIN', 'LOGIN', 'CRAM-MD5'] as const) {
  test(`${mech}: round trip, wrong password and unknown user`, async () => {
    const users = { 'alice@example.org': await credentialsFor('correct horse') };
    const run = (username: string, password: string) =>
      runExchange(createSaslClient(mech, { username, password }), createSaslServer(mech, testContext(users)));
    assert.deepEqual(await run('alice@example.org', 'correct horse'), { kind: 'success', authcid: 'alice@example.org', authzid: '' });
    const wrong = await run('alice@example.org', 'wrong horse');
    const unknown = await run('bob@example.org', 'correct horse');
    assert.equal(wrong.kind, 'failure');
    assert.equal(wrong.kind === 'failure' && wrong.reason, 'bad-credentials');
    assert.equal(wrong.kind === 'failure' && wrong.authcid, 'alice@example.org');
    assert.deepEqual(strip(unknown), strip(wrong));
  });
}

test('PLAIN: authzid is passed on, SASL-IR and empty-challenge flows both work', async () => {
  const users = { alice: await credentialsFor('correct horse') };
  const step = await runExchange(
    createSaslClient('PLAIN', { username: 'alice', password: 'correct horse', authzid: 'boss' }),
    createSaslServer('PLAIN', testContext(users)),
  );
  assert.deepEqual(step, { kind: 'success', authcid: 'alice', authzid: 'boss' });
  const server = createSaslServer('PLAIN', testContext(users));
  assert.deepEqual(await server.step(null), { kind: 'challenge', data: Buffer.alloc(0) });
  assert.equal((await server.step(b('\0alice\0correct horse'))).kind, 'success');
});

test('PLAIN: malformed messages', async () => {
  for (const bad of ['', 'alice', '\0alice', '\0\0pw', '\0alice\0', 'a\0b\0c\0d', `\0${'x'.repeat(256)}\0pw`]) {
    assert.equal(parsePlainMessage(b(bad)), null, JSON.stringify(bad));
  }
  assert.equal(parsePlainMessage(Buffer.from([0, 0xff, 0xfe, 0, 0x41])), null, 'invalid UTF-8');
  assert.deepEqual(parsePlainMessage(b('z\0a\0p w')), { authzid: 'z', authcid: 'a', password: 'p w' });
  const st = await createSaslServer('PLAIN', testContext({})).step(b('\0alice\u0007\0pw'));
  assert.equal(st.kind === 'failure' && st.reason, 'malformed');
});

test('LOGIN: prompts, initial user name (SMTP AUTH LOGIN <user>) and empty answers', async () => {
  const users = { alice: await credentialsFor('correct horse') };
  const s1 = createSaslServer('LOGIN', testContext(users));
  assert.deepEqual(await s1.step(null), { kind: 'challenge', data: b('Username:') });
  assert.deepEqual(await s1.step(b('alice')), { kind: 'challenge', data: b('Password:') });
  assert.equal((await s1.step(b('correct horse'))).kind, 'success');
  const s2 = createSaslServer('LOGIN', testContext(users));
  assert.deepEqual(await s2.step(b('alice')), { kind: 'challenge', data: b('Password:') });
  assert.equal((await s2.step(b('correct horse'))).kind, 'success');
  const s3 = createSaslServer('LOGIN', testContext(users));
  await s3.step(null);
  const st = await s3.step(Buffer.alloc(0));
  assert.equal(st.kind === 'failure' && st.reason, 'malformed');
});

test('CRAM-MD5: RFC 2195 example against stored midstates', async () => {
  const users = { tim: await credentialsFor('tanstaaftanstaaf') };
  const server = createCramMd5Server(testContext(users), { challenge: '<1896.697170952@postoffice.reston.mci.net>' });
  assert.deepEqual(await server.step(null), { kind: 'challenge', data: b('<1896.697170952@postoffice.reston.mci.net>') });
  assert.deepEqual(await server.step(b('tim b913a602c7eda7a495b4e6e7334d3890')), { kind: 'success', authcid: 'tim', authzid: '' });
  const client = createSaslClient('CRAM-MD5', { username: 'tim', password: 'tanstaaftanstaaf' });
  assert.equal(client.step(b('<1896.697170952@postoffice.reston.mci.net>')).toString(), 'tim b913a602c7eda7a495b4e6e7334d3890');
});

test('CRAM-MD5: challenge form, malformed responses, no initial response', async () => {
  const server = createSaslServer('CRAM-MD5', testContext({}));
  const c = await server.step(Buffer.alloc(0));
  assert.match(c.kind === 'challenge' ? c.data.toString() : '', /^<[0-9a-f]+\.\d+@mail\.example\.org>$/);
  for (const bad of ['tim', 'tim b913a602c7eda7a495b4e6e7334d389', ' b913a602c7eda7a495b4e6e7334d3890', 'tim b913a602c7eda7a495b4e6e7334d3890x', 'tim\tb913a602c7eda7a495b4e6e7334d3890']) {
    assert.equal(parseCramMd5Response(b(bad)), null, bad);
  }
  assert.equal(parseCramMd5Response(b('john smith 00112233445566778899aabbccddeeff'))?.username, 'john smith');
  const ir = await createSaslServer('CRAM-MD5', testContext({})).step(b('tim 00'));
  assert.equal(ir.kind === 'failure' && ir.reason, 'malformed');
});

test('EXTERNAL: returns the requested authorization identity; needs TLS', async () => {
  const ctx = testContext({});
  assert.deepEqual(await createSaslServer('EXTERNAL', ctx).step(Buffer.alloc(0)), { kind: 'success', authcid: '', authzid: '' });
  assert.deepEqual(await runExchange(createSaslClient('EXTERNAL', { username: '', authzid: 'bob@example.org' }), createSaslServer('EXTERNAL', ctx)), {
    kind: 'success',
    authcid: '',
    authzid: 'bob@example.org',
  });
  const s = createSaslServer('EXTERNAL', ctx);
  assert.equal((await s.step(null)).kind, 'challenge');
  assert.deepEqual(await s.step(b('x@y')), { kind: 'success', authcid: '', authzid: 'x@y' });
  const noTls = await createSaslServer('EXTERNAL', testContext({}, { tls: false })).step(Buffer.alloc(0));
  assert.equal(noTls.kind === 'failure' && noTls.reason, 'tls-required');
  const bad = await createSaslServer('EXTERNAL', ctx).step(Buffer.from([0xc3]));
  assert.equal(bad.kind === 'failure' && bad.reason, 'malformed');
  assert.equal(ctx.lookups.length, 0, 'EXTERNAL never looks up passwords');
});
