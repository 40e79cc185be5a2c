// Key pairs and minimal self-signed X.509 v3 certificates (RFC 5280) for client keys
// (`postern config tlspubkey gen`, bare Ed25519 keys in the client libraries) and for
// quickstart's server certificate. Only the public key of a client certificate matters
// (spec 2.1), so those are as small as RFC 5280 allows: CN, long validity, no extensions.

import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { bitString, boolean, explicit, implicitPrimitive, integer, NULL, octetString, oid, sequence, setOf, time, utf8String, type Der } from './der.js';
import { keyFingerprint } from './fingerprint.js';
import { certificatePem } from './certificate.js';

export type GeneratedKeyType = 'ed25519' | 'ecdsa-p256' | 'rsa-2048';

/** A private key with its certificate, in the forms callers write to files. */
export interface KeyAndCertificate {
  privateKey: KeyObject;
  /** PKCS#8 DER of the private key. */
  keyPkcs8Der: Buffer;
  /** PKCS#8 PEM ("PRIVATE KEY"). */
  keyPem: string;
  certDer: Buffer;
  certPem: string;
  /** spec 2.1 fingerprint of the public key. */
  fingerprint: string;
}

export interface CertificateOptions {
  /** Subject and issuer CN; default "postern". */
  commonName?: string;
  /** DNS names or IP addresses for subjectAltName (server certificates). */
  altNames?: string[];
  /** Server certificate: add basicConstraints, keyUsage, extKeyUsage serverAuth. */
  server?: boolean;
  notBefore?: Date;
  notAfter?: Date;
}

export function generatePrivateKey(type: GeneratedKeyType): KeyObject {
  switch (type) {
    case 'ed25519':
      return generateKeyPairSync('ed25519').privateKey;
    case 'ecdsa-p256':
      return generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    case 'rsa-2048':
      return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  }
}

// RFC 8410 7: PKCS#8 OneAsymmetricKey for Ed25519 is this prefix plus the 32-byte seed.
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** Ed25519 private key from its 32-byte seed (raw, or base64url text as in sendmail.conf). */
export function ed25519KeyFromSeed(seed: Uint8Array | string): KeyObject {
  const raw = typeof seed === 'string' ? Buffer.from(seed.trim(), 'base64url') : Buffer.from(seed);
  if (raw.length !== 32 || (typeof seed === 'string' && !/^[A-Za-z0-9_-]{43}=?$/.test(seed.trim()))) {
    throw new Error('an Ed25519 seed is 32 bytes (43 base64url characters)');
  }
  return createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' });
}

/** A private key from PEM (PKCS#8, PKCS#1, SEC1) or a base64url Ed25519 seed. */
export function loadPrivateKey(input: string | Buffer): KeyObject {
  const text = typeof input === 'string' ? input : input.toString('utf8');
  if (text.includes('-----BEGIN')) return createPrivateKey(text);
  return ed25519KeyFromSeed(text);
}

interface SignatureScheme {
  algorithm: Der;
  digest: string | null;
}

function signatureScheme(key: KeyObject): SignatureScheme {
  const type = key.asymmetricKeyType;
  if (type === 'ed25519') return { algorithm: sequence(oid('1.3.101.112')), digest: null }; // RFC 8410 3
  if (type === 'ec') {
    // RFC 5758 3.2: ecdsa-with-SHA256/384/512, parameters absent.
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return { algorithm: sequence(oid('1.2.840.10045.4.3.2')), digest: 'sha256' };
    if (curve === 'secp384r1') return { algorithm: sequence(oid('1.2.840.10045.4.3.3')), digest: 'sha384' };
    if (curve === 'secp521r1') return { algorithm: sequence(oid('1.2.840.10045.4.3.4')), digest: 'sha512' };
  }
  // RFC 4055 5: sha256WithRSAEncryption, NULL parameters.
  if (type === 'rsa') return { algorithm: sequence(oid('1.2.840.113549.1.1.11'), NULL), digest: 'sha256' };
  throw new Error(`cannot make a certificate for a ${type ?? 'unknown'} key`);
}

function name(cn: string): Der {
  return sequence(setOf(sequence(oid('2.5.4.3'), utf8String(cn)))); // RFC 5280 4.1.2.4
}

function extension(id: string, critical: boolean, value: Der): Der {
  return critical ? sequence(oid(id), boolean(true), octetString(value)) : sequence(oid(id), octetString(value));
}

