// GNU SASL (`gsasl`, the reference SCRAM and channel-binding implementation) against Postern's IMAP
// (143 + STARTTLS) and submission (587 + STARTTLS): SCRAM -PLUS with tls-exporter on TLS 1.3 (RFC
// 9266) and tls-unique on TLS 1.2 (RFC 5929), SCRAM without channel binding, CRAM-MD5, EXTERNAL
// with a client certificate, and a wrong password (spec 3.1, 3.2, 2.3, 2.4).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, ADDRESS, PASSWORD, type TestServer } from '../e2e/server-harness.js';
import { generateClientCertificate } from '../../src/tls/generate.js';
import { keyFiles, registerKey, requireBinary, run, type RunResult } from './support.js';

let srv: TestServer;
let files: ReturnType<typeof keyFiles>;

before(async () => {
  srv = await startTestServer({ services: ['imap', 'submission'] });
  const k = generateClientCertificate('alice gsasl');
  await registerKey(srv, 'alice', k, ADDRESS);
  files = keyFiles(k);
});

after(async () => {
  await srv.stop();
});

type Proto = 'imap' | 'smtp';

async function gsasl(proto: Proto, mech: string, extra: string[]): Promise<RunResult & { out: string }> {
  const bin = requireBinary('gsasl', 'gsasl');
  const port = proto === 'imap' ? srv.ports.imap! : srv.ports.submission!;
  // --x509-ca-file= (empty): do not fail on our self-signed server certificate.
  const r = await run(bin, [`--${proto}`, `--connect=127.0.0.1:${port}`, '--starttls', '--x509-ca-file=', '--verbose', '-m', mech, ...extra]);
  return { ...r, out: r.stdout + r.stderr };
}

/** The SASL messages gsasl sent and received: every base64 line of the transcript, decoded. */
function saslMessages(out: string): string[] {
  return out
    .split(/\r?\n/)
    .map((l) => l.replace(/^(\+|334) ?/, ''))
    .filter((l) => /^[A-Za-z0-9+/]{8,}={0,2}$/.test(l))
    .map((l) => Buffer.from(l, 'base64').toString('utf8'));
}

function assertLoggedIn(proto: Proto, r: RunResult & { out: string }, mech: string): void {
  assert.equal(r.code, 0, `gsasl ${proto} ${mech} failed:\n${r.out}`);
  if (proto === 'imap') assert.match(r.stdout, /^\. OK \[CAPABILITY [^\]]*\] logged in/m, r.out);
  else assert.match(r.stdout, /^235 2\.7\.0 /m, r.out);
}

const user = ['-a', ADDRESS, '-p', PASSWORD];
const tls12 = ['--priority', 'NORMAL:-VERS-TLS1.3'];

for (const proto of ['imap', 'smtp'] as const) {
  for (const mech of ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-1-PLUS']) {
    test(`${proto}: ${mech} over TLS 1.3 binds with tls-exporter`, async () => {
      const r = await gsasl(proto, mech, user);
      assertLoggedIn(proto, r, mech);
      assert.match(r.out, /TLS session info: \(TLS1\.3\)/, r.out);
      const msgs = saslMessages(r.out);
      assert.ok(msgs.some((m) => m.startsWith(`p=tls-exporter,,n=${ADDRESS},r=`)), `client-first-message: ${msgs.join(' | ')}`);
      assert.ok(msgs.some((m) => /^v=/.test(m)), 'server signature sent');
    });

    test(`${proto}: ${mech} over TLS 1.2 binds with tls-unique`, async () => {
      const r = await gsasl(proto, mech, [...user, ...tls12]);
      assertLoggedIn(proto, r, mech);
      assert.match(r.out, /TLS session info: \(TLS1\.2\)/, r.out);
      const msgs = saslMessages(r.out);
      assert.ok(msgs.some((m) => m.startsWith(`p=tls-unique,,n=${ADDRESS},r=`)), `client-first-message: ${msgs.join(' | ')}`);
    });
  }

  test(`${proto}: SCRAM-SHA-256 with --no-cb (gs2 flag n)`, async () => {
    const r = await gsasl(proto, 'SCRAM-SHA-256', [...user, '--no-cb']);
    assertLoggedIn(proto, r, 'SCRAM-SHA-256');
    assert.ok(saslMessages(r.out).some((m) => m.startsWith(`n,,n=${ADDRESS},r=`)), r.out);
  });

  test(`${proto}: CRAM-MD5`, async () => {
    const r = await gsasl(proto, 'CRAM-MD5', user);
    assertLoggedIn(proto, r, 'CRAM-MD5');
  });

  test(`${proto}: EXTERNAL with a registered client certificate`, async () => {
    const r = await gsasl(proto, 'EXTERNAL', [`--x509-cert-file=${files.certFile}`, `--x509-key-file=${files.keyFile}`]);
    assertLoggedIn(proto, r, 'EXTERNAL');
    // Advertised only because the certificate matched (spec 2.3/2.4), EXTERNAL first on SMTP.
    if (proto === 'imap') assert.match(r.out, /^\* CAPABILITY .*AUTH=EXTERNAL/m);
    else assert.match(r.out, /^250-AUTH EXTERNAL /m);
  });

  test(`${proto}: EXTERNAL without a certificate is not offered and fails`, async () => {
    const r = await gsasl(proto, 'EXTERNAL', []);
    assert.notEqual(r.code, 0, r.out);
    assert.doesNotMatch(r.out, /AUTH=EXTERNAL|AUTH EXTERNAL /);
    if (proto === 'imap') assert.match(r.stdout, /^\. NO \[AUTHENTICATIONFAILED\]/m, r.out);
    else assert.match(r.stdout, /^535 5\.7\.8 /m, r.out);
  });

  for (const mech of ['SCRAM-SHA-256-PLUS', 'CRAM-MD5']) {
    test(`${proto}: ${mech} with a wrong password fails`, async () => {
      const r = await gsasl(proto, mech, ['-a', ADDRESS, '-p', 'not the password']);
      assert.notEqual(r.code, 0, r.out);
      if (proto === 'imap') assert.match(r.stdout, /^\. NO \[AUTHENTICATIONFAILED\]/m, r.out);
      else assert.match(r.stdout, /^535 5\.7\.8 /m, r.out);
      assert.doesNotMatch(r.out, /logged in|^235 /m);
    });
  }
}
