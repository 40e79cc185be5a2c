// DKIM key generation for quickstart: one Ed25519 (RFC 8463) and one RSA-2048 key per domain, so
// receivers that do not know ed25519-sha256 still find an rsa-sha256 signature (RFC 8463 3 advises
// signing with both).

import { generateKeyPairSync } from 'node:crypto';

export interface DkimKey {
  selector: string;
  algorithm: 'ed25519' | 'rsa';
  /** PKCS#8 PEM. */
  privateKeyPem: string;
  /** Where the public key goes: a TXT record at this name. */
  dnsName: string;
  /** The TXT record's value (RFC 6376 3.6.1). */
  dnsRecord: string;
}

/** Selectors carry the year so a later rotation gets fresh names: p2026e (Ed25519), p2026r (RSA). */
export function generateDkimKeys(domain: string, now: Date = new Date()): DkimKey[] {
  const year = now.getUTCFullYear();
  const d = domain.toLowerCase().replace(/\.$/, '');

  const ed = generateKeyPairSync('ed25519');
  // RFC 8463 4.2: p= is the base64 of the raw 32-byte public key, not the SPKI structure.
  const edRaw = ed.publicKey.export({ type: 'spki', format: 'der' }).subarray(-32);
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  // RFC 6376 3.6.1: for RSA, p= is the base64 of the SubjectPublicKeyInfo DER.
  const rsaSpki = rsa.publicKey.export({ type: 'spki', format: 'der' });

  return [
    {
      selector: `p${year}e`,
      algorithm: 'ed25519',
      privateKeyPem: ed.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      dnsName: `p${year}e._domainkey.${d}`,
      dnsRecord: `v=DKIM1; k=ed25519; p=${edRaw.toString('base64')}`,
    },
    {
      selector: `p${year}r`,
      algorithm: 'rsa',
      privateKeyPem: rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      dnsName: `p${year}r._domainkey.${d}`,
      dnsRecord: `v=DKIM1; k=rsa; p=${rsaSpki.toString('base64')}`,
    },
  ];
}
