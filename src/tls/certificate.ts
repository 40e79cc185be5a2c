// Parsing a client certificate as uploaded (spec 2.1): PEM or DER. Only the public key
// matters; the rest is read for display (CN, serial) and never checked.

import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { decodeOid, readChildren, readElement } from './der.js';
import { spkiFingerprint } from './fingerprint.js';

export type TlsKeyType = 'ed25519' | 'ecdsa-p256' | 'ecdsa-p384' | 'ecdsa-p521' | `rsa-${number}`;

/** Why a certificate was refused: 'privatekey' when a private key was sent instead (or with it). */
export type CertificateErrorCode = 'certificate' | 'privatekey';

/** A certificate we cannot take; the message is meant for the user, the code for callers. */
export class CertificateError extends Error {
  override name = 'CertificateError';
  constructor(
    message: string,
    readonly code: CertificateErrorCode = 'certificate',
  ) {
    super(message);
  }
}

export interface ParsedCertificate {
  /** The certificate DER (the leaf, when a PEM chain was given). */
  der: Buffer;
  /** SubjectPublicKeyInfo DER. */
  spkiDer: Buffer;
  /** spkiFingerprint(spkiDer). */
  fingerprint: string;
  keyType: TlsKeyType;
  /** Subject common name, or null when there is none. */
  subjectCN: string | null;
  /** Serial number, lowercase hex. */
  serialHex: string;
  /** Default key name (spec 2.1): the CN, else "serial <hex>". */
  defaultName: string;
}

const CURVES: Record<string, TlsKeyType> = {
  prime256v1: 'ecdsa-p256',
  secp384r1: 'ecdsa-p384',
  secp521r1: 'ecdsa-p521',
};

export const MIN_RSA_BITS = 2048;

/** The spec 2.1 key type of a public key; throws CertificateError for refused types. */
export function keyTypeOf(key: KeyObject): TlsKeyType {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'ed25519':
      return 'ed25519';
    case 'ec': {
      const t = CURVES[details.namedCurve ?? ''];
      if (t === undefined) throw new CertificateError(`ECDSA curve ${details.namedCurve ?? 'unknown'} is not accepted (use P-256, P-384 or P-521)`);
      return t;
    }
    case 'rsa': {
      const bits = details.modulusLength ?? 0;
      if (bits < MIN_RSA_BITS) throw new CertificateError(`RSA key of ${bits} bits is too weak (at least ${MIN_RSA_BITS})`);
      return `rsa-${bits}`;
    }
    default:
      throw new CertificateError(`key type ${key.asymmetricKeyType ?? 'unknown'} is not accepted (use Ed25519, ECDSA or RSA)`);
  }
}

const PEM_BEGIN = /^-----BEGIN ([A-Z0-9 ]+)-----\s*$/;
const PEM_END = /^-----END ([A-Z0-9 ]+)-----\s*$/;

/** A certificate chain in PEM is a few KiB; anything far larger is not one (and is not parsed). */
export const MAX_CERTIFICATE_INPUT = 1024 * 1024;

/**
 * PEM blocks (RFC 7468) found in one pass over the lines: a BEGIN without its END is dropped when the
 * next BEGIN starts, so hostile input of many BEGIN lines costs linear time (a backtracking regular
 * expression was quadratic here).
 */
function pemBlocks(text: string): { label: string; body: string }[] {
  const out: { label: string; body: string }[] = [];
  let open: { label: string; lines: string[] } | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const begin = PEM_BEGIN.exec(line);
    if (begin) {
      open = { label: begin[1]!, lines: [] };
      continue;
    }
    const end = PEM_END.exec(line);
    if (end && open && end[1] === open.label) {
      out.push({ label: open.label, body: open.lines.join('') });
      open = null;
      continue;
    }
    open?.lines.push(line);
  }
  return out;
}

function looksLikeText(buf: Buffer): boolean {
  return buf.includes('-----BEGIN ');
}

