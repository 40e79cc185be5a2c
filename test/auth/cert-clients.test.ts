// Real clients logging in with a TLS client certificate (spec 2.2-2.4): Cyrus imtest and smtptest
// (EXTERNAL after STARTTLS), curl (imaps:// and smtps:// with AUTH=EXTERNAL), Python's ssl +
// imaplib (PREAUTH on 993) and nodemailer (a customAuth EXTERNAL handler on 465).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import nodemailer from 'nodemailer';
import type SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import { startTestServer, ADDRESS, type TestServer } from '../e2e/server-harness.js';
import { generateClientCertificate, type KeyAndCertificate } from '../../src/tls/generate.js';
import { eml, keyFiles, registerKey, requireBinary, run, waitForMessage } from './support.js';

let srv: TestServer;
let preauthKey: KeyAndCertificate;
let noPreauthKey: KeyAndCertificate;
let pre: ReturnType<typeof keyFiles>;
let nopre: ReturnType<typeof keyFiles>;

before(async () => {
  srv = await startTestServer({ services: ['imap', 'imaps', 'submission', 'submissions', 'smtp'] });
  await srv.server.ctx.store.addAddress('alice', 'al@example.test');
  preauthKey = generateClientCertificate('alice laptop');
  noPreauthKey = generateClientCertificate('alice phone');
  await registerKey(srv, 'alice', preauthKey, ADDRESS);
  await registerKey(srv, 'alice', noPreauthKey, ADDRESS, true);
  pre = keyFiles(preauthKey);
  nopre = keyFiles(noPreauthKey);
});

after(async () => {
  await srv.stop();
});

const CYRUS = '/usr/lib/cyrus/bin';

test('imtest: EXTERNAL with a client certificate over STARTTLS, then commands in the authenticated state', async () => {
  const imtest = requireBinary(`${CYRUS}/imtest`, 'cyrus-clients');
  // -f: commands sent after authentication; imtest then prints the replies and exits.
  const cmds = join(dirname(pre.keyFile), 'imap-cmds');
  writeFileSync(cmds, 'a1 SELECT INBOX\r\na2 LOGOUT\r\n');
  const r = await run(imtest, ['-p', String(srv.ports.imap), '-t', pre.keyCertFile, '-m', 'EXTERNAL', '-f', cmds, '127.0.0.1']);
  const out = r.stdout + r.stderr;
  assert.equal(r.code, 0, out);
  assert.match(out, /TLS connection established: TLSv1\.3/);
  assert.match(out, /^S: \* CAPABILITY .*AUTH=EXTERNAL/m, out);
  assert.match(out, /^C: A01 AUTHENTICATE EXTERNAL/m);
  assert.match(out, /^S: A01 OK \[CAPABILITY [^\]]*\] logged in/m, out);
  assert.match(out, /^Authenticated\./m);
  assert.match(out, /^a1 OK \[READ-WRITE\] SELECT completed/m, out);
  assert.match(out, /^a2 OK LOGOUT/m, out);
});

test('smtptest: EXTERNAL with a client certificate over STARTTLS on 587, then a transaction', async () => {
  const smtptest = requireBinary(`${CYRUS}/smtptest`, 'cyrus-clients');
  const cmds = join(dirname(pre.keyFile), 'smtp-cmds');
  writeFileSync(cmds, `MAIL FROM:<${ADDRESS}>\r\nRCPT TO:<${ADDRESS}>\r\nQUIT\r\n`);
  const r = await run(smtptest, ['-p', String(srv.ports.submission), '-t', pre.keyCertFile, '-m', 'EXTERNAL', '-f', cmds, '127.0.0.1']);
  const out = r.stdout + r.stderr;
  assert.equal(r.code, 0, out);
  // Before TLS: no AUTH at all (spec 3.1); after STARTTLS with the certificate: EXTERNAL first (spec 2.4).
  const auths = [...out.matchAll(/^S: 250-AUTH (.*)$/gm)].map((m) => m[1]!);
  assert.equal(auths.length, 1, out);
  assert.match(auths[0]!, /^EXTERNAL /);
  assert.match(out, /^S: 235 2\.7\.0 /m, out);
  assert.match(out, /^Authenticated\./m);
  assert.match(out, /^250 2\.1\.0 /m, out);
  assert.match(out, /^250 2\.1\.5 /m, out);
});

