// TLS public key fingerprints (spec 2.1): SHA-256 of the SubjectPublicKeyInfo DER, base64url
// without padding, 43 characters. Same value whatever certificate wraps the key.

import { createHash, createPublicKey, type KeyObject } from 'node:crypto';

export function spkiFingerprint(spkiDer: Uint8Array): string {
  return createHash('sha256').update(spkiDer).digest('base64url');
}

/** Fingerprint of a public key, or of a private key's public half. */
export function keyFingerprint(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return spkiFingerprint(pub.export({ type: 'spki', format: 'der' }));
}

/** A syntactically valid fingerprint: 43 base64url characters. */
export function isFingerprint(s: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(s);
}
