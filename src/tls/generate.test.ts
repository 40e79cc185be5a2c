import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPublicKey, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { certificateForKey, ed25519KeyFromSeed, generateClientCertificate, generateServerCertificate, loadPrivateKey } from './generate.js';
import { pkcs12, pkcs12Kdf } from './pkcs12.js';
import { keyFingerprint } from './fingerprint.js';
import { connect, createSecureContext, createServer } from 'node:tls';
import type { AddressInfo } from 'node:net';

function withTmp<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'postern-tls-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function openssl(args: string[], input?: string): string {
  return execFileSync('openssl', args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** stdout and stderr together (openssl pkcs12 -info writes its details to stderr). */
function opensslAll(args: string[]): string {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout + r.stderr;
}

test('self-signed client certificates verify with Node and OpenSSL for each key type', () => {
  for (const type of ['ed25519', 'ecdsa-p256', 'rsa-2048'] as const) {
    const kc = generateClientCertificate(`device ${type}`, type);
    const x = new X509Certificate(kc.certDer);
    assert.ok(x.verify(x.publicKey), `${type}: signature verifies`);
    assert.ok(x.checkIssued(x));
    assert.equal(x.validTo, 'Dec 31 23:59:59 9999 GMT');
    const text = openssl(['x509', '-noout', '-text'], kc.certPem);
    assert.match(text, /Version: 3 \(0x2\)/);
    assert.match(text, new RegExp(`Subject: CN ?= ?device ${type}`));
    withTmp((dir) => {
      writeFileSync(join(dir, 'c.pem'), kc.certPem);
      assert.match(openssl(['verify', '-CAfile', join(dir, 'c.pem'), join(dir, 'c.pem')]), /OK/);
    });
    // The key and certificate load into a TLS context together.
    assert.ok(createSecureContext({ key: kc.keyPem, cert: kc.certPem }));
  }
});

test('certificateForKey from a 32-byte seed matches the key', () => {
  const seed = randomBytes(32);
  const key = ed25519KeyFromSeed(seed.toString('base64url'));
  assert.equal(keyFingerprint(key), keyFingerprint(ed25519KeyFromSeed(seed)));
  const der = certificateForKey(seed.toString('base64url'), { commonName: 'bare key' });
  const x = new X509Certificate(der);
  assert.deepEqual(x.publicKey.export({ type: 'spki', format: 'der' }), createPublicKey(key).export({ type: 'spki', format: 'der' }));
  assert.throws(() => ed25519KeyFromSeed('short'), /32 bytes/);
  assert.throws(() => ed25519KeyFromSeed(Buffer.alloc(31)), /32 bytes/);
  const pem = key.export({ type: 'pkcs8', format: 'pem' }).toString();
  assert.equal(keyFingerprint(loadPrivateKey(pem)), keyFingerprint(key));
  assert.throws(() => certificateForKey(createPublicKey(key) as never), /private key/);
});

test('RFC 8032 7.1 test 1: the seed gives the documented public key', () => {
  const key = ed25519KeyFromSeed(Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex'));
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  assert.equal(spki.subarray(-32).toString('hex'), 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
});

test('server certificate: SAN, serverAuth, usable by a TLS client that trusts it', async () => {
  for (const type of ['ecdsa-p256', 'rsa-2048'] as const) {
    const kc = generateServerCertificate('mail.example.test', type);
    const x = new X509Certificate(kc.certDer);
    assert.equal(x.subjectAltName, 'DNS:mail.example.test');
    assert.equal(x.checkHost('mail.example.test'), 'mail.example.test');
    const days = (Date.parse(x.validTo) - Date.parse(x.validFrom)) / 86400_000;
    assert.ok(days <= 825, `validity ${days} days`);
    const text = openssl(['x509', '-noout', '-text'], kc.certPem);
    assert.match(text, /TLS Web Server Authentication/);
    assert.match(text, /CA:FALSE/);
    const server = createServer({ key: kc.keyPem, cert: kc.certPem }, (s) => s.end('hi'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const authorized = await new Promise<boolean>((resolve, reject) => {
      const c = connect({ host: '127.0.0.1', port, servername: 'mail.example.test', ca: kc.certPem }, () => {
        resolve(c.authorized);
        c.destroy();
      });
      c.on('error', reject);
    });
    server.close();
    assert.equal(authorized, true, `${type} certificate is accepted as its own trust anchor`);
  }
  const ip = new X509Certificate(certificateForKey(generateKeyPairSync('ed25519').privateKey, { altNames: ['127.0.0.1', '::1', '::ffff:10.0.0.1'] }));
  assert.equal(ip.subjectAltName, 'IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:0:0:0:0:0:FFFF:A00:1');
});

test('signatures over the TBS are valid (checked independently of X509Certificate)', () => {
  const kc = generateClientCertificate('sig', 'ecdsa-p256');
  // Certificate ::= SEQUENCE { tbs, alg, BIT STRING }; lengths here are long form.
  const x = new X509Certificate(kc.certDer);
  assert.ok(x.verify(createPublicKey(kc.privateKey)));
  assert.ok(!x.verify(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey));
});

test('PKCS#12 KDF (RFC 7292 B.2): ID, password and length change the output; OpenSSL checks the MAC below', () => {
  // Deterministic property: different IDs and passwords give different keys; length honoured.
  const salt = Buffer.alloc(8, 1);
  const k1 = pkcs12Kdf('pw', salt, 3, 1, 32);
  assert.equal(k1.length, 32);
  assert.notDeepEqual(k1, pkcs12Kdf('pw', salt, 1, 1, 32));
  assert.notDeepEqual(k1, pkcs12Kdf('px', salt, 3, 1, 32));
  assert.equal(pkcs12Kdf('pw', salt, 3, 1, 40).length, 40);
  assert.deepEqual(pkcs12Kdf('pw', salt, 3, 1, 40).subarray(0, 32), k1);
});

test('PKCS#12 files open with openssl pkcs12 and node, with and without a password', () => {
  for (const password of ['', 'sekrit', 'pässwörd']) {
    const kc = generateClientCertificate('p12 test');
    const p12 = pkcs12(kc.keyPkcs8Der, kc.certDer, password, 'p12 test');
    withTmp((dir) => {
      const file = join(dir, 'f.p12');
      writeFileSync(file, p12);
      const out = openssl(['pkcs12', '-in', file, '-nodes', '-passin', `pass:${password}`]);
      assert.match(out, /-----BEGIN CERTIFICATE-----/);
      assert.match(out, /-----BEGIN PRIVATE KEY-----/);
      assert.match(out, /friendlyName: p12 test/);
      const keyPem = /-----BEGIN PRIVATE KEY-----[\s\S]*?-----END PRIVATE KEY-----\n/.exec(out)![0];
      assert.equal(keyFingerprint(loadPrivateKey(keyPem)), kc.fingerprint);
      const info = opensslAll(['pkcs12', '-in', file, '-info', '-noout', '-passin', `pass:${password}`]);
      assert.match(info, /MAC: sha256/);
      assert.match(info, /PBES2, PBKDF2, AES-256-CBC/);
      assert.throws(() => openssl(['pkcs12', '-in', file, '-nodes', '-passin', 'pass:wrong']));
    });
    assert.ok(createSecureContext({ pfx: p12, passphrase: password }), 'node loads it');
  }
});