function isPrivateKeyDer(der: Buffer): boolean {
  for (const type of ['pkcs8', 'pkcs1', 'sec1'] as const) {
    try {
      createPrivateKey({ key: der, format: 'der', type });
      return true;
    } catch {
      // not this encoding
    }
  }
  return false;
}

/** First CERTIFICATE block of a PEM text; refuses any private key in it. */
function derFromPem(text: string): Buffer {
  const blocks = pemBlocks(text);
  if (blocks.some((b) => b.label.includes('PRIVATE KEY'))) {
    throw new CertificateError('that is a private key; upload the certificate only', 'privatekey');
  }
  const cert = blocks.find((b) => b.label === 'CERTIFICATE' || b.label === 'X509 CERTIFICATE' || b.label === 'TRUSTED CERTIFICATE');
  if (cert === undefined) {
    const labels = blocks.map((b) => b.label).join(', ');
    throw new CertificateError(labels ? `no CERTIFICATE block in the PEM input (found: ${labels})` : 'malformed PEM: no complete BEGIN/END block');
  }
  const b64 = cert.body.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length === 0) throw new CertificateError('malformed PEM: bad base64 in the certificate');
  return Buffer.from(b64, 'base64');
}

/** Subject CN from the DER, decoded by its string type (node's subject text escapes and merges values). */
function subjectCommonName(der: Buffer): string | null {
  try {
    const cert = readChildren(readElement(der).content);
    const tbs = readChildren(cert[0].content);
    const i = tbs[0].tag === 0xa0 ? 1 : 0; // [0] version
    const subject = tbs[i + 4];
    let cn: string | null = null;
    for (const rdn of readChildren(subject.content)) {
      for (const atv of readChildren(rdn.content)) {
        const [type, value] = readChildren(atv.content);
        if (decodeOid(type.content) !== '2.5.4.3') continue;
        if (value.tag === 0x1e) cn = Buffer.from(value.content).swap16().toString('utf16le'); // BMPString
        else if (value.tag === 0x14) cn = value.content.toString('latin1'); // TeletexString, as latin1 in practice
        else cn = value.content.toString('utf8'); // UTF8String, PrintableString, IA5String
      }
    }
    return cn; // the most specific (last) CN, like OpenSSL tools show it
  } catch {
    return null;
  }
}

/** Parses a certificate given as PEM (string or Buffer) or DER. Throws CertificateError. */
export function parseCertificate(input: Buffer | string): ParsedCertificate {
  const buf = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  if (buf.length === 0) throw new CertificateError('empty input: expected a certificate (PEM or DER)');
  if (buf.length > MAX_CERTIFICATE_INPUT) throw new CertificateError('input too large for a certificate');
  const der = looksLikeText(buf) ? derFromPem(buf.toString('utf8')) : buf;
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(der);
  } catch {
    if (!looksLikeText(buf) && isPrivateKeyDer(der)) throw new CertificateError('that is a private key; upload the certificate only', 'privatekey');
    throw new CertificateError('not a certificate: expected an X.509 certificate in PEM or DER form');
  }
  let key: KeyObject;
  try {
    key = x509.publicKey;
  } catch {
    throw new CertificateError('the certificate has a public key of an unsupported type');
  }
  const keyType = keyTypeOf(key);
  const spkiDer = key.export({ type: 'spki', format: 'der' });
  const exactDer = x509.raw; // without any trailing bytes of the input
  const subjectCN = subjectCommonName(exactDer);
  const serialHex = x509.serialNumber.toLowerCase();
  return {
    der: exactDer,
    spkiDer,
    fingerprint: spkiFingerprint(spkiDer),
    keyType,
    subjectCN,
    serialHex,
    defaultName: subjectCN !== null && subjectCN !== '' ? subjectCN : `serial ${serialHex}`,
  };
}

/** PEM text for a certificate DER (64-character lines, RFC 7468 2). */
export function certificatePem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}
