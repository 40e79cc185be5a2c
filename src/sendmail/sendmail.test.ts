// `postern sendmail` against the SMTP client's fake server: config errors, options, message
// preparation, exit codes and dead letters, as a cron job or script would see them.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { credentialsFor } from '../sasl/test-support.js';
import { startFakeSmtpServer, type FakeSmtpOptions, type FakeSmtpServer } from '../smtp/client/test-support.js';
import { generateClientCertificate } from '../tls/generate.js';
import { parseSendmailArgs } from './args.js';
import { parseSendmailConfig } from './config.js';
import { cutAtDot, prepareMessage, toCrlf } from './message.js';
import { runSendmail, smtpOptions } from './index.js';

const PASSWORD = 'very-secret-password';
let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'postern-sendmail-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number;
  stderr: string;
  home: string;
}

async function sendmail(argv: string[], input: string, conf: string): Promise<Run> {
  const home = mkdtempSync(join(dir, 'home-'));
  const confPath = join(home, 'sendmail.conf');
  writeFileSync(confPath, conf);
  let stderr = '';
  const code = await runSendmail(argv, {
    stdin: Readable.from([Buffer.from(input)]),
    stdout: { write: () => true },
    stderr: { write: (s: string) => (stderr += s) },
    env: { HOME: home, POSTERN_SENDMAIL_CONFIG: confPath },
  });
  return { code, stderr, home };
}

async function withSmtp(o: FakeSmtpOptions, f: (s: FakeSmtpServer) => Promise<void>): Promise<void> {
  const s = await startFakeSmtpServer(o);
  try {
    await f(s);
  } finally {
    await s.close();
  }
}

