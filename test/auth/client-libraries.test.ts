// Postern's own client libraries (postern/imapclient, postern/smtpclient) against the server, for
// every SASL mechanism of spec 3.1, on TLS 1.3 (channel binding tls-exporter, RFC 9266) and TLS 1.2
// (tls-unique, RFC 5929), plus the client-certificate paths (PREAUTH, EXTERNAL) of spec 2.3/2.4.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, ADDRESS, PASSWORD, type TestServer } from '../e2e/server-harness.js';
import { ImapClient, ImapClientError } from '../../src/imap/client/index.js';
import { SmtpClient, SmtpClientError } from '../../src/smtp/client/index.js';
import type { SaslMechanism } from '../../src/sasl/index.js';
import { channelBindingOf } from '../../src/tls/channel-binding.js';
import { generateClientCertificate, type KeyAndCertificate } from '../../src/tls/generate.js';
import { eml, registerKey, waitForMessage, type TlsVersion } from './support.js';

let srv: TestServer;
let preauthKey: KeyAndCertificate;
let noPreauthKey: KeyAndCertificate;

before(async () => {
  srv = await startTestServer({ services: ['imap', 'imaps', 'submission', 'submissions', 'smtp'] });
  preauthKey = generateClientCertificate('alice laptop');
  noPreauthKey = generateClientCertificate('alice tablet');
  await registerKey(srv, 'alice', preauthKey, ADDRESS);
  await registerKey(srv, 'alice', noPreauthKey, ADDRESS, true);
});

after(async () => {
  await srv.stop();
});

const VERSIONS: [TlsVersion, 'tls-exporter' | 'tls-unique'][] = [
  ['TLSv1.3', 'tls-exporter'],
  ['TLSv1.2', 'tls-unique'],
];

function assertTls(socket: import('node:tls').TLSSocket | undefined, version: TlsVersion, cbType: string): void {
  assert.ok(socket, 'TLS is up');
  assert.equal(socket.getProtocol(), version);
  assert.equal(channelBindingOf(socket, false)?.type, cbType);
}