test('curl imaps:// with --cert/--key and AUTH=EXTERNAL lists and examines INBOX (PREAUTH and EXTERNAL keys)', async () => {
  const curl = requireBinary('curl', 'curl');
  for (const f of [pre, nopre]) {
    const base = ['-sS', '-k', '--cert', f.certFile, '--key', f.keyFile, '--login-options', 'AUTH=EXTERNAL', '--max-time', '15'];
    const list = await run(curl, [...base, `imaps://127.0.0.1:${srv.ports.imaps}/`]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^\* LIST \([^)]*\) "\/" INBOX\r?$/m, list.stdout);
    const ex = await run(curl, [...base, '-X', 'EXAMINE INBOX', `imaps://127.0.0.1:${srv.ports.imaps}/INBOX`]);
    assert.equal(ex.code, 0, ex.stderr);
    assert.match(ex.stdout, /^\* \d+ EXISTS/m, ex.stdout);
  }
  // Without a certificate EXTERNAL is not offered, curl does not log in, and LIST is refused.
  const denied = await run(curl, ['-sS', '-k', '--login-options', 'AUTH=EXTERNAL', '--max-time', '15', `imaps://127.0.0.1:${srv.ports.imaps}/`]);
  assert.notEqual(denied.code, 0, denied.stdout + denied.stderr);
  assert.doesNotMatch(denied.stdout, /LIST/);
});

test('curl smtps:// with --cert/--key and AUTH=EXTERNAL submits; the message reaches the Inbox', async () => {
  const curl = requireBinary('curl', 'curl');
  const subject = 'curl by certificate';
  const file = join(dirname(pre.keyFile), 'curl.eml');
  writeFileSync(file, eml(ADDRESS, ADDRESS, subject));
  const r = await run(curl, [
    '-sS', '-k', '-v', '--max-time', '15', '--cert', pre.certFile, '--key', pre.keyFile, '--login-options', 'AUTH=EXTERNAL',
    `smtps://127.0.0.1:${srv.ports.submissions}`, '--mail-from', ADDRESS, '--mail-rcpt', ADDRESS, '--upload-file', file,
  ]);
  assert.equal(r.code, 0, r.stderr);
  // curl answers the empty 334 with "=" (RFC 4954's empty initial response): accepted.
  assert.match(r.stderr, /^> AUTH EXTERNAL/m, r.stderr);
  assert.match(r.stderr, /^< 235 2\.7\.0 /m, r.stderr);
  assert.match((await waitForMessage(srv, 'alice', subject)).toString(), /^From: alice@example\.test\r$/m);
});

test('python3 ssl.load_cert_chain + imaplib: PREAUTH greeting on 993, INBOX selectable without login', async () => {
  const python = requireBinary('python3', 'python3');
  const script = `
import imaplib, socket, ssl, sys
port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.load_cert_chain(cert, key)
# The raw greeting first, with the ssl module alone.
with socket.create_connection(('127.0.0.1', port), timeout=10) as s:
    with ctx.wrap_socket(s) as t:
        print('version', t.version())
        print('greeting', t.makefile('rb').readline().decode().rstrip())
m = imaplib.IMAP4_SSL('127.0.0.1', port, ssl_context=ctx, timeout=10)
print('state', m.state)
typ, data = m.select('INBOX')
print('select', typ, data[0].decode())
m.logout()
`;
  const r = await run(python, ['-c', script, String(srv.ports.imaps), pre.certFile, pre.keyFile]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^version TLSv1\.3$/m);
  assert.match(r.stdout, /^greeting \* PREAUTH \[CAPABILITY [^\]]*IMAP4rev2[^\]]*\] /m, r.stdout);
  assert.match(r.stdout, /^state AUTH$/m, r.stdout);
  assert.match(r.stdout, /^select OK \d+$/m, r.stdout);

  // The no-preauth key gets "* OK" (spec 2.3).
  const n = await run(python, ['-c', script.split('m = imaplib')[0]!, String(srv.ports.imaps), nopre.certFile, nopre.keyFile]);
  assert.equal(n.code, 0, n.stderr);
  assert.match(n.stdout, /^greeting \* OK /m, n.stdout);
});

test('nodemailer with a customAuth EXTERNAL handler on 465 submits a message', async () => {
  const subject = 'nodemailer by certificate';
  let handlerCalled = false;
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: srv.ports.submissions,
    secure: true,
    tls: { rejectUnauthorized: false, key: preauthKey.keyPem, cert: preauthKey.certPem },
    auth: { type: 'custom', method: 'EXTERNAL', user: 'al@example.test' },
    customAuth: {
      EXTERNAL: async (ctx: SMTPConnection.CustomAuthenticationContext) => {
        handlerCalled = true;
        // RFC 4422 appendix A: the message is the authorization identity (here another address
        // of the account, which becomes the session's user name, spec 2.4).
        const r = await ctx.sendCommand(`AUTH EXTERNAL ${Buffer.from(ctx.auth.credentials.user).toString('base64')}`);
        if (r.status !== 235) throw new Error(`AUTH EXTERNAL: ${r.text}`);
      },
    },
  } as nodemailer.TransportOptions);
  try {
    const info = await transport.sendMail({ from: 'al@example.test', to: ADDRESS, subject, text: 'Sent with a client certificate.' });
    assert.deepEqual(info.rejected, []);
    assert.deepEqual(info.accepted, [ADDRESS]);
  } finally {
    transport.close();
  }
  assert.ok(handlerCalled);
  assert.match((await waitForMessage(srv, 'alice', subject)).toString(), /^From: al@example\.test\r$/m);
});
