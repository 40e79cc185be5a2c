// DKIM key generation: Ed25519 (RFC 8463) and RSA-2048 keys, and the TXT record that publishes a
// key. Every domain gets one of each, so receivers that do not know ed25519-sha256 still find an
// rsa-sha256 signature (RFC 8463 3 advises signing with both). Keys are kept by dkim-keyring.ts.

import { generateKeyPairSync, type KeyObject } from 'node:crypto';

export type DkimAlgorithm = 'ed25519' | 'rsa';

export interface DkimKey {
  selector: string;
  algorithm: DkimAlgorithm;
  /** PKCS#8 PEM. */
  privateKeyPem: string;
  /** Where the public key goes: a TXT record at this name. */
  dnsName: string;
  /** The TXT record's value (RFC 6376 3.6.1). */
  dnsRecord: string;
}

/** The TXT record value publishing a public key (RFC 6376 3.6.1, RFC 8463 4.2). */
export function publicKeyRecord(pub: KeyObject): string {
  const spki = pub.export({ type: 'spki', format: 'der' });
  if (pub.asymmetricKeyType === 'ed25519') {
    // RFC 8463 4.2: p= is the base64 of the raw 32-byte public key, not the SPKI structure.
    return `v=DKIM1; k=ed25519; p=${spki.subarray(-32).toString('base64')}`;
  }
  if (pub.asymmetricKeyType === 'rsa') return `v=DKIM1; k=rsa; p=${spki.toString('base64')}`;
  throw new Error(`unsupported DKIM key type ${pub.asymmetricKeyType}`);
}

/** A new private key of the algorithm, with its record. */
export function generateDkimKey(algorithm: DkimAlgorithm): { privateKeyPem: string; dnsRecord: string } {
  const pair = algorithm === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKeyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    dnsRecord: publicKeyRecord(pair.publicKey),
  };
}

/** Selectors carry the year: p2026e (Ed25519), p2026r (RSA). */
export function generateDkimKeys(domain: string, now: Date = new Date()): DkimKey[] {
  const year = now.getUTCFullYear();
  const d = domain.toLowerCase().replace(/\.$/, '');
  return (['ed25519', 'rsa'] as const).map((algorithm) => {
    const selector = `p${year}${algorithm === 'ed25519' ? 'e' : 'r'}`;
    const k = generateDkimKey(algorithm);
    return { selector, algorithm, privateKeyPem: k.privateKeyPem, dnsName: `${selector}._domainkey.${d}`, dnsRecord: k.dnsRecord };
  });
}