describe('sendmail: config', () => {
  test('valid configs and defaults', () => {
    assert.deepEqual(parseSendmailConfig({ host: 'mail.example.org', username: 'a@example.org', password: 'x' }), {
      host: 'mail.example.org', port: 465, tls: 'implicit', username: 'a@example.org', credential: { kind: 'password', password: 'x' },
    });
    const c = parseSendmailConfig({ host: '127.0.0.1', tls: 'none', port: '2525', clientEd25519Key: 'k.pem', from: 'a@b.c' });
    assert.deepEqual([c.port, c.tls, c.credential, c.from], [2525, 'none', { kind: 'clientEd25519Key', value: 'k.pem' }, 'a@b.c']);
    assert.equal(parseSendmailConfig({ host: 'h', tls: 'starttls', clientKeyCertFile: 'f' }).port, 587);
  });

  test('errors name the key and never the password', () => {
    const err = (doc: unknown) => {
      try {
        parseSendmailConfig(doc);
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    assert.match(err({ host: 'h', password: 'p', username: 'u', colour: 'red' }), /colour: unknown key/);
    assert.match(err({ password: 'p', username: 'u' }), /host: required/);
    assert.match(err({ host: 'h', tls: 'yes', password: 'p', username: 'u' }), /tls: must be implicit, starttls or none/);
    assert.match(err({ host: 'mail.example.org', tls: 'none', password: 'p', username: 'u' }), /tls: none is only allowed towards a loopback/);
    assert.match(err({ host: 'h', port: 70000, password: 'p', username: 'u' }), /port: must be a port number/);
    assert.match(err({ host: 'h', tlsPin: 'short', password: 'p', username: 'u' }), /tlsPin: must be/);
    assert.match(err({ host: 'h', tlsInsecure: 'yes', password: 'p', username: 'u' }), /tlsInsecure: must be true or false/);
    assert.match(err({ host: 'h', tlsCA: '/ca.pem', tlsInsecure: true, password: 'p', username: 'u' }), /alternatives/);
    assert.match(err({ host: 'h', username: 'u' }), /exactly one credential/);
    assert.match(err({ host: 'h', username: 'u', password: 'p', clientKeyCertFile: 'f' }), /exactly one credential/);
    assert.match(err({ host: 'h', password: 'hunter2-secret' }), /username: required with password/);
    assert.match(err({ host: 'h', username: 'u', from: 'not an address', password: 'p' }), /from: not an email address/);
    const secret = err({ host: 'h', username: 'u', password: 42 });
    assert.match(secret, /password: must be a non-empty string/);
    assert.doesNotMatch(secret, /42/);
  });
});

describe('sendmail: key settings', () => {
  const base = { host: 'h', port: 465, tls: 'implicit' as const };
  const error = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      return (e as Error).message;
    }
    return 'no error';
  };

  test('clientEd25519Key: a seed, an inline PEM or a file; a mistyped seed or a pasted key is never repeated', () => {
    const k = generateClientCertificate('k', 'ed25519');
    const file = join(dir, 'ed.key.pem');
    writeFileSync(file, k.keyPem);
    for (const value of [k.keyPem, file]) {
      const o = smtpOptions({ ...base, credential: { kind: 'clientEd25519Key', value } });
      assert.equal((o.clientCertificate?.key as { asymmetricKeyType?: string }).asymmetricKeyType, 'ed25519');
    }
    const seed = Buffer.alloc(32, 7).toString('base64url');
    assert.ok(smtpOptions({ ...base, credential: { kind: 'clientEd25519Key', value: seed } }).clientCertificate);
    for (const bad of [seed.slice(1), Buffer.alloc(32, 7).toString('base64').replace(/=$/, '=='), `${seed.slice(0, 20)} ${seed.slice(20)}`]) {
      const msg = error(() => smtpOptions({ ...base, credential: { kind: 'clientEd25519Key', value: bad } }));
      assert.match(msg, /^config: clientEd25519Key: not a key \(PEM or 32-byte base64url seed\) and not a readable file \(ENOENT\)$/);
    }
    const pasted = error(() => smtpOptions({ ...base, credential: { kind: 'clientKeyCertFile', path: k.keyPem } }));
    assert.match(pasted, /clientKeyCertFile: must be the name of a PEM file, not the key itself/);
    assert.ok(!pasted.includes(k.keyPem.split('\n')[1]!));
    assert.match(error(() => smtpOptions({ ...base, credential: { kind: 'clientKeyCertFile', path: join(dir, 'none.pem') } })), /clientKeyCertFile: not a key and not a readable file \(ENOENT\)/);
  });
});

