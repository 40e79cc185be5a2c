// The verified-credential cache end to end: a repeated password login is answered from the cache,
// and whatever changes the credentials (setaccountpassword from another process, the web password
// change, login disabled) refuses the old password on the very next attempt, on IMAP, SMTP and web.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { StoreAuthenticator } from '../../src/auth/store-authenticator.js';
import { postern } from '../cli/run-cli.js';
import { startTestServer, ADDRESS, PASSWORD, type TestServer } from '../e2e/server-harness.js';
import { WebClient } from '../web/harness.js';
import { b64, imaps, Smtp } from './support.js';

let srv: TestServer;
let auth: StoreAuthenticator;

before(async () => {
  srv = await startTestServer({ services: ['imaps', 'submissions', 'http'] });
  auth = srv.server.ctx.auth as StoreAuthenticator;
});

after(async () => {
  await srv.stop();
});

/** One IMAP LOGIN on a new connection: the tagged status and text. */
async function imapLogin(password: string): Promise<string> {
  const { c } = await imaps(srv.ports.imaps!);
  try {
    const r = await c.cmd(`LOGIN ${ADDRESS} "${password}"`);
    return `${r.status} ${r.text}`;
  } finally {
    c.destroy();
  }
}

async function smtpAuth(password: string): Promise<string> {
  const s = await Smtp.connect(srv.ports.submissions!, { tls: true });
  try {
    await s.expect(220);
    await s.ehlo();
    const r = await s.cmd(`AUTH PLAIN ${b64(`\0${ADDRESS}\0${password}`)}`);
    return `${r.code} ${r.enhanced ?? ''}`.trim();
  } finally {
    s.close();
  }
}

test('a repeated login is a cache hit: no scrypt run', async () => {
  const pool = auth.verifier.pool;
  let hashes = 0;
  const scrypt = pool.scrypt.bind(pool);
  pool.scrypt = (...args) => (hashes++, scrypt(...args));
  try {
    assert.match(await imapLogin(PASSWORD), /^OK /);
    const first = hashes;
    assert.match(await imapLogin(PASSWORD), /^OK /);
    assert.equal(await smtpAuth(PASSWORD), '235 2.7.0');
    assert.equal(hashes, first, 'IMAP and SMTP logins after the first need no hashing');
    assert.match(await imapLogin('wrong password'), /^NO \[AUTHENTICATIONFAILED\]/);
    assert.equal(hashes, first + 1);
  } finally {
    pool.scrypt = scrypt;
  }
});

test('setaccountpassword in another process: the cached old password is refused on the next attempt', async () => {
  assert.match(await imapLogin(PASSWORD), /^OK /); // cached
  const r = postern(['--dir', srv.dir, 'setaccountpassword', 'alice'], { input: 'second-password\n' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(await imapLogin(PASSWORD), /^NO \[AUTHENTICATIONFAILED\]/);
  assert.equal(await smtpAuth(PASSWORD), '535 5.7.8');
  assert.match(await imapLogin('second-password'), /^OK /);
});

test('web password change: the old password is refused right after, on IMAP, SMTP and web', async () => {
  assert.match(await imapLogin('second-password'), /^OK /);
  assert.equal(await smtpAuth('second-password'), '235 2.7.0');
  const web = new WebClient(srv.ports.http!, false);
  await web.loginOk(ADDRESS, 'second-password');
  const change = await web.request('POST', '/account/api/password', { json: { oldPassword: 'second-password', newPassword: 'third-password' } });
  assert.equal(change.status, 204, change.text);
  assert.match(await imapLogin('second-password'), /^NO \[AUTHENTICATIONFAILED\]/);
  assert.equal(await smtpAuth('second-password'), '535 5.7.8');
  assert.equal((await new WebClient(srv.ports.http!, false).login(ADDRESS, 'second-password')).status, 401);
  assert.match(await imapLogin('third-password'), /^OK /);
});

test('login disabled: a cached password no longer logs in, and its entries are dropped', async () => {
  assert.match(await imapLogin('third-password'), /^OK /);
  assert.ok(auth.verifier.cache.size > 0);
  await srv.server.ctx.store.setLoginDisabled('alice', 'test');
  assert.match(await imapLogin('third-password'), /^NO /);
  assert.equal(auth.verifier.cache.size, 0, 'the stale entry went on that attempt');
  await srv.server.ctx.store.setLoginDisabled('alice', null);
  assert.match(await imapLogin('third-password'), /^OK /);
});
