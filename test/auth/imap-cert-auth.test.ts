// Spec 2.3: IMAP with TLS client certificates — PREAUTH, no-preauth keys, STARTTLS, EXTERNAL,
// the same-account rule, unknown keys, login-disabled accounts, revocation within a second.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { once } from 'node:events';
import { Client } from '../imap/harness.js';
import { posternAsync } from '../cli/run-cli.js';
import { startTestServer, ADDRESS, PASSWORD, type TestServer } from '../e2e/server-harness.js';
import { generateClientCertificate, type KeyAndCertificate } from '../../src/tls/generate.js';
import { deriveCredentials } from '../../src/auth/password.js';

let srv: TestServer;
let aliceId: number;
let bobId: number;
let aliceKey: KeyAndCertificate;
let noPreauthKey: KeyAndCertificate;
let bobKey: KeyAndCertificate;
const unknownKey = generateClientCertificate('stranger');

async function register(accountId: number, k: KeyAndCertificate, loginAddress: string, noImapPreauth = false) {
  await srv.server.ctx.store.addTlsPubKey(accountId, { fingerprint: k.fingerprint, type: 'ed25519', name: 'dev', loginAddress, noImapPreauth, certDer: k.certDer });
}

before(async () => {
  srv = await startTestServer({ services: ['imap', 'imaps'] });
  const store = srv.server.ctx.store;
  aliceId = (await store.getAccount('alice'))!.id;
  await store.addAddress('alice', 'al@example.test');
  const bob = await store.createAccount('bob', 'bob@example.test');
  bobId = bob.id;
  await store.setCredentials(bob.id, await deriveCredentials('bobpassword'));
  aliceKey = generateClientCertificate('alice laptop');
  noPreauthKey = generateClientCertificate('alice old phone');
  bobKey = generateClientCertificate('bob laptop');
  await register(aliceId, aliceKey, ADDRESS);
  await register(aliceId, noPreauthKey, 'al@example.test', true);
  await register(bobId, bobKey, 'bob@example.test');
});

after(async () => {
  await srv.stop();
});

async function imaps(k?: KeyAndCertificate, maxVersion: 'TLSv1.2' | 'TLSv1.3' = 'TLSv1.3'): Promise<{ c: Client; greeting: string }> {
  const sock = tlsConnect({ host: '127.0.0.1', port: srv.ports.imaps!, rejectUnauthorized: false, maxVersion, ...(k ? { key: k.keyPem, cert: k.certPem } : {}) });
  await once(sock, 'secureConnect');
  const c = new Client(sock);
  return { c, greeting: await c.readLine() };
}

/** Plain connection on 143, then STARTTLS with the certificate. */
async function starttls(k?: KeyAndCertificate): Promise<Client> {
  const raw = netConnect(srv.ports.imap!, '127.0.0.1');
  await once(raw, 'connect');
  let c = new Client(raw);
  assert.match(await c.readLine(), /^\* OK/);
  const tag = c.nextTag();
  c.write(`${tag} STARTTLS\r\n`);
  assert.equal((await c.reply(tag)).status, 'OK');
  raw.removeAllListeners('data');
  const sock = tlsConnect({ socket: raw, rejectUnauthorized: false, ...(k ? { key: k.keyPem, cert: k.certPem } : {}) });
  await once(sock, 'secureConnect');
  c = new Client(sock);
  return c;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

test('IMAPS with a known key: PREAUTH greeting with capabilities; LOGIN, AUTHENTICATE, STARTTLS refused', async () => {
  const { c, greeting } = await imaps(aliceKey);
  assert.match(greeting, /^\* PREAUTH \[CAPABILITY [^\]]*IMAP4rev2[^\]]*\] /);
  await c.ok('SELECT INBOX');
  const r1 = await c.no(`LOGIN ${ADDRESS} ${PASSWORD}`);
  assert.match(r1.text, /not allowed in this connection state|state/i);
  await c.no('AUTHENTICATE PLAIN');
  await c.no('STARTTLS');
  c.destroy();
  // Last used time and IP are recorded.
  const key = await srv.server.ctx.store.getTlsPubKey(aliceKey.fingerprint);
  assert.ok(key!.lastUsed);
  assert.equal(key!.lastUsedIp, '127.0.0.1');
  const attempts = await srv.server.ctx.store.listLoginAttempts(aliceId, 10);
  assert.ok(attempts.some((a) => a.mechanism === 'tlsclientauth' && a.keyFingerprint === aliceKey.fingerprint && a.result === 'ok'));
});

test('PREAUTH over TLS 1.2 as well', async () => {
  const { c, greeting } = await imaps(aliceKey, 'TLSv1.2');
  assert.match(greeting, /^\* PREAUTH /);
  c.destroy();
});

test('no-preauth key: * OK, AUTH=EXTERNAL advertised, AUTHENTICATE EXTERNAL logs in as the login address', async () => {
  const { c, greeting } = await imaps(noPreauthKey);
  assert.match(greeting, /^\* OK /);
  const cap = await c.ok('CAPABILITY');
  assert.match(cap.untagged.join('\n'), /AUTH=EXTERNAL/);
  await c.bad('SELECT INBOX'); // not authenticated yet: wrong state
  const r = await c.ok('AUTHENTICATE EXTERNAL =');
  assert.match(r.text, /CAPABILITY/);
  await c.ok('SELECT INBOX');
  c.destroy();
});

