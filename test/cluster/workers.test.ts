// `postern serve --workers 3` (issue 20): what lived in one process holds across worker processes.
// One cluster for the file (starting one takes seconds on a small machine); each test tells which
// worker serves a session from the server's login lines (worker=SLOT).

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as netConnect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import YAML from 'yaml';
import { ImapClient } from '../../src/imap/client/index.js';
import { opensslCert, opensslFingerprint } from '../e2e/openssl.js';
import { postern, posternAsync } from '../cli/run-cli.js';
import { ADDRESS, PASSWORD, clusterDir, removeDir, startCluster, type ClusterChild } from './cluster-child.js';

const WORKERS = 3;
const PER_IP = 6;
/** Failed passwords per address and minute (127.0.0.2 spends them; the other tests use 127.0.0.1). */
const FAILURES = 6;
let dir: string;
let c: ClusterChild;

before(async () => {
  dir = clusterDir(['imap', 'imaps'], { limits: { imap: { maxConnectionsPerIp: PER_IP } }, auth: { failuresPerMinute: [FAILURES, 1000, 1000] } });
  c = await startCluster(dir, WORKERS, ['imap', 'imaps']);
});

after(async () => {
  await c?.kill('SIGTERM');
  removeDir(dir);
});

/** Logs in over STARTTLS; resolves with the client and the worker slot that took the session. */
async function login(): Promise<{ client: ImapClient; worker: number }> {
  const before = c.logins().length;
  const client = await ImapClient.connect({ host: '127.0.0.1', port: c.ports.imap!, tls: 'starttls', insecure: true, auth: { username: ADDRESS, password: PASSWORD } });
  await c.waitFor('the login line', () => c.logins().length > before);
  return { client, worker: c.logins()[before]! };
}

/** Sessions until they cover at least two workers (round-robin usually needs WORKERS). */
async function sessionsOnSeveralWorkers(min: number): Promise<{ client: ImapClient; worker: number }[]> {
  const out: { client: ImapClient; worker: number }[] = [];
  while (out.length < min || new Set(out.map((s) => s.worker)).size < 2) {
    assert.ok(out.length < 12, 'connections never reached a second worker');
    out.push(await login());
  }
  return out;
}

test('IDLE sessions on every worker see an APPEND made through another worker', async () => {
  const idlers = await sessionsOnSeveralWorkers(WORKERS);
  const seen = idlers.map(() => 0);
  const notified = idlers.map(
    (s, i) =>
      new Promise<void>((resolve) => {
        s.client.on('exists', (n: number) => {
          seen[i] = n;
          resolve();
        });
      }),
  );
  const handles = [];
  for (const s of idlers) {
    const mb = await s.client.select('INBOX');
    assert.equal(mb.exists, 0);
    handles.push(await s.client.idle());
  }
  const writer = await login();
  const r = await writer.client.append('INBOX', 'Subject: fan-out\r\nMessage-ID: <fanout@example.test>\r\n\r\nhello\r\n');
  assert.equal(r.uid, 1);
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`not every IDLE session was told: ${JSON.stringify(seen)}`)), 5000).unref());
  await Promise.race([Promise.all(notified), timeout]);
  assert.deepEqual(seen, idlers.map(() => 1));
  // The writer's worker and at least one other worker both had idlers.
  assert.ok(idlers.some((s) => s.worker !== writer.worker), 'an idler on another worker than the writer');
  for (const h of handles) await h.done();
  for (const s of [...idlers, writer]) await s.client.logout();
});