describe('sendmail: arguments and message', () => {
  test('options as cron and scripts use them', () => {
    assert.deepEqual(parseSendmailArgs(['-t', '-i']), { extractRecipients: true, ignoreDots: true, recipients: [] });
    assert.deepEqual(parseSendmailArgs(['-oi', '-f', 'me@x.org', 'a@x.org,b@x.org', 'c@x.org']), { extractRecipients: false, ignoreDots: true, from: 'me@x.org', recipients: ['a@x.org', 'b@x.org', 'c@x.org'] });
    assert.deepEqual(parseSendmailArgs(['-FCronDaemon', '-ti', '-B8BITMIME', '-oem', '-fme@x.org', '--', '-odd@x.org']), { extractRecipients: true, ignoreDots: true, from: 'me@x.org', recipients: ['-odd@x.org'] });
    assert.throws(() => parseSendmailArgs(['-z']), /unknown option -z/);
    assert.throws(() => parseSendmailArgs(['-bp']), /unsupported mode/);
    assert.throws(() => parseSendmailArgs(['-f']), /needs a value/);
  });

  test('LF to CRLF, a lone dot ends input without -i, -t takes To/Cc/Bcc and drops Bcc, missing fields added', () => {
    assert.equal(toCrlf(Buffer.from('a\nb\r\nc\rd')).toString(), 'a\r\nb\r\nc\r\nd\r\n');
    assert.equal(cutAtDot(Buffer.from('a\n.\nrest\n')).toString(), 'a\n');
    assert.equal(cutAtDot(Buffer.from('a\n..\n')).toString(), 'a\n..\n');
    const p = prepareMessage(Buffer.from('To: Ann <ann@x.org>, team: bob@y.org;\nCc: cc@x.org\nBcc: secret@z.org,\n  hidden@z.org\nSubject: hi\n\nbody\n.\nmore\n'), {
      ignoreDots: true, extractRecipients: true, from: 'me@example.org', now: new Date(2024, 0, 2, 3, 4, 5),
    });
    assert.deepEqual(p.headerRecipients, ['ann@x.org', 'bob@y.org', 'cc@x.org', 'secret@z.org', 'hidden@z.org']);
    const text = p.data.toString();
    assert.doesNotMatch(text, /Bcc|secret|hidden/);
    assert.match(text, /^To: Ann <ann@x\.org>, team: bob@y\.org;\r\nCc: cc@x\.org\r\nSubject: hi\r\nFrom: me@example\.org\r\nDate: Tue, 2 Jan 2024 03:04:05 [+-]\d{4}\r\nMessage-ID: <[\w-]+@example\.org>\r\n\r\nbody\r\n\.\r\nmore\r\n$/);
    // Existing fields are kept; 8-bit bytes survive.
    const q = prepareMessage(Buffer.from('From: x@y.z\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <1@y.z>\nSubject: Grüße\n\nä\n'), { ignoreDots: false, extractRecipients: false, from: 'me@example.org' });
    assert.equal(q.data.toString('utf8'), 'From: x@y.z\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <1@y.z>\r\nSubject: Grüße\r\n\r\nä\r\n');
  });
});

