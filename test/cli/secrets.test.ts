// No secret comes back (issue 15): every secret-bearing setting is fed malformed values, and all
// the output is searched for the secret: stdout, stderr and ~/dead.letter of `postern sendmail`,
// stdout and stderr of the CLI on a broken postern.conf or a refused password, and the log of a
// running server that is sent wrong passwords, forged cookies and CSRF tokens over web, IMAP and
// SMTP.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createLogger } from '../../src/log/logger.js';
import { generateClientCertificate } from '../../src/tls/generate.js';
import { ADDRESS, startTestServer } from '../e2e/server-harness.js';
import { postern } from './run-cli.js';

let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'postern-secrets-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

/** A fresh secret of base64url characters, unlike anything else in the output. */
const secret = (): string => `Zq${randomBytes(20).toString('base64url')}`;

/** The forms a secret could leak in: as is, and base64 (SASL PLAIN, a seed re-encoded). */
function assertAbsent(output: string, s: string, what: string): void {
  for (const form of [s, Buffer.from(s).toString('base64'), Buffer.from(s).toString('base64url')]) {
    assert.ok(!output.includes(form), `${what}: the secret ${s} appears in the output:\n${output}`);
  }
}

test('sendmail.conf: malformed passwords and keys never come back on stdout, stderr or in dead.letter', () => {
  const head = 'host: 127.0.0.1\nport: 1\ntls: implicit\ntlsInsecure: true\nusername: alice@example.org\nfrom: alice@example.org\n';
  const key = generateClientCertificate('k', 'ed25519');
  const keyBody = key.keyPem.split('\n')[1]!;
  const cases: { name: string; conf: (s: string) => string; secret?: string }[] = [
    { name: 'password as a list', conf: (s) => `${head}password: [${s}]\n` },
    { name: 'password as a mapping', conf: (s) => `${head}password: {${s}: 1}\n` },
    { name: 'password with an unclosed quote', conf: (s) => `${head}password: "${s}\n` },
    { name: 'password with a stray quote', conf: (s) => `${head}password: '${s}'x\n` },
    { name: 'password with an unknown tag', conf: (s) => `${head}password: !secret ${s}\n` },
    { name: 'password with an unresolvable tag', conf: (s) => `${head}password: !${s}!x y\n` },
    { name: 'password as an alias', conf: (s) => `${head}password: *${s}\n` },
    { name: 'password with a bad escape', conf: (s) => `${head}password: "\\q${s}"\n` },
    { name: 'password as a nested mapping', conf: (s) => `${head}password: ${s}: x\n` },
    { name: 'password given twice', conf: (s) => `${head}password: ${s}\npassword: ${s}\n` },
    { name: 'password after a list item', conf: (s) => `- x\n${s}: 1\n` },
    { name: 'seed, one character short', conf: (s) => `${head}clientEd25519Key: ${s}\n`, secret: randomBytes(32).toString('base64url').slice(0, 42) },
    { name: 'seed in standard base64', conf: (s) => `${head}clientEd25519Key: "${s}"\n`, secret: randomBytes(32).toString('base64') },
    { name: 'seed, 33 bytes', conf: (s) => `${head}clientEd25519Key: ${s}\n`, secret: randomBytes(33).toString('base64url') },
    { name: 'seed with a space', conf: (s) => `${head}clientEd25519Key: "${s}"\n`, secret: `${randomBytes(16).toString('base64url')} ${randomBytes(16).toString('base64url')}` },
    { name: 'seed as a list', conf: (s) => `${head}clientEd25519Key: [${s}]\n` },
    { name: 'broken inline PEM', conf: (s) => `${head}clientEd25519Key: "-----BEGIN PRIVATE KEY-----\\n${s}\\n-----END PRIVATE KEY-----"\n` },
    { name: 'key pasted as clientKeyCertFile', conf: () => `${head}clientKeyCertFile: ${JSON.stringify(key.keyPem)}\n`, secret: keyBody },
    { name: 'clientKeyCertFile as a mapping', conf: (s) => `${head}clientKeyCertFile: {${s}: 1}\n` },
  ];
  for (const c of cases) {
    const s = c.secret ?? secret();
    const home = mkdtempSync(join(root, 'home-'));
    const confFile = join(home, 'sendmail.conf');
    writeFileSync(confFile, c.conf(s));
    const r = postern(['sendmail', 'bob@example.com'], { input: 'Subject: x\n\nhello\n', env: { HOME: home, POSTERN_SENDMAIL_CONFIG: confFile } });
    assert.notEqual(r.status, 0, `${c.name}: must fail`);
    assert.match(r.stderr, /postern sendmail: /, `${c.name}: a clear error`);
    const dead = join(home, 'dead.letter');
    assertAbsent(r.stdout + r.stderr + (existsSync(dead) ? readFileSync(dead, 'utf8') : ''), s, c.name);
  }
});

