// Spec 3.4, the attempt policy shared by IMAP, SMTP and the web:
// - a brute-force run of wrong passwords from one address gets that address refused on every
//   listener (`* BYE`, `421 4.7.0`, HTTP 429), with the time to wait, while another address logs in;
// - a valid client certificate is never refused by the password budget: during a password flood
//   from its address, key logins go on (the lock-out of issue 15);
// - one connection gets at most maxFailuresPerConnection failures.
// The server listens on 127.0.0.1; on Linux any 127.0.0.0/8 source address reaches it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request } from 'node:http';
import { connect as netConnect } from 'node:net';
import { startTestServer, ADDRESS, PASSWORD, type TestServer } from '../e2e/server-harness.js';
import { Client } from '../imap/harness.js';
import { generateClientCertificate, type KeyAndCertificate } from '../../src/tls/generate.js';
import { b64, imaps, imapStarttls, registerKey, Smtp } from './support.js';

const REFUSED = /too many failed logins from your network; try again in \d+ seconds/;

async function imapPlain(port: number, localAddress: string): Promise<{ c: Client; greeting: string }> {
  const sock = netConnect({ host: '127.0.0.1', port, localAddress });
  await once(sock, 'connect');
  const c = new Client(sock);
  return { c, greeting: await c.readLine() };
}

