// Our SMTP client against a third-party submission server: Dovecot 2.3's submission service,
// relaying to a sink of ours that records what arrives. Every SASL mechanism Dovecot 2.3 offers
// for submission (PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-1, SCRAM-SHA-256, EXTERNAL; no -PLUS
// variants before 2.4), the automatic choice, STARTTLS and implicit TLS with the server
// verified against Dovecot's CA, and refusals that must surface as errors.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SmtpClient, SmtpClientError, type SmtpClientOptions } from '../../src/smtp/client/index.js';
import { startFakeSmtpServer, type FakeSmtpServer } from '../../src/smtp/client/test-support.js';
import {
  dovecotSubmissionAvailable,
  startDovecotSubmission,
  SUBMISSION_CERT_USER,
  SUBMISSION_PASSWORD,
  SUBMISSION_USER,
  type DovecotSubmission,
} from './dovecot-submission.js';

let sink: FakeSmtpServer;
let d: DovecotSubmission;

before(async () => {
  assert.ok(dovecotSubmissionAvailable(), 'Dovecot with its submission service is needed (apt-get install dovecot-submissiond)');
  sink = await startFakeSmtpServer();
  d = await startDovecotSubmission({ host: '127.0.0.1', port: sink.port });
});

after(async () => {
  await d?.stop();
  await sink?.close();
});

const password = { username: SUBMISSION_USER, password: SUBMISSION_PASSWORD };

function opts(o: Partial<SmtpClientOptions>): SmtpClientOptions {
  // Verified TLS: Dovecot's certificate is issued by its test CA for localhost and 127.0.0.1.
  return { host: d.host, port: d.port, tls: 'starttls', ca: d.caPem, clientName: 'client.example.org', timeouts: { command: 10_000 }, ...o };
}

/** Sends one message and returns what the sink received for it. */
async function sendAndRelay(c: SmtpClient, from: string, tag: string): Promise<Buffer> {
  const id = `<${tag}@client.example.org>`;
  const msg = `From: ${from}\r\nTo: bob@example.net\r\nSubject: ${tag}\r\nMessage-ID: ${id}\r\n\r\nSent through Dovecot (${tag}).\r\n`;
  const res = await c.send({ from, to: ['bob@example.net'] }, msg);
  assert.deepEqual(res.accepted, ['bob@example.net']);
  assert.equal(res.reply.code, 250);
  await c.quit();
  const t = sink.transactions.find((x) => x.data.includes(`Message-ID: ${id}`));
  assert.ok(t, `the sink received ${tag}: ${d.log().slice(-2000)}`);
  assert.equal(t.from, from);
  assert.deepEqual(t.to, ['bob@example.net']);
  assert.match(t.data.toString(), new RegExp(`\r\n\r\nSent through Dovecot \\(${tag}\\)\\.\r\n$`));
  return t.data;
}

describe('SMTP client against Dovecot submission', () => {
  for (const mechanism of ['PLAIN', 'LOGIN', 'CRAM-MD5', 'SCRAM-SHA-1', 'SCRAM-SHA-256'] as const) {
    test(`${mechanism} over STARTTLS`, async () => {
      const c = await SmtpClient.connect(opts({ auth: { ...password, mechanism } }));
      assert.equal(c.secure, true);
      assert.equal(c.authMechanism, mechanism);
      await sendAndRelay(c, SUBMISSION_USER, `mech-${mechanism.toLowerCase()}`);
    });
  }

  test('automatic choice is SCRAM-SHA-256 (Dovecot 2.3 has no -PLUS); Dovecot adds its trace', async () => {
    const c = await SmtpClient.connect(opts({ auth: password }));
    assert.equal(c.authMechanism, 'SCRAM-SHA-256');
    const auth = c.capabilities!.auth;
    assert.ok(auth.includes('SCRAM-SHA-256') && !auth.some((m) => m.endsWith('-PLUS')), auth.join(' '));
    const data = await sendAndRelay(c, SUBMISSION_USER, 'auto');
    assert.match(data.toString(), /^Received: from client\.example\.org[\s\S]*?by submission\.example\.org/);
  });

  test('EXTERNAL with a CA-issued client certificate, over implicit TLS and over STARTTLS', async () => {
    const cert = { key: d.clientKeyPem, cert: d.clientCertPem };
    const implicit = await SmtpClient.connect(opts({ port: d.tlsPort, tls: 'implicit', clientCertificate: cert }));
    assert.equal(implicit.authMechanism, 'EXTERNAL');
    await sendAndRelay(implicit, SUBMISSION_CERT_USER, 'external-implicit');
    const starttls = await SmtpClient.connect(opts({ clientCertificate: cert }));
    assert.equal(starttls.authMechanism, 'EXTERNAL');
    await sendAndRelay(starttls, SUBMISSION_CERT_USER, 'external-starttls');
  });

  test('a wrong password is an authentication error; an unverified certificate a TLS error', async () => {
    await assert.rejects(SmtpClient.connect(opts({ auth: { ...password, password: 'wrong', mechanism: 'SCRAM-SHA-256' } })), (e: unknown) => {
      assert.ok(e instanceof SmtpClientError);
      assert.equal(e.kind, 'auth');
      assert.equal(e.reply?.code, 535);
      return true;
    });
    // Without Dovecot's CA the self-made chain does not verify.
    await assert.rejects(SmtpClient.connect(opts({ ca: undefined, auth: password })), (e: unknown) => e instanceof SmtpClientError && e.kind === 'tls');
  });

  test('PLAIN or LOGIN asked for by name is not sent in the clear, though Dovecot offers it on loopback', async () => {
    // Dovecot counts loopback connections as secure and offers PLAIN without TLS.
    const plain = await SmtpClient.connect(opts({ tls: 'none' }));
    assert.ok(plain.capabilities!.auth.includes('PLAIN'));
    await plain.quit();
    for (const mechanism of ['PLAIN', 'LOGIN'] as const) {
      await assert.rejects(SmtpClient.connect(opts({ tls: 'none', auth: { ...password, mechanism } })), (e: unknown) => {
        assert.ok(e instanceof SmtpClientError);
        assert.equal(e.kind, 'auth');
        assert.match(e.message, /in the clear/);
        return true;
      });
    }
  });
});
