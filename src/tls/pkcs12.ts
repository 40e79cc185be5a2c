// PKCS#12 (RFC 7292) writer for `tlspubkey gen`: one certificate bag and one shrouded key
// bag (PBES2 / PBKDF2-HMAC-SHA256 / AES-256-CBC, RFC 8018), protected by an HMAC-SHA256 MAC.
// This is what OpenSSL 3 writes by default, and what current mail clients import.

import { createCipheriv, createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { bmpString, explicit, integer, NULL, octetString, oid, sequence, setOf, type Der } from './der.js';

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
 * RFC 7292 B.2 key derivation (used only for the MAC key, B.4), with SHA-256 (u=32, v=64).
 * The password is a BMPString with a terminating NUL (B.1); an empty password is just the NUL.
 */
export function pkcs12Kdf(password: string, salt: Buffer, id: number, iterations: number, length: number): Buffer {
  const u = 32;
  const v = 64;
  const pw = Buffer.concat([Buffer.from(password, 'utf16le').swap16(), Buffer.alloc(2)]);
  const fill = (src: Buffer): Buffer => {
    if (src.length === 0) return Buffer.alloc(0);
    const out = Buffer.alloc(v * Math.ceil(src.length / v));
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length];
    return out;
  };
  const D = Buffer.alloc(v, id);
  const I = Buffer.concat([fill(salt), fill(pw)]);
  const blocks: Buffer[] = [];
  for (let produced = 0; produced < length; produced += u) {
    let A = createHash('sha256').update(D).update(I).digest();
    for (let r = 1; r < iterations; r++) A = createHash('sha256').update(A).digest();
    blocks.push(A);
    // I_j = (I_j + B + 1) mod 2^(8v), with B = A repeated to v bytes.
    const B = fill(A);
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = I[j + k] + B[k] + carry;
        I[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(blocks).subarray(0, length);
}

function contentInfoData(content: Der): Der {
  return sequence(oid(OID.data), explicit(0, octetString(content)));
}

function bagAttributes(localKeyId: Buffer, friendlyName: string | undefined): Der {
  const attrs = [sequence(oid(OID.localKeyId), setOf(octetString(localKeyId)))];
  if (friendlyName) attrs.push(sequence(oid(OID.friendlyName), setOf(bmpString(friendlyName))));
  return setOf(...attrs);
}

/** RFC 8018 6.2 PBES2 encryption of a PKCS#8 key: EncryptedPrivateKeyInfo (RFC 5958 3). */
function encryptPrivateKey(keyPkcs8Der: Buffer, password: string): Der {
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  // OpenSSL (and RFC 8018) feed the password octets to PBKDF2 as they are: UTF-8 here.
  const key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, PKCS12_PBKDF2_ITERATIONS, 32, 'sha256');
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  const encrypted = Buffer.concat([cipher.update(keyPkcs8Der), cipher.final()]);
  const algorithm = sequence(
    oid(OID.pbes2),
    sequence(
      sequence(oid(OID.pbkdf2), sequence(octetString(salt), integer(PKCS12_PBKDF2_ITERATIONS), sequence(oid(OID.hmacWithSha256), NULL))),
      sequence(oid(OID.aes256Cbc), octetString(iv)),
    ),
  );
  return sequence(algorithm, octetString(encrypted));
}

/**
 * A PKCS#12 file holding the private key (PKCS#8 DER) and its certificate (DER). Use an empty
 * password for "no password"; OpenSSL reads it with `-passin pass:`.
 */
export function pkcs12(keyPkcs8Der: Buffer, certDer: Buffer, password: string, friendlyName?: string): Buffer {
  const localKeyId = createHash('sha1').update(certDer).digest(); // what OpenSSL uses
  const certBag = sequence(
    oid(OID.certBag),
    explicit(0, sequence(oid(OID.x509Certificate), explicit(0, octetString(certDer)))),
    bagAttributes(localKeyId, friendlyName),
  );
  const keyBag = sequence(oid(OID.pkcs8ShroudedKeyBag), explicit(0, encryptPrivateKey(keyPkcs8Der, password)), bagAttributes(localKeyId, friendlyName));
  // RFC 7292 4.1: AuthenticatedSafe; the certificate unencrypted (public anyway), the key shrouded.
  const authSafe = sequence(contentInfoData(sequence(certBag)), contentInfoData(sequence(keyBag)));
  const macSalt = randomBytes(16);
  const macKey = pkcs12Kdf(password, macSalt, 3, PKCS12_MAC_ITERATIONS, 32); // B.3: ID 3 = MAC key
  const mac = createHmac('sha256', macKey).update(authSafe).digest();
  const macData = sequence(sequence(sequence(oid(OID.sha256), NULL), octetString(mac)), octetString(macSalt), integer(PKCS12_MAC_ITERATIONS));
  return sequence(integer(3), contentInfoData(authSafe), macData);
}
