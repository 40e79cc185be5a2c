// Spec 2.4 / 2.5 on the whole server (submission 587 + STARTTLS and submissions 465): a TLS client
// certificate authenticates without AUTH, EXTERNAL is advertised first, RSET and EHLO keep the
// identity, another account's password is refused without losing it, a login-disabled account
// cannot get in, and removing the key with the CLI ends the session with 421 within a second.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { posternAsync } from '../cli/run-cli.js';
import { startTestServer, ADDRESS, PASSWORD, type TestServer } from '../e2e/server-harness.js';
import { deriveCredentials } from '../../src/auth/password.js';
import { generateClientCertificate, type KeyAndCertificate } from '../../src/tls/generate.js';
import { b64, eml, registerKey, Smtp, waitForMessage } from './support.js';

let srv: TestServer;
let aliceKey: KeyAndCertificate;
let bobKey: KeyAndCertificate;
const BOB = 'bob@example.test';

before(async () => {
  srv = await startTestServer({ services: ['submission', 'submissions'] });
  const store = srv.server.ctx.store;
  await store.addAddress('alice', 'al@example.test');
  const bob = await store.createAccount('bob', BOB);
  await store.setCredentials(bob.id, await deriveCredentials('bobpassword'));
  aliceKey = generateClientCertificate('alice laptop');
  bobKey = generateClientCertificate('bob laptop');
  await registerKey(srv, 'alice', aliceKey, ADDRESS);
  await registerKey(srv, 'bob', bobKey, BOB);
});

after(async () => {
  await srv.stop();
});

async function submissions(k?: KeyAndCertificate): Promise<Smtp> {
  const c = await Smtp.connect(srv.ports.submissions!, { tls: true, cert: k });
  await c.expect(220);
  return c;
}

async function sendData(c: Smtp, body: string): Promise<void> {
  await c.cmd('DATA', 354);
  c.sock.write(body + '.\r\n');
  await c.expect(250);
}

const authLine = (ehlo: string[]) => ehlo.find((l) => l.startsWith('AUTH ')) ?? '';

test('465 with a known key: no AUTH needed, AUTH EXTERNAL first, RSET and EHLO keep the identity', async () => {
  const c = await submissions(aliceKey);
  assert.match(authLine(await c.ehlo()), /^AUTH EXTERNAL /);
  await c.cmd(`MAIL FROM:<${ADDRESS}>`, 250);
  await c.cmd(`RCPT TO:<${ADDRESS}>`, 250);
  await sendData(c, eml(ADDRESS, ADDRESS, 'certificate 465 first'));
  await c.cmd('RSET', 250);
  assert.match(authLine(await c.ehlo('again.example')), /^AUTH EXTERNAL /);
  // MAIL FROM must still be an address of the account (spec 2.4).
  await c.cmd(`MAIL FROM:<${BOB}>`, 550, '5.7.1');
  await c.cmd('RSET', 250);
  await c.cmd('MAIL FROM:<al@example.test>', 250);
  await c.cmd(`RCPT TO:<${ADDRESS}>`, 250);
  await sendData(c, eml('al@example.test', ADDRESS, 'certificate 465 after RSET'));
  await c.cmd('QUIT', 221);
  await waitForMessage(srv, 'alice', 'certificate 465 first');
  await waitForMessage(srv, 'alice', 'certificate 465 after RSET');
});

test('587 + STARTTLS with a known key: EXTERNAL only after TLS, and the identity survives EHLO', async () => {
  const c = await Smtp.connect(srv.ports.submission!);
  await c.expect(220);
  assert.doesNotMatch(authLine(await c.ehlo()), /EXTERNAL/);
  await c.cmd(`MAIL FROM:<${ADDRESS}>`, 530, '5.7.0');
  await c.startTls(aliceKey);
  assert.match(authLine(await c.ehlo()), /^AUTH EXTERNAL /);
  await c.cmd('RSET', 250);
  await c.ehlo('second.example');
  await c.cmd(`MAIL FROM:<${ADDRESS}>`, 250);
  await c.cmd(`RCPT TO:<${ADDRESS}>`, 250);
  await sendData(c, eml(ADDRESS, ADDRESS, 'certificate 587'));
  await waitForMessage(srv, 'alice', 'certificate 587');
  c.close();
});