test('postern.conf: relay passwords and key files never come back; nor does a refused CLI password', () => {
  const dir = join(root, 'data');
  const quick = postern(['quickstart', '--dir', dir, '--hostname', 'localhost', '--listen', '127.0.0.1', '--password', 'initial-password', 'alice@example.test']);
  assert.equal(quick.status, 0, quick.stderr);
  const conf = join(dir, 'postern.conf');
  const good = readFileSync(conf, 'utf8');
  const relay = (pw: string) => `${good}\ntransports:\n  "*":\n    host: relay.example.net\n    port: 587\n    tls: starttls\n    username: relay-user\n    password: ${pw}\n`;
  const key = generateClientCertificate('k', 'ecdsa-p256');
  const keyBody = key.keyPem.split('\n')[1]!;
  const cases: { name: string; conf: (s: string) => string; secret?: string }[] = [
    { name: 'relay password as a list', conf: (s) => relay(`[${s}]`) },
    { name: 'relay password as a mapping', conf: (s) => relay(`{${s}: 1}`) },
    { name: 'relay password with an unclosed quote', conf: (s) => relay(`"${s}`) },
    { name: 'relay password with an unknown tag', conf: (s) => relay(`!pw ${s}`) },
    { name: 'relay password with an unresolvable tag', conf: (s) => relay(`!${s}!x y`) },
    { name: 'relay password as an alias', conf: (s) => relay(`*${s}`) },
    { name: 'relay password as a nested mapping', conf: (s) => relay(`${s}: x`) },
    { name: 'relay password with a bad escape', conf: (s) => relay(`"\\q${s}"`) },
    { name: 'relay password followed by a stray token', conf: (s) => `- ${s}\n${s}: 1\n` },
    { name: 'TLS key pasted as keyFile', conf: () => good.replace('keyFile: tls/key.pem', `keyFile: ${JSON.stringify(key.keyPem)}`), secret: keyBody },
    // quickstart keeps DKIM keys in DIR/dkim/ now; an operator may still list keys under dkim:.
    { name: 'DKIM key pasted as keyFile', conf: () => `${good}dkim:\n  example.test:\n    - selector: s1\n      keyFile: ${JSON.stringify(key.keyPem)}\n`, secret: keyBody },
  ];
  for (const c of cases) {
    const s = c.secret ?? secret();
    const text = c.conf(s);
    assert.notEqual(text, good, `${c.name}: the case changes the config`);
    writeFileSync(conf, text);
    // Every command loads the config the same way (serve too); `account list` is the quickest.
    const r = postern(['--dir', dir, 'account', 'list']);
    assert.equal(r.status, 78, `${c.name}: the config is refused: ${r.stderr}`);
    assertAbsent(r.stdout + r.stderr, s, c.name);
  }
  writeFileSync(conf, good);
  // Passwords refused by the CLI, and one given to quickstart, are not repeated.
  const short = `Zq${randomBytes(2).toString('hex')}`; // under 8 characters
  const r1 = postern(['--dir', dir, 'setaccountpassword', 'alice'], { input: `${short}\n` });
  assert.notEqual(r1.status, 0);
  assertAbsent(r1.stdout + r1.stderr, short, 'short password on stdin');
  const r2 = postern(['quickstart', '--dir', join(root, 'q2'), '--hostname', 'localhost', '--password', short, 'bob@example.test']);
  assert.notEqual(r2.status, 0);
  assertAbsent(r2.stdout + r2.stderr, short, 'short password to quickstart');
  const given = secret();
  const r3 = postern(['quickstart', '--dir', join(root, 'q3'), '--hostname', 'localhost', '--password', given, 'bob@example.test']);
  assert.equal(r3.status, 0, r3.stderr);
  assertAbsent(r3.stdout + r3.stderr, given, 'password given to quickstart');
});

/** One HTTP request to the loopback web listener; resolves with the status. */
function http(port: number, method: string, path: string, headers: Record<string, string>, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Sends lines to a plain-text protocol port, waiting for an answer to each; returns everything. */
async function converse(port: number, lines: string[], tls = false): Promise<string> {
  const sock = tls ? tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }) : connect(port, '127.0.0.1');
  let got = '';
  let wake: () => void = () => {};
  sock.on('data', (d: Buffer) => {
    got += d.toString('latin1');
    wake();
  });
  const waitFor = async (n: number) => {
    while (got.length <= n) await new Promise<void>((r) => ((wake = r), setTimeout(r, 2000)));
  };
  await waitFor(0);
  for (const l of lines) {
    const before = got.length;
    sock.write(`${l}\r\n`);
    await waitFor(before);
  }
  sock.destroy();
  return got;
}

test('a running server logs no password, cookie or CSRF token it was sent (debug level)', async () => {
  let log = '';
  const srv = await startTestServer({ services: ['http', 'imap', 'submissions'], log: createLogger({ level: 'debug', write: (l) => (log += l + '\n') }) });
  try {
    const s = secret();
    const json = { 'content-type': 'application/json' };
    assert.equal(await http(srv.ports.http!, 'POST', '/account/api/login', json, JSON.stringify({ address: ADDRESS, password: s })), 401);
    assert.equal(await http(srv.ports.http!, 'POST', '/account/api/login', json, `{"address": "${ADDRESS}", "password": "${s}`), 400);
    assert.equal(await http(srv.ports.http!, 'GET', '/account/api/session', { cookie: `postern-session=${s}` }), 401);
    assert.equal(await http(srv.ports.http!, 'POST', '/account/api/password', { ...json, cookie: `postern-session=${s}`, 'x-csrf-token': s }, JSON.stringify({ oldPassword: s, newPassword: s })), 401);
    const imap = await converse(srv.ports.imap!, [`a LOGIN ${ADDRESS} ${s}`, `b LOGIN "${ADDRESS}" "${s}`, 'c LOGOUT']);
    assert.match(imap, /a NO/);
    const plain = (pw: string) => Buffer.from(`\0${ADDRESS}\0${pw}`).toString('base64');
    const smtp = await converse(srv.ports.submissions!, ['EHLO test', `AUTH PLAIN ${plain(s)}`, `AUTH PLAIN ${plain(s).slice(1)}`, 'AUTH LOGIN', Buffer.from(ADDRESS).toString('base64'), Buffer.from(s).toString('base64'), 'QUIT'], true);
    assert.match(smtp, /535/);
    assert.ok(log.length > 0, 'the server logged something');
    assertAbsent(log, s, 'server log');
    assert.ok(!log.includes(plain(s)), 'server log: the SASL PLAIN message');
  } finally {
    await srv.stop();
  }
});