describe('sendmail: submitting', () => {
  let users: Awaited<ReturnType<typeof credentialsFor>>;
  before(async () => {
    users = await credentialsFor(PASSWORD);
  });
  const conf = (port: number, extra = '') => `host: 127.0.0.1\nport: ${port}\ntls: implicit\ntlsInsecure: true\nusername: alice@example.org\npassword: ${PASSWORD}\nfrom: alice@example.org\n${extra}`;

  test('password login, recipients from arguments and -t, envelope sender from -f', async () => {
    await withSmtp({ implicitTls: true, users: { 'alice@example.org': users }, mechanisms: ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256', 'PLAIN'], requireAuth: true }, async (s) => {
      const r = await sendmail(['-t', '-i', '-f', 'alice@example.org', 'extra@example.com'], 'To: bob@example.com\nBcc: carol@example.com\nSubject: report\n\nall good\n', conf(s.port));
      assert.equal(r.stderr, '');
      assert.equal(r.code, 0);
      assert.equal(s.authenticated[0], 'alice@example.org');
      const t = s.transactions[0];
      assert.equal(t.from, 'alice@example.org');
      assert.deepEqual(t.to.sort(), ['bob@example.com', 'carol@example.com', 'extra@example.com']);
      const data = t.data.toString();
      assert.doesNotMatch(data, /carol/);
      assert.match(data, /\r\nFrom: alice@example\.org\r\n/);
      assert.match(data, /\r\nMessage-ID: </);
      assert.match(data, /\r\n\r\nall good\r\n$/);
    });
  });

  test('client certificate: a bare Ed25519 key file, and a key+cert file', async () => {
    const kc = generateClientCertificate('alice');
    writeFileSync(join(dir, 'alice.key.pem'), kc.keyPem);
    writeFileSync(join(dir, 'alice.keycert.pem'), kc.keyPem + kc.certPem);
    await withSmtp({ implicitTls: true, requestCert: true, mechanisms: ['EXTERNAL'], requireAuth: true }, async (s) => {
      for (const line of [`clientEd25519Key: ${join(dir, 'alice.key.pem')}`, `clientKeyCertFile: ${join(dir, 'alice.keycert.pem')}`]) {
        const r = await sendmail(['bob@example.com'], 'Subject: x\n\nhi\n', `host: 127.0.0.1\nport: ${s.port}\ntlsInsecure: true\nfrom: alice@example.org\n${line}\n`);
        assert.equal(r.stderr, '');
        assert.equal(r.code, 0);
      }
      assert.equal(s.clientCerts.length, 2);
      assert.ok(s.authenticated.every((a) => a?.startsWith('external:')));
      assert.deepEqual(s.clientCerts[1], kc.certDer); // the given certificate, not a made-up one
    });
  });

  test('5xx for every recipient: exit 69, a clear line, the message in ~/dead.letter (0600)', async () => {
    await withSmtp({ implicitTls: true, users: { 'alice@example.org': users }, mechanisms: ['PLAIN'], onRcpt: () => '550 5.1.1 no such user' }, async (s) => {
      const r = await sendmail(['nobody@example.com'], 'Subject: lost\n\nkeep me\n', conf(s.port));
      assert.equal(r.code, 69);
      assert.match(r.stderr, /550 5\.1\.1 no such user/);
      assert.doesNotMatch(r.stderr, new RegExp(PASSWORD));
      const dead = readFileSync(join(r.home, 'dead.letter'), 'utf8');
      assert.match(dead, /^From alice@example\.org /);
      assert.match(dead, /Subject: lost\n/);
      assert.match(dead, /keep me\n/);
      assert.equal(statSync(join(r.home, 'dead.letter')).mode & 0o777, 0o600);
    });
  });

  test('4xx: exit 75; one recipient refused of two: non-zero and named', async () => {
    await withSmtp({ implicitTls: true, users: { 'alice@example.org': users }, mechanisms: ['PLAIN'], onData: () => '451 4.3.0 try later' }, async (s) => {
      const r = await sendmail(['bob@example.com'], 'Subject: x\n\nhi\n', conf(s.port));
      assert.equal(r.code, 75);
      assert.match(r.stderr, /temporary failure.*451/);
    });
    await withSmtp({ implicitTls: true, users: { 'alice@example.org': users }, mechanisms: ['PLAIN'], onRcpt: (to) => (to.startsWith('bad') ? '450 4.2.0 mailbox busy' : undefined) }, async (s) => {
      const r = await sendmail(['good@example.com', 'bad@example.com'], 'Subject: x\n\nhi\n', conf(s.port));
      assert.equal(r.code, 75);
      assert.match(r.stderr, /bad@example\.com: 450 4\.2\.0 mailbox busy/);
      assert.deepEqual(s.transactions[0].to, ['good@example.com']);
    });
  });

  test('wrong password: permanent, and the password is never printed', async () => {
    await withSmtp({ implicitTls: true, users: { 'alice@example.org': users }, mechanisms: ['PLAIN'] }, async (s) => {
      const r = await sendmail(['bob@example.com'], 'Subject: x\n\nhi\n', conf(s.port).replace(PASSWORD, 'wrong-password-123'));
      assert.equal(r.code, 69);
      assert.doesNotMatch(r.stderr, /wrong-password-123/);
    });
  });

  test('connection refused: exit 75 and dead letter; bad config: 69; no recipients: 64', async () => {
    const closed = await startFakeSmtpServer({});
    const port = closed.port;
    await closed.close();
    const r = await sendmail(['bob@example.com'], 'Subject: x\n\nhi\n', conf(port));
    assert.equal(r.code, 75);
    assert.match(r.stderr, /temporary failure/);
    assert.match(readFileSync(join(r.home, 'dead.letter'), 'utf8'), /hi\n/);
    const bad = await sendmail(['bob@example.com'], 'hi\n', 'host: h\ncolour: red\npassword: p\nusername: u\n');
    assert.equal(bad.code, 69);
    assert.match(bad.stderr, /colour: unknown key/);
    const none = await sendmail([], 'hi\n', conf(port));
    assert.equal(none.code, 64);
    const usage = await sendmail(['-z'], 'hi\n', conf(port));
    assert.equal(usage.code, 64);
  });
});