test("another account's password on a certificate connection: 535 5.7.8, the certificate identity stays", async () => {
  const c = await submissions(aliceKey);
  await c.ehlo();
  await c.cmd(`AUTH PLAIN ${b64(`\0${BOB}\0bobpassword`)}`, 535, '5.7.8');
  await c.cmd(`AUTH EXTERNAL ${b64(BOB)}`, 535, '5.7.8');
  // Still alice: her address is accepted, bob's is not.
  await c.cmd(`MAIL FROM:<${BOB}>`, 550, '5.7.1');
  await c.cmd('RSET', 250);
  await c.cmd(`MAIL FROM:<${ADDRESS}>`, 250);
  await c.cmd('RSET', 250);
  // The same account's password is fine and picks the address used (spec 2.4).
  await c.cmd(`AUTH PLAIN ${b64(`\0al@example.test\0${PASSWORD}`)}`, 235, '2.7.0');
  await c.cmd('MAIL FROM:<al@example.test>', 250);
  c.close();
});

test('a login-disabled account cannot get in with its certificate, EXTERNAL or its password', async () => {
  await srv.server.ctx.store.setLoginDisabled('bob', 'suspended');
  try {
    const c = await submissions(bobKey);
    assert.doesNotMatch(authLine(await c.ehlo()), /EXTERNAL/);
    await c.cmd(`MAIL FROM:<${BOB}>`, 530, '5.7.0');
    await c.cmd('AUTH EXTERNAL =', 535, '5.7.8');
    await c.cmd(`AUTH PLAIN ${b64(`\0${BOB}\0bobpassword`)}`, 535, '5.7.8');
    await c.cmd(`MAIL FROM:<${BOB}>`, 530, '5.7.0');
    c.close();
    const s = await Smtp.connect(srv.ports.submission!);
    await s.expect(220);
    await s.ehlo();
    await s.startTls(bobKey);
    assert.doesNotMatch(authLine(await s.ehlo()), /EXTERNAL/);
    await s.cmd(`MAIL FROM:<${BOB}>`, 530, '5.7.0');
    s.close();
  } finally {
    await srv.server.ctx.store.setLoginDisabled('bob', null);
  }
  // Enabled again: the certificate works.
  const ok = await submissions(bobKey);
  await ok.ehlo();
  await ok.cmd(`MAIL FROM:<${BOB}>`, 250);
  ok.close();
});

test('removing the key with the CLI ends a certificate SMTP session with 421 within a second', async () => {
  const k = generateClientCertificate('to be removed');
  await registerKey(srv, 'alice', k, ADDRESS);
  const c = await submissions(k);
  await c.ehlo();
  await c.cmd(`MAIL FROM:<${ADDRESS}>`, 250);
  const r = await posternAsync(['--dir', srv.dir, 'config', 'tlspubkey', 'rm', k.fingerprint]);
  assert.equal(r.status, 0, r.stderr);
  const removedAt = Date.now();
  const bye = await c.expect(421, '4.7.0', 3000);
  assert.ok(Date.now() - removedAt < 1000, `421 came ${Date.now() - removedAt} ms after the removal`);
  assert.ok(bye.lines.join(' ').length > 0);
  await c.waitClosed(1000);
  // The key no longer authenticates a new connection.
  const again = await submissions(k);
  assert.doesNotMatch(authLine(await again.ehlo()), /EXTERNAL/);
  await again.cmd(`MAIL FROM:<${ADDRESS}>`, 530, '5.7.0');
  again.close();
});