test('EXTERNAL with an explicit authorization identity of the same account; another account refused', async () => {
  let { c } = await imaps(noPreauthKey);
  await c.ok(`AUTHENTICATE EXTERNAL ${b64(ADDRESS)}`);
  c.destroy();
  ({ c } = await imaps(noPreauthKey));
  await c.no(`AUTHENTICATE EXTERNAL ${b64('bob@example.test')}`, 'AUTHENTICATIONFAILED');
  await c.no(`AUTHENTICATE EXTERNAL ${b64('nobody@example.test')}`, 'AUTHENTICATIONFAILED');
  // Two-step form: empty initial response via continuation.
  const tag = c.nextTag();
  c.write(`${tag} AUTHENTICATE EXTERNAL\r\n`);
  assert.match(await c.readLine(), /^\+/);
  c.write('\r\n');
  assert.equal((await c.reply(tag)).status, 'OK');
  c.destroy();
});

test('STARTTLS with a known key: stays not authenticated (greeting already sent); EXTERNAL works', async () => {
  const c = await starttls(aliceKey);
  const cap = await c.ok('CAPABILITY');
  assert.match(cap.untagged.join('\n'), /AUTH=EXTERNAL/);
  assert.doesNotMatch(cap.untagged.join('\n'), /LOGINDISABLED/);
  await c.ok('AUTHENTICATE EXTERNAL =');
  await c.ok('SELECT INBOX');
  c.destroy();
});

test('unknown certificate: * OK, no AUTH=EXTERNAL, EXTERNAL refused, password login still possible', async () => {
  const { c, greeting } = await imaps(unknownKey);
  assert.match(greeting, /^\* OK /);
  const cap = await c.ok('CAPABILITY');
  assert.doesNotMatch(cap.untagged.join('\n'), /AUTH=EXTERNAL/);
  await c.no('AUTHENTICATE EXTERNAL =', 'AUTHENTICATIONFAILED');
  await c.ok(`LOGIN ${ADDRESS} ${PASSWORD}`);
  c.destroy();
});

test('EXTERNAL without TLS: PRIVACYREQUIRED (spec 3.1); TLS without a certificate: AUTHENTICATIONFAILED', async () => {
  const raw = netConnect(srv.ports.imap!, '127.0.0.1');
  await once(raw, 'connect');
  const c = new Client(raw);
  await c.readLine();
  await c.no('AUTHENTICATE EXTERNAL =', 'PRIVACYREQUIRED');
  c.destroy();
  const { c: t } = await imaps();
  await t.no('AUTHENTICATE EXTERNAL =', 'AUTHENTICATIONFAILED');
  t.destroy();
});

test('password for the same account on a certificate connection works and sets the user name; another account is refused and the identity stays', async () => {
  let { c } = await imaps(noPreauthKey);
  await c.ok(`LOGIN al@example.test ${PASSWORD}`);
  c.destroy();
  ({ c } = await imaps(noPreauthKey));
  await c.no(`AUTHENTICATE PLAIN ${b64('\0bob@example.test\0bobpassword')}`, 'AUTHENTICATIONFAILED');
  await c.no('LOGIN bob@example.test bobpassword', 'AUTHENTICATIONFAILED');
  // The connection keeps its certificate identity: EXTERNAL still logs in as alice.
  const cap = await c.ok('CAPABILITY');
  assert.match(cap.untagged.join('\n'), /AUTH=EXTERNAL/);
  await c.ok('AUTHENTICATE EXTERNAL =');
  c.destroy();
});

test('a login-disabled account cannot get in by any path', async () => {
  await srv.server.ctx.store.setLoginDisabled('bob', 'on holiday');
  try {
    let { c, greeting } = await imaps(bobKey);
    assert.match(greeting, /^\* OK /, 'no PREAUTH for a disabled account');
    await c.no('AUTHENTICATE EXTERNAL =', 'AUTHENTICATIONFAILED');
    await c.no('LOGIN bob@example.test bobpassword');
    await c.no(`AUTHENTICATE PLAIN ${b64('\0bob@example.test\0bobpassword')}`);
    c.destroy();
    const s = await starttls(bobKey);
    await s.no('AUTHENTICATE EXTERNAL =');
    s.destroy();
  } finally {
    await srv.server.ctx.store.setLoginDisabled('bob', null);
  }
});

test('removing the key with the CLI from another process ends the PREAUTH session within a second', async () => {
  const k = generateClientCertificate('to be removed');
  await register(aliceId, k, ADDRESS);
  const { c, greeting } = await imaps(k);
  assert.match(greeting, /^\* PREAUTH/);
  await c.ok('SELECT INBOX');
  const r = await posternAsync(['--dir', srv.dir, 'config', 'tlspubkey', 'rm', k.fingerprint]);
  assert.equal(r.status, 0, r.stderr);
  const removedAt = Date.now();
  const lines = await c.expectClosed(3000);
  assert.ok(Date.now() - removedAt < 1000, `closed ${Date.now() - removedAt} ms after the removal`);
  assert.ok(lines.some((l) => /^\* BYE/.test(l)), `BYE sent: ${lines.join(' | ')}`);
  // And the key no longer authenticates.
  const again = await imaps(k);
  assert.match(again.greeting, /^\* OK /);
  again.c.destroy();
});
