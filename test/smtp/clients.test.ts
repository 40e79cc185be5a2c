// Interoperability with real SMTP clients: Python smtplib, nodemailer, curl and (when installed)
// swaks. Each sends through the real listeners; the message must then be in the recipient's Inbox.
// External binaries: a test runs when the binary exists; a missing one marks the test skipped (never
// a silent pass), and under CI=true is a failure.

import { needPeer } from '../e2e/need-peer.js';
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import nodemailer from 'nodemailer';
import { generateClientCertificate } from '../../src/tls/generate.js';
import { PASSWORD, header, startHarness, type Harness } from './harness.js';

const run = promisify(execFile);

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h.close();
});

/**
 * Whether a binary is on PATH. A missing one marks the test skipped, so the report says what did
 * not run; under CI=true it fails the test instead.
 */
/** Waits for a message with this subject in bob's Inbox and returns it. */
async function delivered(subject: string): Promise<Buffer> {
  for (let i = 0; i < 100; i++) {
    const m = (await h.inbox(h.bob.id)).find((b) => header(b, 'Subject') === subject);
    if (m) return m;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`no message with subject ${subject}`);
}

function eml(subject: string, from = 'alice@example.test'): string {
  return `From: ${from}\r\nTo: bob@example.test\r\nSubject: ${subject}\r\n\r\nSent by a real client.\r\n`;
}

const PY = `
import smtplib, ssl, sys
mode, port, mech, subject = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
if mode == 'starttls':
    s = smtplib.SMTP('127.0.0.1', port, timeout=10)
    s.ehlo()
    s.starttls(context=ctx)
    s.ehlo()
else:
    s = smtplib.SMTP_SSL('127.0.0.1', port, context=ctx, timeout=10)
    s.ehlo()
s.user, s.password = 'alice@example.test', sys.argv[5]
if mech == 'PLAIN':
    s.auth('PLAIN', s.auth_plain)
elif mech == 'LOGIN':
    s.auth('LOGIN', s.auth_login, initial_response_ok=False)
else:
    s.login(s.user, s.password)
msg = 'From: alice@example.test\\r\\nTo: bob@example.test\\r\\nSubject: %s\\r\\n\\r\\nfrom python\\r\\n' % subject
refused = s.sendmail('alice@example.test', ['bob@example.test'], msg)
assert not refused, refused
try:
    s.sendmail('bob@example.test', ['bob@example.test'], msg)
    print('unexpected: foreign sender accepted')
    sys.exit(3)
except smtplib.SMTPSenderRefused as e:
    print('refused', e.smtp_code)
s.quit()
`;

