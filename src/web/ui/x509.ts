/// <reference lib="dom" />
// Key pairs and minimal self-signed certificates made with WebCrypto, so that a private key made
// in the browser never leaves it (spec 9). Same shape as src/tls/generate.ts: CN = the key name,
// a random serial, validity until 9999-12-31 (RFC 5280 4.1.2.5: no well-defined expiration), no
// extensions; only the public key matters to the server (spec 2.1).

import { bitString, explicit, integer, oid, sequence, setOf, time, utf8String, type Der } from './der.js';
import { toBase64Url } from './base64.js';

export type BrowserKeyType = 'ecdsa-p256' | 'ed25519';

export interface GeneratedCertificate {
  keyType: BrowserKeyType;
  /** PKCS#8 DER of the private key. */
  pkcs8: Der;
  certDer: Der;
  /** spec 2.1 fingerprint: SHA-256 of the SubjectPublicKeyInfo, base64url without padding. */
  fingerprint: string;
}

const NO_EXPIRY = new Date('9999-12-31T23:59:59Z');

function algorithmOf(type: BrowserKeyType): { gen: EcKeyGenParams | Algorithm; sign: EcdsaParams | Algorithm; sigAlg: Der } {
  if (type === 'ed25519') return { gen: { name: 'Ed25519' }, sign: { name: 'Ed25519' }, sigAlg: sequence(oid('1.3.101.112')) }; // RFC 8410 3
  // RFC 5758 3.2: ecdsa-with-SHA256, parameters absent.
  return { gen: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' }, sigAlg: sequence(oid('1.2.840.10045.4.3.2')) };
}

/** Whether this browser's WebCrypto makes Ed25519 keys (recent Chrome, Firefox, Safari do). */
export async function ed25519Supported(): Promise<boolean> {
  try {
    await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
    return true;
  } catch {
    return false;
  }
}

/** WebCrypto ECDSA signatures are r||s (IEEE P1363); X.509 wants Ecdsa-Sig-Value (RFC 3279 2.2.3). */
function ecdsaDer(raw: Uint8Array): Der {
  const half = raw.length / 2;
  return sequence(integer(raw.subarray(0, half)), integer(raw.subarray(half)));
}

export async function spkiFingerprint(spki: Der): Promise<string> {
  return toBase64Url(new Uint8Array(await crypto.subtle.digest('SHA-256', spki)));
}

export async function generateCertificate(type: BrowserKeyType, commonName: string, now = new Date()): Promise<GeneratedCertificate> {
  const alg = algorithmOf(type);
  const keys = (await crypto.subtle.generateKey(alg.gen, true, ['sign', 'verify'])) as CryptoKeyPair;
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', keys.publicKey));
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', keys.privateKey));
  const serial = crypto.getRandomValues(new Uint8Array(16));
  serial[0] = (serial[0]! & 0x7f) | 0x40; // positive, 16 significant bytes (RFC 5280 4.1.2.2)
  const name = sequence(setOf(sequence(oid('2.5.4.3'), utf8String(commonName)))); // RFC 5280 4.1.2.4
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000 - 3600_000); // clock skew
  const tbs = sequence(explicit(0, integer(2)), integer(serial), alg.sigAlg, name, sequence(time(notBefore), time(NO_EXPIRY)), name, spki);
  let signature: Der = new Uint8Array(await crypto.subtle.sign(alg.sign, keys.privateKey, tbs));
  if (type === 'ecdsa-p256') signature = ecdsaDer(signature);
  const certDer = sequence(tbs, alg.sigAlg, bitString(signature));
  return { keyType: type, pkcs8, certDer, fingerprint: await spkiFingerprint(spki) };
}