function altName(n: string): Der {
  // RFC 5280 4.2.1.6: dNSName [2] IA5String, iPAddress [7] OCTET STRING.
  const ipVersion = isIP(n);
  if (ipVersion === 0) return implicitPrimitive(2, Buffer.from(n, 'ascii'));
  if (ipVersion === 4) return implicitPrimitive(7, Buffer.from(n.split('.').map(Number)));
  return implicitPrimitive(7, ipv6Bytes(n));
}

function ipv6Bytes(addr: string): Buffer {
  // Trailing dotted quad (::ffff:1.2.3.4) becomes two groups; then expand "::".
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(addr);
  const text = v4 ? addr.slice(0, v4.index) + (((+v4[1] << 8) | +v4[2]).toString(16) + ':' + ((+v4[3] << 8) | +v4[4]).toString(16)) : addr;
  const [head, tail] = text.split('::');
  const groups = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const t = groups(tail);
  const all = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

/** RFC 5280 4.1.2.5: a certificate with no well-defined expiration uses 99991231235959Z. */
const NO_EXPIRY = new Date('9999-12-31T23:59:59Z');

/** A self-signed certificate (DER) for `privateKey`: a KeyObject, PEM text, or an Ed25519 seed. */
export function certificateForKey(privateKey: KeyObject | string, options: CertificateOptions = {}): Buffer {
  const key = typeof privateKey === 'string' ? loadPrivateKey(privateKey) : privateKey;
  if (key.type !== 'private') throw new Error('certificateForKey needs a private key');
  const scheme = signatureScheme(key);
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const cn = options.commonName ?? 'postern';
  const serial = randomBytes(16);
  serial[0] = (serial[0] & 0x7f) | 0x40; // positive, 16 significant bytes (RFC 5280 4.1.2.2: at most 20)
  const notBefore = options.notBefore ?? new Date(Math.floor(Date.now() / 1000) * 1000 - 3600_000); // clock skew
  const notAfter = options.notAfter ?? NO_EXPIRY;
  const extensions: Der[] = [];
  if (options.server) {
    extensions.push(extension('2.5.29.19', true, sequence())); // basicConstraints: not a CA
    // keyUsage digitalSignature (bit 0), plus keyEncipherment (bit 2) for RSA key transport.
    const ku = key.asymmetricKeyType === 'rsa' ? Buffer.of(0x05, 0xa0) : Buffer.of(0x07, 0x80);
    extensions.push(extension('2.5.29.15', true, Buffer.concat([Buffer.of(0x03, 0x02), ku])));
    extensions.push(extension('2.5.29.37', false, sequence(oid('1.3.6.1.5.5.7.3.1')))); // serverAuth
  }
  if (options.altNames?.length) extensions.push(extension('2.5.29.17', false, sequence(...options.altNames.map(altName))));
  const tbs = sequence(
    explicit(0, integer(2)), // v3
    integer(serial),
    scheme.algorithm,
    name(cn),
    sequence(time(notBefore), time(notAfter)),
    name(cn),
    spki,
    ...(extensions.length ? [explicit(3, sequence(...extensions))] : []),
  );
  const signature = sign(scheme.digest, tbs, key);
  return sequence(tbs, scheme.algorithm, bitString(signature));
}

function bundle(privateKey: KeyObject, certDer: Buffer): KeyAndCertificate {
  return {
    privateKey,
    keyPkcs8Der: privateKey.export({ type: 'pkcs8', format: 'der' }),
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    certDer,
    certPem: certificatePem(certDer),
    fingerprint: keyFingerprint(privateKey),
  };
}

/** A new client key (Ed25519 by default) with a minimal self-signed certificate, CN = name. */
export function generateClientCertificate(commonName: string, type: GeneratedKeyType = 'ed25519'): KeyAndCertificate {
  const key = generatePrivateKey(type);
  return bundle(key, certificateForKey(key, { commonName }));
}

/**
 * Apple platforms refuse TLS server certificates valid for more than 825 days, even
 * self-signed ones the user trusts; stay under it.
 */
export const SERVER_CERT_DAYS = 820;

/** A self-signed server certificate for quickstart: CN and subjectAltName = hostname. */
export function generateServerCertificate(hostname: string, type: 'ecdsa-p256' | 'rsa-2048' = 'ecdsa-p256'): KeyAndCertificate {
  const key = generatePrivateKey(type);
  const notBefore = new Date(Math.floor(Date.now() / 1000) * 1000 - 3600_000);
  const notAfter = new Date(notBefore.getTime() + SERVER_CERT_DAYS * 86400_000);
  return bundle(key, certificateForKey(key, { commonName: hostname, altNames: [hostname], server: true, notBefore, notAfter }));
}
