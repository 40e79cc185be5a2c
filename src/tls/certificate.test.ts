import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { parseCertificate, certificatePem, CertificateError, keyTypeOf } from './certificate.js';
import { certificateForKey, generateClientCertificate } from './generate.js';
import { isFingerprint, spkiFingerprint } from './fingerprint.js';

test('PEM and DER inputs give the same result', () => {
  const kc = generateClientCertificate('alice laptop');
  const fromPem = parseCertificate(kc.certPem);
  const fromPemBuf = parseCertificate(Buffer.from(kc.certPem));
  const fromDer = parseCertificate(kc.certDer);
  assert.deepEqual(fromPem, fromDer);
  assert.deepEqual(fromPemBuf, fromDer);
  assert.deepEqual(fromDer.der, kc.certDer);
  assert.equal(fromDer.keyType, 'ed25519');
  assert.equal(fromDer.subjectCN, 'alice laptop');
  assert.equal(fromDer.defaultName, 'alice laptop');
  assert.match(fromDer.serialHex, /^[0-9a-f]+$/);
  assert.equal(fromDer.fingerprint, kc.fingerprint);
  assert.equal(fromDer.fingerprint, spkiFingerprint(fromDer.spkiDer));
  assert.ok(isFingerprint(fromDer.fingerprint));
  assert.equal(fromDer.fingerprint.length, 43);
});

test('the fingerprint depends on the key only, not the certificate', () => {
  const { privateKey } = generateKeyPairSync('ed25519');
  const a = parseCertificate(certificateForKey(privateKey, { commonName: 'one' }));
  const b = parseCertificate(certificateForKey(privateKey, { commonName: 'two' }));
  assert.notEqual(a.serialHex, b.serialHex);
  assert.equal(a.fingerprint, b.fingerprint);
});

test('key types: ECDSA curves and RSA sizes', () => {
  for (const [curve, type] of [['prime256v1', 'ecdsa-p256'], ['secp384r1', 'ecdsa-p384'], ['secp521r1', 'ecdsa-p521']] as const) {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: curve });
    assert.equal(parseCertificate(certificateForKey(privateKey)).keyType, type);
  }
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  assert.equal(parseCertificate(certificateForKey(rsa.privateKey)).keyType, 'rsa-2048');
  const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
  assert.throws(() => parseCertificate(certificateForKey(weak.privateKey)), (e) => e instanceof CertificateError && /too weak/.test(e.message));
  const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
  assert.throws(() => keyTypeOf(k1.publicKey), CertificateError);
  assert.throws(() => keyTypeOf(generateKeyPairSync('ed448').publicKey), /ed448 is not accepted/);
});

test('private keys are refused with a clear message and the code privatekey, in PEM and DER', () => {
  const kc = generateClientCertificate('x');
  // Callers branch on the code, never on the text.
  const msg = (e: unknown) => e instanceof CertificateError && e.code === 'privatekey' && /that is a private key; upload the certificate only/.test(e.message);
  assert.throws(() => parseCertificate(kc.keyPem), msg);
  assert.throws(() => parseCertificate(kc.keyPem + kc.certPem), msg, 'keycert bundle');
  assert.throws(() => parseCertificate(kc.keyPkcs8Der), msg);
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  assert.throws(() => parseCertificate(rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()), msg);
  assert.throws(() => parseCertificate(rsa.privateKey.export({ type: 'pkcs1', format: 'der' })), msg);
  const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  assert.throws(() => parseCertificate(ec.privateKey.export({ type: 'sec1', format: 'der' })), msg);
});

test('garbage is refused clearly, with the code certificate', () => {
  const cases: [string | Buffer, RegExp][] = [
    ['', /empty input/],
    [Buffer.alloc(0), /empty input/],
    ['hello world', /not a certificate/],
    [Buffer.from([0x30, 0x82, 0xff, 0xff, 1, 2, 3]), /not a certificate/],
    ['-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n', /bad base64/],
    ['-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', /not a certificate/],
    ['-----BEGIN CERTIFICATE-----\nAAAA\n', /no complete BEGIN\/END/],
    [generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString(), /found: PUBLIC KEY/],
  ];
  for (const [input, re] of cases) assert.throws(() => parseCertificate(input), (e) => e instanceof CertificateError && e.code === 'certificate' && re.test(e.message), String(input));
});

test('first certificate of a chain counts; trailing text is ignored; certificatePem round trips', () => {
  const a = generateClientCertificate('leaf');
  const b = generateClientCertificate('other');
  const parsed = parseCertificate(`junk before\n${a.certPem}${b.certPem}`);
  assert.equal(parsed.subjectCN, 'leaf');
  assert.equal(certificatePem(a.certDer), a.certPem);
  assert.match(a.certPem, /^-----BEGIN CERTIFICATE-----\n([A-Za-z0-9+/=]{64}\n)*[A-Za-z0-9+/=]{1,64}\n-----END CERTIFICATE-----\n$/);
  assert.ok(new X509Certificate(a.certPem));
});

test('no CN: default name is the serial', () => {
  const kc = generateClientCertificate('');
  const p = parseCertificate(kc.certDer);
  assert.equal(p.subjectCN, '');
  assert.equal(p.defaultName, `serial ${p.serialHex}`);
});
