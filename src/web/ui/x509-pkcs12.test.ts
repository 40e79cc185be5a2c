// The browser's certificate and PKCS#12 code, run on Node's WebCrypto: Node parses the certificate
// and checks its signature, and `openssl pkcs12` reads the file with the password.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate, createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { pkcs12Kdf as nodeKdf } from '../../tls/pkcs12.js';
import { parseCertificate } from '../../tls/certificate.js';
import { pkcs12, pkcs12Kdf } from './pkcs12.js';
import { generateCertificate } from './x509.js';

function openssl(args: string[], input: Uint8Array): string {
  const r = spawnSync('openssl', args, { input });
  assert.equal(r.status, 0, `openssl ${args.join(' ')}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

test('PKCS#12 MAC key derivation equals the Node implementation', () => {
  const salt = randomBytes(16);
  for (const pw of ['', 'secret', 'pässwörd ✓']) {
    assert.deepEqual(Buffer.from(pkcs12Kdf(pw, salt, 3, 50, 32)), nodeKdf(pw, salt, 3, 50, 32));
  }
});

for (const type of ['ecdsa-p256', 'ed25519'] as const) {
  test(`${type}: self-signed certificate is valid and PKCS#12 opens with openssl`, async () => {
    const gen = await generateCertificate(type, 'my phone');
    const x509 = new X509Certificate(gen.certDer);
    assert.ok(x509.verify(x509.publicKey), 'self-signature verifies');
    assert.match(x509.subject, /CN=my phone/);
    assert.equal(x509.validTo.includes('9999'), true);
    const parsed = parseCertificate(Buffer.from(gen.certDer));
    assert.equal(parsed.fingerprint, gen.fingerprint);
    assert.equal(parsed.keyType, type);
    // The private key belongs to the certificate.
    const priv = createPrivateKey({ key: Buffer.from(gen.pkcs8), format: 'der', type: 'pkcs8' });
    assert.deepEqual(createPublicKey(priv).export({ type: 'spki', format: 'der' }), x509.publicKey.export({ type: 'spki', format: 'der' }));

    const p12 = await pkcs12(gen.pkcs8, gen.certDer, 'pw ünï', 'my phone');
    const out = openssl(['pkcs12', '-nodes', '-passin', 'pass:pw ünï'], p12);
    assert.match(out, /friendlyName: my phone/);
    assert.match(out, /BEGIN PRIVATE KEY/);
    const certPem = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(out)![0];
    assert.equal(parseCertificate(certPem).fingerprint, gen.fingerprint);
    // A wrong password fails the MAC.
    assert.notEqual(spawnSync('openssl', ['pkcs12', '-nodes', '-passin', 'pass:wrong'], { input: p12 }).status, 0);
  });
}
