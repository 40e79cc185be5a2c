// TLS of every listener (issue 15): client-initiated renegotiation refused on all six, each
// listener with its own context so that a session made where certificates are requested gives
// no PREAUTH where they are not, and a listener that asks for no certificate at all.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { ServiceName } from '../../src/config/types.js';
import { generateClientCertificate } from '../../src/tls/generate.js';
import { startTestServer, ADDRESS, type TestServer } from '../e2e/server-harness.js';
import { imaps, imapStarttls, registerKey, requireBinary, run, Smtp } from './support.js';

let srv: TestServer;
const aliceKey = generateClientCertificate('alice laptop');

/** Port of `service` on the listener named `listener`. */
function port(listener: string, service: ServiceName): number {
  const l = srv.server.listeners.find((x) => x.listener === listener && x.service === service);
  assert.ok(l, `${listener}/${service}`);
  return l.port;
}

before(async () => {
  const listener = (services: ServiceName[], requestClientCertificates: boolean) => ({
    ips: ['127.0.0.1'],
    services,
    ports: Object.fromEntries(services.map((s) => [s, 0])),
    requestClientCertificates,
  });
  srv = await startTestServer({
    config: {
      listeners: {
        main: listener(['smtp', 'submission', 'submissions', 'imap', 'imaps', 'https'], true),
        // Certificates turned off (peers that fail when asked, e.g. mox#359).
        nocert: listener(['imaps', 'imap', 'submissions'], false),
      },
    },
  });
  await registerKey(srv, 'alice', aliceKey, ADDRESS);
});

after(async () => {
  await srv.stop();
});

/** Renegotiates from the client side; resolves with the error code (null: it succeeded). */
function renegotiate(sock: TLSSocket): Promise<string | null> {
  return new Promise((resolve) => {
    sock.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    const started = sock.renegotiate({ rejectUnauthorized: false }, (err) => resolve(err ? ((err as NodeJS.ErrnoException).code ?? err.message) : null));
    if (!started) resolve('not started');
  });
}

const TLS12 = { maxVersion: 'TLSv1.2' as const };

test('renegotiation is refused on all six TLS listeners (node:tls client)', async () => {
  const ends: Record<string, () => Promise<TLSSocket>> = {
    imaps: async () => (await imaps(port('main', 'imaps'), TLS12)).c.sock as TLSSocket,
    'imap STARTTLS': async () => (await imapStarttls(port('main', 'imap'), TLS12)).sock as TLSSocket,
    submissions: async () => (await Smtp.connect(port('main', 'submissions'), { ...TLS12, tls: true })).tlsSocket,
    'submission STARTTLS': async () => smtpStarttls(port('main', 'submission')),
    'smtp STARTTLS': async () => smtpStarttls(port('main', 'smtp')),
    https: async () => {
      const s = tlsConnect({ host: '127.0.0.1', port: port('main', 'https'), rejectUnauthorized: false, ...TLS12 });
      await once(s, 'secureConnect');
      return s;
    },
  };
  for (const [name, open] of Object.entries(ends)) {
    const sock = await open();
    assert.equal(sock.getProtocol(), 'TLSv1.2', name);
    assert.equal(await renegotiate(sock), 'ERR_SSL_NO_RENEGOTIATION', name);
    sock.destroy();
  }
});

async function smtpStarttls(p: number): Promise<TLSSocket> {
  const s = await Smtp.connect(p, TLS12);
  await s.expect(220);
  await s.ehlo();
  await s.startTls();
  return s.tlsSocket;
}

test('renegotiation is refused (openssl s_client R command)', async () => {
  const openssl = requireBinary('openssl', 'openssl');
  const child = spawn(openssl, ['s_client', '-connect', `127.0.0.1:${port('main', 'imaps')}`, '-tls1_2', '-no_ign_eof'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let asked = false;
  const collect = (d: Buffer) => {
    out += d.toString();
    // `R` on a line of its own asks s_client to renegotiate, once the greeting shows the session is up.
    if (!asked && /server ready/.test(out)) {
      asked = true;
      child.stdin.write('R\n');
    }
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(killer);
  assert.match(out, /RENEGOTIATING/);
  assert.match(out, /no renegotiation/, 'the server answered with a no_renegotiation alert');
  assert.equal(code, 1, 's_client ends with the failed renegotiation');
});

for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
  test(`${version}: a session from a listener that requests certificates gives no PREAUTH on one that does not`, async () => {
    const first = tlsConnect({ host: '127.0.0.1', port: port('main', 'imaps'), rejectUnauthorized: false, maxVersion: version, key: aliceKey.keyPem, cert: aliceKey.certPem });
    const session = new Promise<Buffer>((r) => first.once('session', r));
    await once(first, 'secureConnect');
    const { Client } = await import('../imap/harness.js');
    const c1 = new Client(first);
    assert.match(await c1.readLine(), /^\* PREAUTH /, 'the key logs in where certificates are requested');
    const s = await session;
    first.destroy();

    // The same session offered to the same listener resumes (and keeps the certificate, spec 2.2)...
    const again = tlsConnect({ host: '127.0.0.1', port: port('main', 'imaps'), rejectUnauthorized: false, maxVersion: version, session: s });
    await once(again, 'secureConnect');
    assert.equal(again.isSessionReused(), true);
    assert.match(await new Client(again).readLine(), /^\* PREAUTH /);
    again.destroy();

    // ...but on the listener without certificates it is not resumed and logs nobody in.
    for (const p of [port('nocert', 'imaps')]) {
      const other = tlsConnect({ host: '127.0.0.1', port: p, rejectUnauthorized: false, maxVersion: version, session: s });
      await once(other, 'secureConnect');
      assert.equal(other.isSessionReused(), false);
      const greeting = await new Client(other).readLine();
      assert.match(greeting, /^\* OK /);
      other.destroy();
    }
  });
}

test('requestClientCertificates: false asks for no certificate at all (IMAPS, IMAP STARTTLS, submissions)', async () => {
  const openssl = requireBinary('openssl', 'openssl');
  // s_client prints the requested certificate types only when the server sent a CertificateRequest.
  const asked = /^Client Certificate Types:/m;
  const probe = (p: number, starttls?: string) =>
    run(openssl, ['s_client', '-connect', `127.0.0.1:${p}`, '-tls1_2', ...(starttls ? ['-starttls', starttls] : [])], { input: '', timeoutMs: 15_000 });
  assert.match((await probe(port('main', 'imaps'))).stdout, asked, 'requested on main');
  assert.match((await probe(port('main', 'imap'), 'imap')).stdout, asked, 'requested on main STARTTLS');
  assert.doesNotMatch((await probe(port('nocert', 'imaps'))).stdout, asked);
  assert.doesNotMatch((await probe(port('nocert', 'imap'), 'imap')).stdout, asked);
  assert.doesNotMatch((await probe(port('nocert', 'submissions'))).stdout, asked);
  assert.doesNotMatch((await probe(port('main', 'smtp'), 'smtp')).stdout, asked, 'port 25 never asks');
  assert.doesNotMatch((await probe(port('main', 'https'))).stdout, asked, 'the web never asks');

  // A client that would present its key there is not logged in by it.
  const { greeting } = await imaps(port('nocert', 'imaps'), { cert: aliceKey });
  assert.match(greeting, /^\* OK /);
});
