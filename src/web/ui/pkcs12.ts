/// <reference lib="dom" />
// PKCS#12 (RFC 7292) made in the browser, the same layout as src/tls/pkcs12.ts: one certificate bag
// and one shrouded key bag (PBES2 / PBKDF2-HMAC-SHA256 / AES-256-CBC, RFC 8018), protected by an
// HMAC-SHA256 MAC. What OpenSSL 3 writes by default; OpenSSL 1.x and some older mail clients need a
// `-legacy` file instead (the suggested commands say so).

import { bmpBytes, bmpString, concat, explicit, integer, NULL, octetString, oid, sequence, setOf, type Der } from './der.js';
import { sha256 } from './sha256.js';

export const PKCS12_PBKDF2_ITERATIONS = 100_000;
export const PKCS12_MAC_ITERATIONS = 10_000;

const OID = {
  data: '1.2.840.113549.1.7.1',
  pkcs8ShroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  hmacWithSha256: '1.2.840.113549.2.9',
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
  sha256: '2.16.840.1.101.3.4.2.1',
};

/**
 * RFC 7292 B.2 key derivation with SHA-256 (u=32, v=64), used for the MAC key (B.4). The password
 * is a BMPString with a terminating NUL (B.1).
 */
export function pkcs12Kdf(password: string, salt: Uint8Array, id: number, iterations: number, length: number): Der {
  const u = 32;
  const v = 64;
  const pw = concat(bmpBytes(password), new Uint8Array(2));
  const fill = (src: Uint8Array): Der => {
    const out = new Uint8Array(v * Math.ceil(src.length / v));
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length]!;
    return out;
  };
  const D = new Uint8Array(v).fill(id);
  const I = concat(fill(salt), fill(pw));
  const blocks: Uint8Array[] = [];
  for (let produced = 0; produced < length; produced += u) {
    let A: Uint8Array = sha256(concat(D, I));
    for (let r = 1; r < iterations; r++) A = sha256(A);
    blocks.push(A);
    // I_j = (I_j + B + 1) mod 2^(8v), with B = A repeated to v bytes.
    const B = fill(A);
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = I[j + k]! + B[k]! + carry;
        I[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return concat(...blocks).subarray(0, length);
}

function contentInfoData(content: Der): Der {
  return sequence(oid(OID.data), explicit(0, octetString(content)));
}

function bagAttributes(localKeyId: Uint8Array, friendlyName: string | undefined): Der {
  const attrs = [sequence(oid(OID.localKeyId), setOf(octetString(localKeyId)))];
  if (friendlyName) attrs.push(sequence(oid(OID.friendlyName), setOf(bmpString(friendlyName))));
  return setOf(...attrs);
}

/** RFC 8018 6.2 PBES2 encryption of a PKCS#8 key: EncryptedPrivateKeyInfo (RFC 5958 3). */
async function encryptPrivateKey(pkcs8: Der, password: string): Promise<Der> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(16));
  // The password octets as they are (UTF-8), as OpenSSL does for PBES2.
  const base = await crypto.subtle.importKey('raw', new TextEncoder().encode(password), 'PBKDF2', false, ['deriveKey']);
  const key = await crypto.subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt, iterations: PKCS12_PBKDF2_ITERATIONS },
    base,
    { name: 'AES-CBC', length: 256 },
    false,
    ['encrypt'],
  );
  // WebCrypto AES-CBC pads with PKCS#7, as RFC 8018 6.2.1 step 4 requires.
  const encrypted = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-CBC', iv }, key, pkcs8));
  const algorithm = sequence(
    oid(OID.pbes2),
    sequence(
      sequence(oid(OID.pbkdf2), sequence(octetString(salt), integer(PKCS12_PBKDF2_ITERATIONS), sequence(oid(OID.hmacWithSha256), NULL))),
      sequence(oid(OID.aes256Cbc), octetString(iv)),
    ),
  );
  return sequence(algorithm, octetString(encrypted));
}

/** A PKCS#12 file with the private key (PKCS#8 DER) and its certificate (DER). */
export async function pkcs12(pkcs8: Der, certDer: Der, password: string, friendlyName?: string): Promise<Der> {
  const localKeyId = new Uint8Array(await crypto.subtle.digest('SHA-1', certDer)); // what OpenSSL uses
  const certBag = sequence(
    oid(OID.certBag),
    explicit(0, sequence(oid(OID.x509Certificate), explicit(0, octetString(certDer)))),
    bagAttributes(localKeyId, friendlyName),
  );
  const keyBag = sequence(oid(OID.pkcs8ShroudedKeyBag), explicit(0, await encryptPrivateKey(pkcs8, password)), bagAttributes(localKeyId, friendlyName));
  // RFC 7292 4.1: the certificate unencrypted (public anyway), the key shrouded.
  const authSafe = sequence(contentInfoData(sequence(certBag)), contentInfoData(sequence(keyBag)));
  const macSalt = crypto.getRandomValues(new Uint8Array(16));
  const macKeyBytes = pkcs12Kdf(password, macSalt, 3, PKCS12_MAC_ITERATIONS, 32); // B.3: ID 3 = MAC key
  const macKey = await crypto.subtle.importKey('raw', macKeyBytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', macKey, authSafe));
  const macData = sequence(sequence(sequence(oid(OID.sha256), NULL), octetString(mac)), octetString(macSalt), integer(PKCS12_MAC_ITERATIONS));
  return sequence(integer(3), contentInfoData(authSafe), macData);
}
