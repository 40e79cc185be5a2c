// Certificates by ACME against a real CA (Debian's pebble): issuance with http-01 and with
// tls-alpn-01, renewal swapped in under a live IMAPS connection, and a failed renewal that keeps the
// old certificate and shows in `postern tls status`.

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test, type TestContext } from 'node:test';
import { connect, type TLSSocket } from 'node:tls';
import { startTestServer, ADDRESS, PASSWORD, type TestServer } from '../e2e/server-harness.js';
import { postern } from '../cli/run-cli.js';
import { ariCertId } from '../../src/acme/ari.js';
import { freePort, pebbleInstalled, startAriProxy, startPebble, TestDns, type Pebble } from './pebble.js';

const HOST = 'mail.example.org';
const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

function skipWithoutPebble(t: TestContext): boolean {
  if (pebbleInstalled()) return false;
  if (process.env.CI === 'true') assert.fail('pebble is not installed (apt-get install pebble)');
  t.skip('pebble is not installed');
  return true;
}

interface Setup {
  srv: TestServer;
  pebble: Pebble;
  dns: TestDns;
  root: string;
}

async function setup(o: { challenges: string[]; names?: Record<string, boolean>; validitySeconds?: number; services?: ('http' | 'https' | 'imaps')[]; ariWindow?: (certId: string) => { start: Date; end: Date } }): Promise<Setup & { ariAsked: string[] }> {
  const dns = await TestDns.start();
  cleanups.push(() => dns.close());
  const http = await freePort();
  const https = await freePort();
  const pebble = await startPebble({ httpPort: http, tlsPort: https, dnsPort: dns.port, validitySeconds: o.validitySeconds });
  cleanups.push(() => pebble.stop());
  const ari = o.ariWindow ? await startAriProxy(pebble, o.ariWindow) : null;
  if (ari) cleanups.push(() => ari.close());
  const directoryUrl = ari?.directoryUrl ?? pebble.directoryUrl;
  const srv = await startTestServer({
    address: 'alice@example.org',
    services: o.services ?? ['http', 'https', 'imaps'],
    ports: { http, https },
    config: {
      hostname: HOST,
      tls: {
        certFile: 'tls/cert.pem',
        keyFile: 'tls/key.pem',
        acme: { directoryUrl, caFile: pebble.caFile, contact: 'postmaster@example.org', challenges: o.challenges, ...(o.names ? { names: o.names } : {}) },
      },
    },
  });
  cleanups.push(() => srv.stop());
  return { srv, pebble, dns, root: await pebble.root(), ariAsked: ari?.asked ?? [] };
}

