// A small DER encoder (ITU-T X.690 10) for the structures we generate: X.509 certificates
// (RFC 5280) and PKCS#12 files (RFC 7292). Encoding only; parsing goes through node:crypto.

/** A complete DER TLV. */
export type Der = Buffer;

function encodeLength(len: number): Buffer {
  if (len < 0x80) return Buffer.of(len); // X.690 8.1.3.4 short form
  const bytes: number[] = [];
  for (let n = len; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]); // 8.1.3.5 long form, minimal
}

export function tlv(tag: number, content: Uint8Array): Der {
  return Buffer.concat([Buffer.of(tag), encodeLength(content.length), content]);
}

export function sequence(...items: Der[]): Der {
  return tlv(0x30, Buffer.concat(items));
}

/** SET OF: X.690 11.6 requires the encodings sorted. */
export function setOf(...items: Der[]): Der {
  return tlv(0x31, Buffer.concat([...items].sort(Buffer.compare)));
}

/** INTEGER from a non-negative bigint/number or from unsigned big-endian bytes. */
export function integer(value: number | bigint | Uint8Array): Der {
  let bytes: Buffer;
  if (value instanceof Uint8Array) {
    bytes = Buffer.from(value);
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i++;
    bytes = bytes.subarray(i);
    if (bytes.length === 0) bytes = Buffer.of(0);
  } else {
    let v = BigInt(value);
    if (v < 0n) throw new RangeError('negative INTEGER not supported');
    const out: number[] = [];
    do {
      out.unshift(Number(v & 0xffn));
      v >>= 8n;
    } while (v > 0n);
    bytes = Buffer.from(out);
  }
  if (bytes[0] & 0x80) bytes = Buffer.concat([Buffer.of(0), bytes]); // keep it positive (8.3.2)
  return tlv(0x02, bytes);
}

export function oid(dotted: string): Der {
  const arcs = dotted.split('.').map((a) => BigInt(a));
  if (arcs.length < 2) throw new RangeError(`bad OID ${dotted}`);
  const out: number[] = [];
  const first = arcs[0] * 40n + arcs[1];
  for (const arc of [first, ...arcs.slice(2)]) {
    const chunk: number[] = [];
    let v = arc;
    do {
      chunk.unshift(Number(v & 0x7fn) | (chunk.length ? 0x80 : 0));
      v >>= 7n;
    } while (v > 0n);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

export const NULL: Der = Buffer.of(0x05, 0x00);

export function octetString(data: Uint8Array): Der {
  return tlv(0x04, data);
}

/** BIT STRING with no unused bits. */
export function bitString(data: Uint8Array): Der {
  return tlv(0x03, Buffer.concat([Buffer.of(0), data]));
}

export function utf8String(s: string): Der {
  return tlv(0x0c, Buffer.from(s, 'utf8'));
}

/** BMPString (UTF-16BE), used by PKCS#12 friendlyName (RFC 7292 4.2). */
export function bmpString(s: string): Der {
  return tlv(0x1e, Buffer.from(s, 'utf16le').swap16());
}

export function boolean(v: boolean): Der {
  return tlv(0x01, Buffer.of(v ? 0xff : 0x00));
}

/** [n] EXPLICIT: constructed context-specific tag around a complete encoding. */
export function explicit(n: number, inner: Der): Der {
  return tlv(0xa0 | n, inner);
}

/** [n] IMPLICIT primitive context tag (e.g. GeneralName dNSName [2] IA5String). */
export function implicitPrimitive(n: number, content: Uint8Array): Der {
  return tlv(0x80 | n, content);
}

/**
 * RFC 5280 4.1.2.5: UTCTime for years 1950-2049, GeneralizedTime otherwise, both in UTC with
 * seconds and no fractions.
 */
export function time(date: Date): Der {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  const year = date.getUTCFullYear();
  if (year >= 1950 && year < 2050) return tlv(0x17, Buffer.from(`${digits.slice(2)}Z`, 'ascii'));
  return tlv(0x18, Buffer.from(`${digits}Z`, 'ascii'));
}

/** One decoded TLV: tag byte, content bounds, and where the next TLV starts. */
export interface DerElement {
  tag: number;
  content: Buffer;
  /** The whole encoding, header included. */
  raw: Buffer;
  end: number;
}

/**
 * Reads one TLV at `offset` (low-tag-number form, definite lengths only, as DER requires).
 * Throws RangeError on truncated or invalid input. Used to walk already-parsed certificates.
 */
export function readElement(buf: Buffer, offset = 0): DerElement {
  if (offset + 2 > buf.length) throw new RangeError('DER: truncated header');
  const tag = buf[offset];
  if ((tag & 0x1f) === 0x1f) throw new RangeError('DER: high tag numbers not supported');
  let len = buf[offset + 1];
  let pos = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new RangeError('DER: bad length');
    if (pos + n > buf.length) throw new RangeError('DER: truncated length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[pos + i];
    pos += n;
  }
  const end = pos + len;
  if (end > buf.length) throw new RangeError('DER: truncated content');
  return { tag, content: buf.subarray(pos, end), raw: buf.subarray(offset, end), end };
}

/** The elements inside a constructed element's content. */
export function readChildren(content: Buffer): DerElement[] {
  const out: DerElement[] = [];
  for (let off = 0; off < content.length; ) {
    const el = readElement(content, off);
    out.push(el);
    off = el.end;
  }
  return out;
}

/** Dotted form of an OBJECT IDENTIFIER's content octets. */
export function decodeOid(content: Buffer): string {
  const arcs: bigint[] = [];
  let v = 0n;
  for (const byte of content) {
    v = (v << 7n) | BigInt(byte & 0x7f);
    if (!(byte & 0x80)) {
      arcs.push(v);
      v = 0n;
    }
  }
  if (arcs.length === 0) throw new RangeError('DER: empty OID');
  const first = arcs[0] < 80n ? arcs[0] / 40n : 2n;
  return [first, arcs[0] - first * 40n, ...arcs.slice(1)].join('.');
}
