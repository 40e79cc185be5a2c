// Spec 3.1 (issue 15): before TLS no SASL mechanism is advertised or accepted on any port, like
// Postfix's smtpd_tls_auth_only and Dovecot's ssl=required. A raw client tries every mechanism, with
// and without an initial response (real client messages with the right password), on IMAP 143 and
// submission 587, and checks port 25; submission without TLS takes no MAIL. The loopback setting
// (auth.cleartextFromLoopback) turns the rule off for loopback clients only.

import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as netConnect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { startTestServer, ADDRESS, PASSWORD, type TestServer } from '../e2e/server-harness.js';
import { Client } from '../imap/harness.js';
import { createSaslClient } from '../../src/sasl/client.js';
import { SASL_MECHANISMS, type SaslMechanism } from '../../src/sasl/types.js';
import { b64, imapStarttls, requireBinary, run, Smtp } from './support.js';

/** A real first client message for `mech` with the right password, or null when it has none. */
function initialResponse(mech: SaslMechanism): string | null {
  const c = createSaslClient(mech, {
    username: ADDRESS,
    password: PASSWORD,
    // -PLUS with nothing to bind to: made-up binding data, as an attacker stripping TLS would send.
    ...(mech.endsWith('-PLUS') && { channelBinding: { type: 'tls-exporter' as const, data: randomBytes(32) } }),
    serverOffersPlus: true,
  });
  if (!c.hasInitialResponse) return null;
  const m = c.step(null);
  return m.length ? b64(m) : '=';
}

async function imapPlain(port: number): Promise<{ c: Client; greeting: string }> {
  const sock = netConnect({ host: '127.0.0.1', port });
  await once(sock, 'connect');
  const c = new Client(sock);
  return { c, greeting: await c.readLine() };
}

