import { test } from 'node:test';
import { constants } from 'node:crypto';
import assert from 'node:assert/strict';
import { listenerTlsOptions, peerCertificateDer } from './server-context.js';
import { generateClientCertificate } from './generate.js';
import { loopback, testServerCertificate } from './tls-test-support.js';
import { parseCertificate } from './certificate.js';

test('options: TLS 1.2+, certificate requested but never required or verified', () => {
  const { keyPem, certPem } = testServerCertificate();
  const o = listenerTlsOptions({ key: keyPem, cert: certPem, requestClientCertificate: true });
  assert.equal(o.minVersion, 'TLSv1.2');
  assert.equal(o.honorCipherOrder, true);
  assert.equal((o.secureOptions ?? 0) & constants.SSL_OP_NO_RENEGOTIATION, constants.SSL_OP_NO_RENEGOTIATION);
  for (const suite of String(o.ciphers).split(':')) assert.match(suite, /GCM|CHACHA20/, suite);
  assert.equal(o.requestCert, true);
  assert.equal(o.rejectUnauthorized, false);
  const off = listenerTlsOptions({ key: keyPem, cert: certPem, requestClientCertificate: false });
  assert.equal(off.requestCert, false);
  assert.notEqual(off.sessionIdContext, o.sessionIdContext);
});

test('TLS 1.0/1.1 clients are refused', async () => {
  const lb = await loopback(true);
  try {
    await assert.rejects(lb.connect({ minVersion: 'TLSv1', maxVersion: 'TLSv1.1' }));
  } finally {
    await lb.close();
  }
});

for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
  test(`${version}: unknown self-signed client certificate is accepted; the leaf DER is read; resumption keeps it`, async () => {
    const lb = await loopback(true);
    const device = generateClientCertificate('phone');
    try {
      const first = await lb.connect({ minVersion: version, maxVersion: version, key: device.keyPem, cert: device.certPem });
      assert.equal(first.server.authorized, false, 'not chain-verified, and still connected');
      assert.deepEqual(peerCertificateDer(first.server), device.certDer);
      assert.equal(parseCertificate(peerCertificateDer(first.server)!).fingerprint, device.fingerprint);

      // Spec 2.2: a resumed session must authenticate with the same key. Node restores the
      // peer certificate from the session.
      const resumed = await lb.connect({ minVersion: version, maxVersion: version, key: device.keyPem, cert: device.certPem, session: await first.session });
      assert.equal(resumed.server.isSessionReused(), true);
      assert.deepEqual(peerCertificateDer(resumed.server), device.certDer);

      // Resuming that session while offering no certificate (or another one) still yields the
      // session's original certificate: the session, not the new offer, decides.
      const other = generateClientCertificate('other');
      const resumedOther = await lb.connect({ minVersion: version, maxVersion: version, key: other.keyPem, cert: other.certPem, session: await first.session });
      if (resumedOther.server.isSessionReused()) assert.deepEqual(peerCertificateDer(resumedOther.server), device.certDer);
      else assert.deepEqual(peerCertificateDer(resumedOther.server), other.certDer);

      const none = await lb.connect({ minVersion: version, maxVersion: version });
      assert.equal(peerCertificateDer(none.server), null, 'no certificate sent');
    } finally {
      await lb.close();
    }
  });
}

test('a session from a listener that does not request certificates is not resumed on one that does', async () => {
  const plain = await loopback(false);
  const requesting = await loopback(true);
  try {
    const a = await plain.connect({ maxVersion: 'TLSv1.2' });
    const session = await a.session;
    const b = await requesting.connect({ maxVersion: 'TLSv1.2', session });
    assert.equal(b.server.isSessionReused(), false);
  } finally {
    await plain.close();
    await requesting.close();
  }
});
