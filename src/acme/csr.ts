// The two X.509 structures an ACME client signs itself, built with our DER encoder (src/tls/der.ts):
// the certificate signing request sent to finalize an order (RFC 8555 7.4, PKCS#10 / RFC 2986) and
// the self-signed tls-alpn-01 certificate with the acmeIdentifier extension (RFC 8737 3).
// Keys are ECDSA P-256 (see acme-manager.ts), signed with ecdsa-with-SHA256 (RFC 5758 3.2).

import { createHash, createPublicKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import { bitString, boolean, explicit, implicitPrimitive, integer, octetString, oid, sequence, setOf, time, utf8String, type Der } from '../tls/der.js';

const ECDSA_WITH_SHA256 = sequence(oid('1.2.840.10045.4.3.2'));
const OID_CN = '2.5.4.3';
const OID_SAN = '2.5.29.17';
const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14'; // RFC 2985 5.4.2
const OID_ACME_IDENTIFIER = '1.3.6.1.5.5.7.1.31'; // RFC 8737 6.1

function name(cn: string): Der {
  return sequence(setOf(sequence(oid(OID_CN), utf8String(cn))));
}

function extension(id: string, critical: boolean, value: Der): Der {
  return sequence(oid(id), ...(critical ? [boolean(true)] : []), octetString(value));
}

function subjectAltName(dnsNames: string[]): Der {
  return extension(OID_SAN, false, sequence(...dnsNames.map((n) => implicitPrimitive(2, Buffer.from(n, 'ascii')))));
}

function spki(key: KeyObject): Der {
  return createPublicKey(key).export({ type: 'spki', format: 'der' });
}

function signed(tbs: Der, key: KeyObject): Der {
  if (key.asymmetricKeyType !== 'ec') throw new Error('ACME keys are ECDSA P-256');
  return sequence(tbs, ECDSA_WITH_SHA256, bitString(sign('sha256', tbs, key)));
}

/** PKCS#10 request for `names` (the first is the CN), PEM. */
export function createCsrPem(key: KeyObject, names: string[]): string {
  const info = sequence(
    integer(0),
    name(names[0]!),
    spki(key),
    explicit(0, sequence(oid(OID_EXTENSION_REQUEST), setOf(sequence(subjectAltName(names))))),
  );
  return pem('CERTIFICATE REQUEST', signed(info, key));
}

/** RFC 8737 3: self-signed, SAN = the one name, critical acmeIdentifier = SHA-256(key authorization). */
export function createAlpnCertificatePem(key: KeyObject, dnsName: string, keyAuthorization: string): string {
  const digest = createHash('sha256').update(keyAuthorization).digest();
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  const now = Math.floor(Date.now() / 1000) * 1000;
  const tbs = sequence(
    explicit(0, integer(2)),
    integer(serial),
    ECDSA_WITH_SHA256,
    name(dnsName),
    sequence(time(new Date(now - 3600_000)), time(new Date(now + 7 * 86400_000))),
    name(dnsName),
    spki(key),
    explicit(3, sequence(subjectAltName([dnsName]), extension(OID_ACME_IDENTIFIER, true, octetString(digest)))),
  );
  return pem('CERTIFICATE', signed(tbs, key));
}

function pem(label: string, der: Buffer): string {
  return `-----BEGIN ${label}-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END ${label}-----\n`;
}