describe('no authentication and no mail before TLS', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ services: ['smtp', 'submission', 'imap'] });
  });
  after(async () => {
    await srv.stop();
  });

  test('IMAP 143: LOGINDISABLED and no AUTH=; every mechanism and LOGIN refused without a continuation; SELECT needs a login', async () => {
    const { c, greeting } = await imapPlain(srv.ports.imap!);
    for (const caps of [greeting, (await c.ok('CAPABILITY')).untagged.join(' ')]) {
      assert.match(caps, /\bSTARTTLS\b/);
      assert.match(caps, /\bLOGINDISABLED\b/);
      assert.doesNotMatch(caps, /[ [(]AUTH=/i);
    }
    for (const mech of SASL_MECHANISMS) {
      const ir = initialResponse(mech);
      for (const line of [`AUTHENTICATE ${mech}`, ...(ir ? [`AUTHENTICATE ${mech} ${ir}`] : [])]) {
        // c.no fails on a `+` continuation: the exchange must not even start.
        const r = await c.no(line, 'PRIVACYREQUIRED');
        assert.equal(r.untagged.length, 0, line);
      }
    }
    await c.no(`LOGIN ${ADDRESS} ${PASSWORD}`, 'PRIVACYREQUIRED');
    await c.bad('SELECT INBOX');
    c.destroy();
    // After STARTTLS, the same client gets in.
    const t = await imapStarttls(srv.ports.imap!);
    const caps = (await t.ok('CAPABILITY')).untagged.join(' ');
    assert.doesNotMatch(caps, /LOGINDISABLED/);
    assert.match(caps, /AUTH=SCRAM-SHA-256-PLUS/);
    await t.ok(`AUTHENTICATE PLAIN ${b64(`\0${ADDRESS}\0${PASSWORD}`)}`);
    await t.ok('SELECT INBOX');
    t.destroy();
  });

  test('real clients on IMAP 143 without TLS: curl and Python imaplib cannot log in; with STARTTLS they can', async () => {
    const curl = requireBinary('curl', 'curl');
    const url = `imap://127.0.0.1:${srv.ports.imap}/`;
    const clear = await run(curl, ['-sS', '--max-time', '10', '-u', `${ADDRESS}:${PASSWORD}`, url]);
    assert.notEqual(clear.code, 0, clear.stdout);
    const tls = await run(curl, ['-sS', '-k', '--ssl-reqd', '--max-time', '10', '-u', `${ADDRESS}:${PASSWORD}`, url]);
    assert.equal(tls.code, 0, tls.stderr);
    assert.match(tls.stdout, /INBOX/);
    const py = requireBinary('python3', 'python3');
    const script = [
      'import imaplib, ssl, sys',
      `c = imaplib.IMAP4("127.0.0.1", ${srv.ports.imap})`,
      'print("caps", " ".join(c.capabilities))',
      'try:',
      `    c.login("${ADDRESS}", "${PASSWORD}"); print("clear login ok")`,
      'except imaplib.IMAP4.error as e: print("clear login refused:", e)',
      'ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE',
      `c = imaplib.IMAP4("127.0.0.1", ${srv.ports.imap}); c.starttls(ssl_context=ctx)`,
      `print("tls login", c.login("${ADDRESS}", "${PASSWORD}")[0])`,
    ].join('\n');
    const r = await run(py, ['-c', script]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^caps .*LOGINDISABLED/m);
    assert.doesNotMatch(r.stdout, /^caps .* AUTH=/m);
    assert.match(r.stdout, /^clear login refused:/m);
    assert.match(r.stdout, /^tls login OK$/m);
  });

  test('submission 587: no AUTH in EHLO; every mechanism gets 538 5.7.11 without a 334; no MAIL, RCPT or DATA', async () => {
    const s = await Smtp.connect(srv.ports.submission!);
    await s.expect(220);
    const ehlo = await s.ehlo();
    assert.ok(ehlo.includes('STARTTLS'));
    assert.ok(!ehlo.some((l) => /^AUTH\b/i.test(l)), ehlo.join('|'));
    for (const mech of SASL_MECHANISMS) {
      const ir = initialResponse(mech);
      for (const line of [`AUTH ${mech}`, ...(ir ? [`AUTH ${mech} ${ir}`] : [])]) await s.cmd(line, 538, '5.7.11');
    }
    await s.cmd(`MAIL FROM:<${ADDRESS}>`, 530, '5.7.0');
    await s.cmd(`RCPT TO:<${ADDRESS}>`, 530, '5.7.0');
    await s.cmd('DATA', 530, '5.7.0');
    // After STARTTLS: AUTH is offered and works, and so does MAIL.
    await s.startTls();
    assert.ok((await s.ehlo()).some((l) => /^AUTH .*SCRAM-SHA-256-PLUS/.test(l)));
    await s.cmd(`AUTH PLAIN ${b64(`\0${ADDRESS}\0${PASSWORD}`)}`, 235, '2.7.0');
    await s.cmd(`MAIL FROM:<${ADDRESS}>`, 250);
    s.close();
  });

  test('port 25: no AUTH at all, in the clear or not; MAIL without TLS is still taken (internet mail)', async () => {
    const s = await Smtp.connect(srv.ports.smtp!);
    await s.expect(220);
    const ehlo = await s.ehlo();
    assert.ok(!ehlo.some((l) => /^AUTH\b/i.test(l)), ehlo.join('|'));
    for (const mech of SASL_MECHANISMS) {
      const ir = initialResponse(mech);
      for (const line of [`AUTH ${mech}`, ...(ir ? [`AUTH ${mech} ${ir}`] : [])]) await s.cmd(line, 502, '5.5.1');
    }
    await s.cmd('MAIL FROM:<someone@example.net>', 250);
    await s.cmd(`RCPT TO:<${ADDRESS}>`, 250);
    await s.cmd('QUIT', 221);
    s.close();
  });
});

describe('auth.cleartextFromLoopback', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ services: ['submission', 'imap'], config: { auth: { cleartextFromLoopback: true } } });
  });
  after(async () => {
    await srv.stop();
  });

  test('loopback clients may authenticate without TLS; nothing that needs TLS is offered', async () => {
    const { c, greeting } = await imapPlain(srv.ports.imap!);
    assert.doesNotMatch(greeting, /LOGINDISABLED|-PLUS|AUTH=EXTERNAL/);
    assert.match(greeting, /AUTH=SCRAM-SHA-256 /);
    await c.no('AUTHENTICATE SCRAM-SHA-256-PLUS', undefined);
    await c.ok(`LOGIN ${ADDRESS} ${PASSWORD}`);
    c.destroy();
    const s = await Smtp.connect(srv.ports.submission!);
    await s.expect(220);
    assert.match((await s.ehlo()).find((l) => l.startsWith('AUTH '))!, /^AUTH SCRAM-SHA-256 SCRAM-SHA-1 CRAM-MD5 PLAIN LOGIN$/);
    await s.cmd(`AUTH PLAIN ${b64(`\0${ADDRESS}\0${PASSWORD}`)}`, 235, '2.7.0');
    await s.cmd(`MAIL FROM:<${ADDRESS}>`, 250);
    s.close();
  });
});