const IMAP_MECHS: (SaslMechanism | 'LOGIN-COMMAND')[] = ['PLAIN', 'CRAM-MD5', 'SCRAM-SHA-1', 'SCRAM-SHA-256', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-256-PLUS', 'LOGIN-COMMAND'];
const SMTP_MECHS: SaslMechanism[] = ['PLAIN', 'LOGIN', 'CRAM-MD5', 'SCRAM-SHA-1', 'SCRAM-SHA-256', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-256-PLUS'];

for (const [version, cbType] of VERSIONS) {
  test(`imapclient over ${version}: every password mechanism on 993 and via STARTTLS on 143`, async () => {
    for (const mechanism of IMAP_MECHS) {
      for (const tls of ['implicit', 'starttls'] as const) {
        const port = tls === 'implicit' ? srv.ports.imaps : srv.ports.imap;
        const c = await ImapClient.connect({ host: '127.0.0.1', port, tls, insecure: true, maxVersion: version, auth: { username: ADDRESS, password: PASSWORD, mechanism } });
        try {
          assert.equal(c.authenticatedWith, mechanism, `${tls} ${mechanism}`);
          assert.equal(c.state, 'authenticated');
          assertTls(c.tlsSocket, version, cbType);
          const box = await c.select('INBOX');
          assert.equal(typeof box.exists, 'number');
        } finally {
          await c.logout();
        }
      }
    }
  });

  test(`imapclient over ${version}: the default choice is SCRAM-SHA-256-PLUS; certificates give PREAUTH or EXTERNAL`, async () => {
    const d = await ImapClient.connect({ host: '127.0.0.1', port: srv.ports.imaps, insecure: true, maxVersion: version, auth: { username: ADDRESS, password: PASSWORD } });
    assert.equal(d.authenticatedWith, 'SCRAM-SHA-256-PLUS');
    await d.logout();

    const p = await ImapClient.connect({ host: '127.0.0.1', port: srv.ports.imaps, insecure: true, maxVersion: version, clientCertificate: { key: preauthKey.keyPem, cert: preauthKey.certPem } });
    assert.equal(p.authenticatedWith, 'PREAUTH');
    assertTls(p.tlsSocket, version, cbType);
    await p.select('INBOX');
    await p.logout();

    for (const [tls, port] of [['implicit', srv.ports.imaps], ['starttls', srv.ports.imap]] as const) {
      const e = await ImapClient.connect({ host: '127.0.0.1', port, tls, insecure: true, maxVersion: version, clientCertificate: { key: noPreauthKey.keyPem, cert: noPreauthKey.certPem }, auth: { mechanism: 'EXTERNAL' } });
      assert.equal(e.preauth, false);
      assert.equal(e.authenticatedWith, 'EXTERNAL', tls);
      assertTls(e.tlsSocket, version, cbType);
      await e.select('INBOX');
      await e.logout();
    }
    // The preauth key over STARTTLS: the greeting was already sent, so EXTERNAL (spec 2.3).
    const s = await ImapClient.connect({ host: '127.0.0.1', port: srv.ports.imap, tls: 'starttls', insecure: true, maxVersion: version, clientCertificate: { key: preauthKey.keyPem } });
    assert.equal(s.authenticatedWith, 'EXTERNAL');
    await s.logout();
  });

  test(`smtpclient over ${version}: every mechanism on 465 and via STARTTLS on 587 submits a message`, async () => {
    for (const mechanism of SMTP_MECHS) {
      for (const tls of ['implicit', 'starttls'] as const) {
        const port = tls === 'implicit' ? srv.ports.submissions : srv.ports.submission;
        const c = await SmtpClient.connect({ host: '127.0.0.1', port, tls, insecure: true, maxVersion: version, auth: { username: ADDRESS, password: PASSWORD, mechanism } });
        const subject = `smtpclient ${version} ${tls} ${mechanism}`;
        try {
          assert.equal(c.authMechanism, mechanism);
          assertTls(c.socket as import('node:tls').TLSSocket, version, cbType);
          const r = await c.send({ from: ADDRESS, to: [ADDRESS] }, eml(ADDRESS, ADDRESS, subject));
          assert.deepEqual(r.accepted, [ADDRESS]);
        } finally {
          await c.quit();
        }
        await waitForMessage(srv, 'alice', subject);
      }
    }
  });

  test(`smtpclient over ${version}: EXTERNAL with a client certificate, and the default SCRAM-SHA-256-PLUS`, async () => {
    for (const [tls, port] of [['implicit', srv.ports.submissions], ['starttls', srv.ports.submission]] as const) {
      const subject = `smtpclient ${version} ${tls} EXTERNAL`;
      const c = await SmtpClient.connect({ host: '127.0.0.1', port, tls, insecure: true, maxVersion: version, clientCertificate: { key: preauthKey.keyPem, cert: preauthKey.certPem } });
      assert.equal(c.authMechanism, 'EXTERNAL');
      assert.equal(c.capabilities?.auth[0], 'EXTERNAL');
      assertTls(c.socket as import('node:tls').TLSSocket, version, cbType);
      await c.send({ from: ADDRESS, to: [ADDRESS] }, eml(ADDRESS, ADDRESS, subject));
      await c.quit();
      await waitForMessage(srv, 'alice', subject);
    }
    const d = await SmtpClient.connect({ host: '127.0.0.1', port: srv.ports.submissions, tls: 'implicit', insecure: true, maxVersion: version, auth: { username: ADDRESS, password: PASSWORD } });
    assert.equal(d.authMechanism, 'SCRAM-SHA-256-PLUS');
    await d.quit();
  });
}

test('a wrong password fails with an auth error in both libraries', async () => {
  await assert.rejects(
    ImapClient.connect({ host: '127.0.0.1', port: srv.ports.imaps, insecure: true, auth: { username: ADDRESS, password: 'wrong password', mechanism: 'SCRAM-SHA-256-PLUS' } }),
    (err: unknown) => err instanceof ImapClientError && err.kind === 'auth' && /AUTHENTICATIONFAILED/.test(err.message),
  );
  await assert.rejects(
    SmtpClient.connect({ host: '127.0.0.1', port: srv.ports.submissions, tls: 'implicit', insecure: true, auth: { username: ADDRESS, password: 'wrong password', mechanism: 'SCRAM-SHA-256-PLUS' } }),
    (err: unknown) => err instanceof SmtpClientError && err.kind === 'auth' && err.reply?.code === 535,
  );
});