describe('real clients', () => {
  test('python smtplib: PLAIN over STARTTLS (587), LOGIN over implicit TLS (465), login() default', async (t) => {
    if (!(await needPeer(t, 'python3'))) return;
    const cases: [string, number, string][] = [
      ['starttls', h.ports.submission, 'PLAIN'],
      ['ssl', h.ports.submissions, 'LOGIN'],
      ['starttls', h.ports.submission, 'default'],
    ];
    for (const [mode, port, mech] of cases) {
      const subject = `python ${mode} ${mech}`;
      const r = await run('python3', ['-c', PY, mode, String(port), mech, subject, PASSWORD]);
      assert.match(r.stdout, /refused 550/);
      const msg = await delivered(subject);
      assert.match(header(msg, 'Received')!, /with ESMTPSA/);
      assert.ok(header(msg, 'DKIM-Signature'));
    }
  });

  test('nodemailer: PLAIN, LOGIN and CRAM-MD5', async () => {
    for (const [method, secure] of [['PLAIN', false], ['LOGIN', true], ['CRAM-MD5', false]] as const) {
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port: secure ? h.ports.submissions : h.ports.submission,
        secure,
        requireTLS: !secure,
        auth: { user: 'alice@example.test', pass: PASSWORD, method },
        tls: { rejectUnauthorized: false },
      });
      const subject = `nodemailer ${method}`;
      const info = await transport.sendMail({ from: 'Alice <alice@example.test>', to: 'bob@example.test', subject, text: 'hi from nodemailer', html: '<p>hi</p>' });
      assert.deepEqual(info.accepted, ['bob@example.test']);
      const msg = await delivered(subject);
      assert.equal(header(msg, 'Message-ID'), info.messageId);
      // From not of the account: refused.
      await assert.rejects(transport.sendMail({ from: 'bob@example.test', to: 'bob@example.test', subject: 'forged', text: 'x' }), (e: { responseCode?: number }) => e.responseCode === 550);
      transport.close();
    }
  });

  test('curl: smtp:// with --ssl-reqd, smtps://, and incoming mail on port 25', async (t) => {
    if (!(await needPeer(t, 'curl'))) return;
    const file = (s: string, from?: string): string => {
      const p = join(h.dir, `${s.replace(/\W/g, '_')}.eml`);
      writeFileSync(p, eml(s, from));
      return p;
    };
    const base = ['-s', '-S', '-k', '--mail-from', 'alice@example.test', '--mail-rcpt', 'bob@example.test', '--user', `alice@example.test:${PASSWORD}`];
    await run('curl', [`smtp://127.0.0.1:${h.ports.submission}`, '--ssl-reqd', ...base, '--upload-file', file('curl starttls')]);
    await delivered('curl starttls');
    await run('curl', [`smtps://127.0.0.1:${h.ports.submissions}`, ...base, '--upload-file', file('curl smtps')]);
    await delivered('curl smtps');
    await run('curl', [`smtp://127.0.0.1:${h.ports.smtp}`, '-s', '-S', '--mail-from', 'someone@sender.test', '--mail-rcpt', 'bob@example.test', '--upload-file', file('curl incoming', 'someone@sender.test')]);
    const msg = await delivered('curl incoming');
    assert.match(header(msg, 'Authentication-Results')!, /^mail\.example\.test;/);
    // Unauthenticated submission is refused.
    await assert.rejects(run('curl', [`smtp://127.0.0.1:${h.ports.submission}`, '--ssl-reqd', '-s', '-S', '-k', '--mail-from', 'alice@example.test', '--mail-rcpt', 'bob@example.test', '--upload-file', file('curl noauth')]), /530/);
  });

  test('swaks: no AUTH in the clear, CRAM-MD5 and PLAIN over STARTTLS, LOGIN over implicit TLS, a relay attempt on port 25', async (t) => {
    if (!(await needPeer(t, 'swaks'))) return;
    const swaks = (args: string[]): Promise<string> => run('swaks', ['--server', '127.0.0.1', ...args]).then((r) => r.stdout, (e: { stdout: string }) => e.stdout);
    const auth = (mech: string) => ['--auth', mech, '--auth-user', 'alice@example.test', '--auth-password', PASSWORD, '--from', 'alice@example.test', '--to', 'bob@example.test'];
    // Spec 3.1: no mechanism before TLS, CRAM-MD5 included; swaks finds no AUTH and sends nothing.
    const clear = await swaks(['--port', String(h.ports.submission), ...auth('CRAM-MD5'), '--header', 'Subject: swaks cram-md5 clear']);
    assert.match(clear, /<- +250 SMTPUTF8/, clear);
    assert.doesNotMatch(clear, /250[ -]AUTH|-> (AUTH|MAIL)/, clear);
    const relay = await swaks(['--port', String(h.ports.smtp), '--from', 'x@sender.test', '--to', 'victim@elsewhere.example']);
    assert.match(relay, /554 5\.7\.1/);
    const support = (await run('swaks', ['--support']).then((r) => r.stdout + r.stderr, (e: { stdout: string; stderr: string }) => e.stdout + e.stderr));
    if (/TLS not available/.test(support)) {
      if (process.env.CI === 'true') assert.fail('swaks has no TLS support (install libnet-ssleay-perl)');
      return t.skip('swaks has no TLS support: the STARTTLS and implicit TLS cases did not run');
    }
    await swaks(['--port', String(h.ports.submission), '--tls', ...auth('PLAIN'), '--header', 'Subject: swaks starttls']);
    await delivered('swaks starttls');
    await swaks(['--port', String(h.ports.submission), '--tls', ...auth('CRAM-MD5'), '--header', 'Subject: swaks cram-md5']);
    await delivered('swaks cram-md5');
    // Implicit TLS (RFC 8314) on the submissions port, and LOGIN, which needs TLS too.
    await swaks(['--port', String(h.ports.submissions), '--tls-on-connect', ...auth('LOGIN'), '--header', 'Subject: swaks implicit tls']);
    await delivered('swaks implicit tls');
  });

  test('msmtp: SCRAM-SHA-256 over STARTTLS, PLAIN over implicit TLS, EXTERNAL with a client certificate', async (t) => {
    if (!(await needPeer(t, 'msmtp'))) return;
    const send = async (subject: string, args: string[]): Promise<void> => {
      const child = execFile('msmtp', ['--host=127.0.0.1', '--tls=on', '--tls-certcheck=off', '--from=alice@example.test', ...args, 'bob@example.test']);
      let stderr = '';
      child.stderr!.on("data", (d) => (stderr += d));
      child.stdout!.on("data", (d) => (stderr += d));
      child.stdin!.end(eml(subject));
      const code = await new Promise<number | null>((r) => child.on('close', r));
      assert.equal(code, 0, `msmtp ${args.join(' ')} failed: ${stderr}`);
      await delivered(subject);
    };
    const user = ['--auth=scram-sha-256', '--user=alice@example.test', `--passwordeval=echo ${PASSWORD}`];
    await send('msmtp scram', [`--port=${h.ports.submission}`, '--tls-starttls=on', ...user]);
    await send('msmtp plain', [`--port=${h.ports.submissions}`, '--tls-starttls=off', '--auth=plain', '--user=alice@example.test', `--passwordeval=echo ${PASSWORD}`]);
    const key = generateClientCertificate('msmtp laptop', 'ecdsa-p256');
    await h.store.addTlsPubKey(h.alice.id, { fingerprint: key.fingerprint, type: 'ecdsa-p256', name: 'laptop', loginAddress: 'alice@example.test', noImapPreauth: false, certDer: key.certDer });
    writeFileSync(join(h.dir, 'client.key'), key.keyPem, { mode: 0o600 });
    writeFileSync(join(h.dir, 'client.crt'), key.certPem);
    const certArgs = [`--port=${h.ports.submissions}`, '--tls-starttls=off', `--tls-key-file=${join(h.dir, 'client.key')}`, `--tls-cert-file=${join(h.dir, 'client.crt')}`];
    // The certificate alone authenticates (spec 2.4): no AUTH command at all.
    await send('msmtp certificate', [...certArgs, '--auth=off']);
    // AUTH EXTERNAL with the authorization identity.
    await send('msmtp external', [...certArgs, '--auth=external', '--user=alice@example.test']);
  });
});