test('the per-address connection limit holds across workers; a close anywhere frees a place', async () => {
  // Every earlier session has ended: wait until the server counted them out.
  await new Promise((r) => setTimeout(r, 300));
  const sessions = [];
  for (let i = 0; i < PER_IP; i++) sessions.push(await login());
  assert.ok(new Set(sessions.map((s) => s.worker)).size >= 2, `sessions on one worker only: ${sessions.map((s) => s.worker)}`);
  // One more from the same address: refused whichever worker takes it.
  for (let i = 0; i < WORKERS; i++) {
    const sock = netConnect(c.ports.imap!, '127.0.0.1');
    let text = '';
    sock.on('data', (d) => (text += d));
    await once(sock, 'close');
    assert.match(text, /^\* BYE \[LIMIT\] too many connections/, `attempt ${i}`);
  }
  await sessions[0]!.client.logout();
  // The release reaches the coordinator; then a new connection is let in.
  const deadline = Date.now() + 3000;
  for (;;) {
    const sock = netConnect(c.ports.imap!, '127.0.0.1');
    const greeting = await firstLine(sock);
    sock.destroy();
    if (greeting.startsWith('* OK')) break;
    assert.ok(Date.now() < deadline, `never let in again: ${greeting}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const s of sessions.slice(1)) await s.client.logout();
});

function firstLine(sock: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    sock.on('data', (d) => {
      text += d;
      if (text.includes('\r\n')) resolve(text.split('\r\n')[0]!);
    });
    sock.on('close', () => resolve(text));
    sock.on('error', () => resolve(text));
  });
}

test('a key removed with the CLI ends its sessions on every worker within 1 s', async () => {
  await new Promise((r) => setTimeout(r, 300));
  const cert = opensslCert('ed25519', { subject: '/CN=cluster device' });
  const add = postern(['--dir', dir, 'config', 'tlspubkey', 'add', ADDRESS], { input: cert.certPem });
  assert.equal(add.status, 0, add.stderr);
  const fp = add.stdout.trim();
  assert.equal(fp, opensslFingerprint(cert.certFile));
  // PREAUTH sessions by the key, until they cover several workers.
  const sessions: { sock: Socket; worker: number; bye: Promise<number> }[] = [];
  while (sessions.length < WORKERS || new Set(sessions.map((s) => s.worker)).size < 2) {
    assert.ok(sessions.length < 12, 'sessions never reached a second worker');
    const before = c.logins().length;
    const sock = tlsConnect({ host: '127.0.0.1', port: c.ports.imaps!, rejectUnauthorized: false, key: cert.keyPem, cert: cert.certPem });
    let text = '';
    const bye = new Promise<number>((resolve) => {
      sock.on('data', (d) => {
        text += d;
        if (/\* BYE /.test(text)) resolve(Date.now());
      });
    });
    sock.on('error', () => {});
    await once(sock, 'secureConnect');
    await c.waitFor('the PREAUTH login line', () => c.logins().length > before);
    assert.match(text.length ? text : await new Promise<string>((r) => sock.once('data', (d) => r(String(d)))), /^\* PREAUTH /);
    sessions.push({ sock, worker: c.logins()[before]!, bye });
  }
  const rm = await posternAsync(['--dir', dir, 'config', 'tlspubkey', 'rm', fp]);
  const removedAt = Date.now();
  assert.equal(rm.status, 0, rm.stderr);
  const byes = await Promise.race([Promise.all(sessions.map((s) => s.bye)), new Promise<null>((r) => setTimeout(() => r(null), 3000))]);
  assert.ok(byes, 'a session on some worker was not ended');
  for (const [i, at] of byes.entries()) assert.ok(at - removedAt < 1000, `session ${i} (worker ${sessions[i]!.worker}) ended ${at - removedAt} ms after the removal`);
  for (const s of sessions) s.sock.destroy();
});

test('a TLS session resumes on any worker: one ticket secret for all', async () => {
  await new Promise((r) => setTimeout(r, 300));
  let session: Buffer | undefined;
  const resumedOn = new Set<number>();
  for (let i = 0; i < 4 * WORKERS && resumedOn.size < 2; i++) {
    const before = c.logins().length;
    const sock = tlsConnect({ host: '127.0.0.1', port: c.ports.imaps!, rejectUnauthorized: false, ...(session && { session }) });
    // TLS 1.3 tickets come after the handshake, as 'session' events.
    sock.on('session', (s: Buffer) => (session = s));
    let text = '';
    sock.on('data', (d) => (text += d));
    await once(sock, 'secureConnect');
    const reused = sock.isSessionReused();
    sock.write(`a LOGIN ${ADDRESS} ${PASSWORD}\r\n`);
    await c.waitFor('the login line', () => c.logins().length > before);
    const worker = c.logins()[before]!;
    if (i > 0) assert.ok(reused, `connection ${i} (worker ${worker}) did not resume its session`);
    if (reused) resumedOn.add(worker);
    sock.end('b LOGOUT\r\n');
    await once(sock, 'close');
    assert.match(text, /a OK/);
  }
  assert.ok(resumedOn.size >= 2, `resumed on workers ${[...resumedOn]} only`);
});

/** One LOGIN over IMAPS from 127.0.0.2; resolves with everything the server said. */
async function loginFrom127002(password: string): Promise<string> {
  const raw = netConnect({ host: '127.0.0.1', port: c.ports.imaps!, localAddress: '127.0.0.2' });
  const sock = tlsConnect({ socket: raw, rejectUnauthorized: false });
  let text = '';
  sock.on('data', (d) => (text += d));
  let error = '';
  sock.on('error', (e) => (error = e.message));
  await once(sock, 'secureConnect');
  sock.write(`a LOGIN ${ADDRESS} ${password}\r\n`);
  const deadline = Date.now() + 10_000;
  while (!/^a (OK|NO|BAD)/m.test(text) && !sock.destroyed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  sock.destroy();
  return text || `(nothing; ${error || 'no error'})`;
}

test('failed passwords count against the address on every worker together', async () => {
  const failedOn = () => [...c.output().matchAll(/ info authentication failed worker=(\d+) .*ip=127\.0\.0\.2/g)].map((m) => Number(m[1]));
  for (let i = 0; i < FAILURES; i++) assert.match(await loginFrom127002('wrongpassword'), /^a NO /m);
  await c.waitFor('the failure lines', () => failedOn().length === FAILURES);
  assert.ok(new Set(failedOn()).size >= 2, `failures on one worker only: ${failedOn()}`);
  // Spent on all workers together: the right password is refused now, whichever worker answers.
  for (let i = 0; i < WORKERS; i++) {
    const text = await loginFrom127002(PASSWORD);
    assert.doesNotMatch(text, /^a OK/m, `attempt ${i} got in`);
    assert.match(text, /too many failed logins/);
  }
});

test('SIGHUP replaces every worker one at a time; the new ones read the changed postern.conf', async () => {
  await new Promise((r) => setTimeout(r, 300));
  const old = c.workers();
  const file = join(dir, 'postern.conf');
  const doc = YAML.parse(readFileSync(file, 'utf8')) as { limits: { imap: { maxConnectionsPerIp: number } } };
  doc.limits.imap.maxConnectionsPerIp = 2;
  writeFileSync(file, YAML.stringify(doc));
  c.proc.kill('SIGHUP');
  await c.waitFor('every worker replaced', () => [...old].every(([slot, pid]) => c.workers().get(slot) !== undefined && c.workers().get(slot) !== pid), 60_000);
  assert.match(c.output(), /reload: replacing the workers one at a time/);
  const a = await login();
  const b = await login();
  const sock = netConnect(c.ports.imap!, '127.0.0.1');
  assert.match(await firstLine(sock), /^\* BYE \[LIMIT\] too many connections/);
  sock.destroy();
  for (const s of [a, b]) await s.client.logout();
});