/** POST /account/api/login from a chosen source address. */
function webLogin(port: number, localAddress: string, address: string, password: string): Promise<{ status: number; headers: Record<string, unknown>; json: any }> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ address, password });
    const req = request({ host: '127.0.0.1', port, localAddress, method: 'POST', path: '/account/api/login', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, json: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

let srv: TestServer;
let laptop: KeyAndCertificate;
let phone: KeyAndCertificate;

before(async () => {
  srv = await startTestServer({ services: ['imap', 'imaps', 'submission', 'submissions', 'http'] });
  await srv.server.ctx.store.createAccount('bob', 'bob@example.test');
  laptop = generateClientCertificate('alice laptop');
  phone = generateClientCertificate('alice phone');
  await registerKey(srv, 'alice', laptop, ADDRESS);
  await registerKey(srv, 'alice', phone, ADDRESS, true);
  await srv.server.ctx.store.updateTlsPubKey(laptop.fingerprint, { name: 'Laptop' });
  await srv.server.ctx.store.updateTlsPubKey(phone.fingerprint, { name: 'Phone' });
});

after(async () => {
  await srv.stop();
});

test('50 wrong passwords from 127.0.0.1: every listener refuses it and says how long; 127.0.0.2 still gets in', async () => {
  const attacker = '127.0.0.1';
  let failures = 0;
  let refusedEarly: string | undefined;
  let c: Client | undefined;
  while (failures < 50) {
    if (!c || c.closed) {
      // The server closes a connection after too many failures: reconnect, as an attacker would.
      const conn = await imaps(srv.ports.imaps!, { localAddress: attacker });
      if (/^\* BYE/.test(conn.greeting)) {
        refusedEarly = conn.greeting;
        conn.c.destroy();
        break;
      }
      assert.match(conn.greeting, /^\* OK /);
      c = conn.c;
    }
    let r;
    try {
      r = await c.cmd(`LOGIN ${ADDRESS} "guess ${failures}"`);
    } catch {
      continue; // closed while we asked: reconnect
    }
    assert.equal(r.status, 'NO', `guess ${failures}: ${r.status} ${r.text}`);
    failures++;
  }
  // Not so eager that a few typos lock a user out (spec 3.4: 10 per minute per address).
  assert.ok(failures >= 10, `refused after only ${failures} failures: ${refusedEarly}`);
  assert.match(refusedEarly ?? '', REFUSED);

  // Every listener refuses 127.0.0.1 now, before any authentication, and says how long to wait.
  const refused = await imaps(srv.ports.imaps!, { localAddress: attacker });
  assert.match(refused.greeting, /^\* BYE /);
  assert.match(refused.greeting, REFUSED);
  await refused.c.expectClosed();
  const implicit = await Smtp.connect(srv.ports.submissions!, { tls: true, localAddress: attacker });
  assert.match((await implicit.expect(421, '4.7.0')).lines.join(' '), REFUSED);
  implicit.close();
  // STARTTLS ports: the refusal comes once TLS shows there is no certificate (it could exempt).
  const plain = await Smtp.connect(srv.ports.submission!, { localAddress: attacker });
  await plain.expect(220);
  await plain.ehlo();
  await plain.startTls();
  assert.match((await plain.expect(421, '4.7.0')).lines.join(' '), REFUSED);
  await plain.waitClosed();
  const raw = await imapPlain(srv.ports.imap!, attacker);
  assert.match(raw.greeting, /^\* OK /);
  raw.c.destroy();
  const web = await webLogin(srv.ports.http!, attacker, ADDRESS, PASSWORD);
  assert.equal(web.status, 429);
  assert.match(web.json.error.message, REFUSED);
  assert.ok(Number(web.headers['retry-after']) >= 1 && Number(web.headers['retry-after']) <= 60, String(web.headers['retry-after']));

  // Another address, even with the right password, is not affected.
  const other = '127.0.0.2';
  const { c: good, greeting } = await imaps(srv.ports.imaps!, { localAddress: other });
  assert.match(greeting, /^\* OK /);
  await good.ok(`LOGIN ${ADDRESS} ${PASSWORD}`);
  await good.ok('SELECT INBOX');
  good.destroy();
  const s = await Smtp.connect(srv.ports.submission!, { localAddress: other });
  await s.expect(220);
  await s.ehlo();
  await s.startTls();
  await s.ehlo();
  await s.cmd(`AUTH PLAIN ${b64(`\0${ADDRESS}\0${PASSWORD}`)}`, 235, '2.7.0');
  s.close();
});

test('a password flood from an address never locks out its client certificates (issue 15)', async () => {
  const ip = '127.0.0.5';
  // Wrong web passwords for another account, as in the report, until the address is refused.
  let status = 401;
  for (let i = 0; i < 12 && status === 401; i++) status = (await webLogin(srv.ports.http!, ip, 'bob@example.test', `wrong ${i}`)).status;
  assert.equal(status, 429, 'the flood reached the budget');
  const pw = await webLogin(srv.ports.http!, ip, ADDRESS, PASSWORD);
  assert.equal(pw.status, 429);

  // Every certificate login from the same address succeeds ...
  const pre = await imaps(srv.ports.imaps!, { localAddress: ip, cert: laptop });
  assert.match(pre.greeting, /^\* PREAUTH /);
  await pre.c.ok('SELECT INBOX');
  pre.c.destroy();
  const ext = await imaps(srv.ports.imaps!, { localAddress: ip, cert: phone });
  assert.match(ext.greeting, /^\* OK /);
  await ext.c.ok('AUTHENTICATE EXTERNAL =');
  ext.c.destroy();
  const st = await imapStarttls(srv.ports.imap!, { localAddress: ip, cert: phone });
  await st.ok('AUTHENTICATE EXTERNAL =');
  st.destroy();
  const smtps = await Smtp.connect(srv.ports.submissions!, { tls: true, localAddress: ip, cert: laptop });
  await smtps.expect(220);
  await smtps.ehlo();
  await smtps.cmd(`MAIL FROM:<${ADDRESS}>`, 250);
  smtps.close();
  const sub = await Smtp.connect(srv.ports.submission!, { localAddress: ip });
  await sub.expect(220);
  await sub.ehlo();
  await sub.startTls(laptop);
  await sub.ehlo();
  await sub.cmd('AUTH EXTERNAL =', 235, '2.7.0');
  await sub.cmd(`MAIL FROM:<${ADDRESS}>`, 250);
  sub.close();
  // ... while passwords are refused, with the time to wait.
  const noCert = await imaps(srv.ports.imaps!, { localAddress: ip });
  assert.match(noCert.greeting, REFUSED);
  noCert.c.destroy();

  // Login attempts: the refused password is there with its reason; each key login is one row,
  // named by its key, with the mechanism that was used.
  const store = srv.server.ctx.store;
  const alice = (await store.getAccount('alice'))!;
  const rows = (await store.listLoginAttempts(alice.id, 100)).filter((a) => a.ip === ip).reverse();
  assert.deepEqual(rows.map((a) => `${a.protocol} ${a.mechanism} ${a.result} ${a.keyFingerprint === laptop.fingerprint ? 'laptop' : a.keyFingerprint === phone.fingerprint ? 'phone' : '-'}`), [
    'web web password refused -',
    'imap tlsclientauth ok laptop',
    'imap EXTERNAL ok phone',
    'imap EXTERNAL ok phone',
    'smtp tlsclientauth ok laptop',
    'smtp tlsclientauth ok laptop',
  ]);
});

test('one connection gets at most 10 failures, whatever the address budget', async () => {
  const big = await startTestServer({ services: ['imaps', 'submissions'], config: { auth: { failuresPerMinute: [1000, 1000, 1000], failuresPerDay: [1000, 1000, 1000] } } });
  try {
    const { c } = await imaps(big.ports.imaps!);
    for (let i = 0; i < 9; i++) await c.no(`LOGIN ${ADDRESS} "guess ${i}"`, 'AUTHENTICATIONFAILED');
    c.write('t10 LOGIN alice@example.test guess\r\n');
    const lines = await c.expectClosed();
    assert.match(lines.join('\n'), /^t10 NO \[AUTHENTICATIONFAILED\]/m);
    assert.match(lines.join('\n'), /^\* BYE too many failed logins on this connection/m);
    const s = await Smtp.connect(big.ports.submissions!, { tls: true });
    await s.expect(220);
    await s.ehlo();
    for (let i = 0; i < 9; i++) await s.cmd(`AUTH PLAIN ${b64(`\0${ADDRESS}\0guess ${i}`)}`, 535, '5.7.8');
    assert.match((await s.cmd(`AUTH PLAIN ${b64(`\0${ADDRESS}\0guess`)}`, 421, '4.7.0')).lines.join(' '), /too many failed logins on this connection/);
    await s.waitClosed();
  } finally {
    await big.stop();
  }
});