async function waitFor<T>(what: string, fn: () => T | null | undefined | false, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The certificate a TLS client verifying against `ca` gets for `servername`. */
async function handshake(port: number, servername: string, ca: string | Buffer, extra: { ALPNProtocols?: string[]; rejectUnauthorized?: boolean } = {}): Promise<{ sock: TLSSocket; cert: X509Certificate }> {
  const sock = connect({ host: '127.0.0.1', port, servername, ca, ...extra });
  await new Promise<void>((resolve, reject) => {
    sock.once('secureConnect', resolve);
    sock.once('error', reject);
  });
  return { sock, cert: new X509Certificate(sock.getPeerCertificate(false).raw) };
}

/** A logged-in IMAPS session over a verified TLS connection; `cmd` sends one command and reads its reply. */
async function imapsSession(port: number, ca: string) {
  const { sock, cert } = await handshake(port, HOST, ca);
  let buf = '';
  let waiter: (() => void) | null = null;
  sock.setEncoding('utf8');
  sock.on('data', (d: string) => {
    buf += d;
    waiter?.();
  });
  const readUntil = async (re: RegExp): Promise<string> => {
    while (!re.test(buf)) await new Promise<void>((r) => (waiter = r));
    const out = buf;
    buf = '';
    return out;
  };
  await readUntil(/^\* OK.*\r\n/m);
  let n = 0;
  const cmd = async (line: string): Promise<string> => {
    const tag = `a${++n}`;
    sock.write(`${tag} ${line}\r\n`);
    return readUntil(new RegExp(`^${tag} (OK|NO|BAD).*\\r\\n`, 'm'));
  };
  assert.match(await cmd(`LOGIN "${ADDRESS.replace('example.test', 'example.org')}" "${PASSWORD}"`), /^a1 OK/m);
  return { sock, cert, cmd };
}

function certFile(s: Setup, name: string): string {
  return join(s.srv.dir, 'acme', 'certs', `${name}.pem`);
}

test('http-01: certificates for the host name, mta-sts and autoconfig, served by SNI on IMAPS and HTTPS', async (t) => {
  if (skipWithoutPebble(t)) return;
  const s = await setup({ challenges: ['http-01'] });
  const store = s.srv.server.ctx.acme!.certificates;
  const names = [HOST, 'mta-sts.example.org', 'autoconfig.example.org'];
  for (const n of names) await waitFor(`certificate for ${n}`, () => store.getCertificate(n));
  // IMAPS with the host name: the new certificate, verified against pebble's root.
  const imaps = await handshake(s.srv.ports.imaps!, HOST, s.root);
  assert.ok(imaps.cert.checkHost(HOST));
  imaps.sock.destroy();
  const mtaSts = await handshake(s.srv.ports.https!, 'mta-sts.example.org', s.root);
  assert.ok(mtaSts.cert.checkHost('mta-sts.example.org'));
  mtaSts.sock.destroy();
  // The challenge path answers only pending tokens; the rest of the HTTP listener is unchanged.
  const base = `http://127.0.0.1:${s.srv.ports.http}`;
  for (const path of ['/.well-known/acme-challenge/unknown', '/.well-known/acme-challenge/../../etc/passwd', '/.well-known/acme-challenge/a?b=c']) {
    const r = await fetch(`${base}${path}`, { headers: { host: HOST } });
    assert.equal(r.status, 404, path);
  }
  const page = await fetch(`${base}/account/api/session`, { headers: { host: HOST } });
  assert.equal(page.status, 401, 'the web application still answers everything else');
  // A name without an ACME certificate keeps the configured (self-signed) one.
  const fallback = await handshake(s.srv.ports.imaps!, 'localhost', readFileSync(join(s.srv.dir, 'tls', 'cert.pem')));
  assert.ok(fallback.cert.checkHost('localhost'));
  fallback.sock.destroy();
  // The account key and the certificate files are in the data directory, not readable by others.
  assert.ok(readFileSync(join(s.srv.dir, 'acme', 'account.key.pem'), 'utf8').includes('PRIVATE KEY'));
  // The account URL, for the CAA record `dns records` prints (RFC 8657 accounturi).
  const accountUrl = readFileSync(join(s.srv.dir, 'acme', 'account-url.txt'), 'utf8').trim();
  assert.match(accountUrl, /^https:\/\/\S+$/);
  const records = postern(['--dir', s.srv.dir, 'dns', 'records', 'example.org']);
  assert.equal(records.status, 0, records.stderr);
  assert.ok(records.stdout.includes(`example.org. CAA 0 issue "localhost; accounturi=${accountUrl}"`), records.stdout);
  const cli = postern(['--dir', s.srv.dir, 'tls', 'status']);
  assert.equal(cli.status, 0, cli.stderr);
  for (const n of names) assert.match(cli.stdout, new RegExp(`^${n.replace(/\./g, '\\.')}$`, 'm'));
  assert.match(cli.stdout, /issuer: +.*Pebble/);
  assert.match(cli.stdout, /last error: +none/);
});

test('tls-alpn-01 on the HTTPS listener; acme-tls/1 without a pending challenge is refused', async (t) => {
  if (skipWithoutPebble(t)) return;
  // No HTTP listener: only tls-alpn-01 can be answered.
  const s = await setup({ challenges: ['http-01', 'tls-alpn-01'], names: { 'mta-sts.example.org': false, 'autoconfig.example.org': false }, services: ['https', 'imaps'] });
  const store = s.srv.server.ctx.acme!.certificates;
  await waitFor('certificate', () => store.getCertificate(HOST));
  const https = await handshake(s.srv.ports.https!, HOST, s.root, { ALPNProtocols: ['h2', 'http/1.1'] });
  assert.equal(https.sock.alpnProtocol, 'http/1.1');
  https.sock.destroy();
  await assert.rejects(handshake(s.srv.ports.https!, HOST, s.root, { ALPNProtocols: ['acme-tls/1'] }), /no application protocol|alert number 120/i);
});

test('renewal at two thirds of the lifetime, swapped in under a live IMAPS connection; a failed renewal keeps the certificate and shows in tls status', async (t) => {
  if (skipWithoutPebble(t)) return;
  const s = await setup({ challenges: ['http-01'], names: { 'mta-sts.example.org': false, 'autoconfig.example.org': false }, validitySeconds: 12 });
  const store = s.srv.server.ctx.acme!.certificates;
  const first = await waitFor('first certificate', () => store.getCertificate(HOST));
  const session = await imapsSession(s.srv.ports.imaps!, s.root);
  assert.equal(session.cert.serialNumber, first.leaf.serialNumber);

  // Renewed at two thirds of 12 s, not at the end.
  const second = await waitFor('renewal', () => {
    const c = store.getCertificate(HOST);
    return c && c.leaf.serialNumber !== first.leaf.serialNumber ? c : null;
  }, 30_000);
  const renewedAfter = Date.now() - first.notBefore.getTime();
  assert.ok(renewedAfter < 12_000, `renewed ${renewedAfter} ms after notBefore, before expiry`);
  // The key is kept (a TLSA 3 1 1 record stays valid).
  assert.equal(second.leaf.publicKey.export({ type: 'spki', format: 'der' }).toString('hex'), first.leaf.publicKey.export({ type: 'spki', format: 'der' }).toString('hex'));
  // The old connection keeps working; a new one sees the new certificate.
  assert.match(await session.cmd('NOOP'), /^a2 OK/m);
  assert.match(await session.cmd('SELECT INBOX'), /^a3 OK/m);
  const fresh = await handshake(s.srv.ports.imaps!, HOST, s.root);
  assert.equal(fresh.cert.serialNumber, second.leaf.serialNumber);
  fresh.sock.destroy();
  session.sock.destroy();

  // The CA now reaches nothing: the next renewal fails.
  s.dns.address = '127.0.0.2';
  const statusFile = join(s.srv.dir, 'acme', 'status.json');
  const failed = await waitFor('failed renewal', () => {
    const st = JSON.parse(readFileSync(statusFile, 'utf8')).names[HOST];
    return st.failures > 0 ? st : null;
  }, 30_000);
  assert.ok(failed.lastError, 'the error is recorded');
  assert.ok(Date.parse(failed.nextRenewal) > Date.now() + 5 * 60_000, 'retried later, with backoff');
  assert.equal(store.getCertificate(HOST)!.leaf.serialNumber, second.leaf.serialNumber, 'the old certificate is kept');
  assert.match(readFileSync(certFile(s, HOST), 'utf8'), /BEGIN CERTIFICATE/);
  // Still the one served (not verified: with a 12 s lifetime it may have expired by now).
  const kept = await handshake(s.srv.ports.imaps!, HOST, s.root, { rejectUnauthorized: false });
  assert.equal(kept.cert.serialNumber, second.leaf.serialNumber);
  kept.sock.destroy();
  const cli = postern(['--dir', s.srv.dir, 'tls', 'status']);
  assert.equal(cli.status, 0, cli.stderr);
  assert.match(cli.stdout, /last error: +\S.*1 failure in a row/);
  assert.doesNotMatch(cli.stdout, /last error: +none/);
});

test('RFC 9773: a renewal window from the CA brings the renewal forward, and tls status shows it', async (t) => {
  if (skipWithoutPebble(t)) return;
  // One-hour certificates would be renewed after 40 minutes. The CA says: the first one now (a window
  // that has begun), any later one in a day.
  let firstAsked: string | null = null;
  const window = (id: string) => {
    firstAsked ??= id;
    const now = Date.now();
    return id === firstAsked ? { start: new Date(now - 60_000), end: new Date(now + 1000) } : { start: new Date(now + 86400_000), end: new Date(now + 2 * 86400_000) };
  };
  const s = await setup({ challenges: ['http-01'], names: { 'mta-sts.example.org': false, 'autoconfig.example.org': false }, validitySeconds: 3600, ariWindow: window });
  const store = s.srv.server.ctx.acme!.certificates;
  const first = await waitFor('first certificate', () => store.getCertificate(HOST));
  const second = await waitFor('renewal inside the window', () => {
    const c = store.getCertificate(HOST);
    return c && c.leaf.serialNumber !== first.leaf.serialNumber ? c : null;
  });
  // The id asked about is RFC 9773 4.1's: authority key identifier and serial of the first certificate.
  assert.equal(firstAsked, ariCertId(first.leaf));
  assert.equal(s.ariAsked[0], ariCertId(first.leaf));
  await waitFor('renewal information for the new certificate', () => s.ariAsked.includes(ariCertId(second.leaf)!));
  await s.srv.server.ctx.acme!.idle();
  const cli = postern(['--dir', s.srv.dir, 'tls', 'status']);
  assert.equal(cli.status, 0, cli.stderr);
  assert.match(cli.stdout, /CA window: +\S+ to \S+ \(RFC 9773\)/);
  assert.match(cli.stdout, /last error: +none/);
});
