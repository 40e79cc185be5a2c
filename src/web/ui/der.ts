// A small DER encoder (ITU-T X.690 10) on Uint8Array, for the certificate and PKCS#12 file made in
// the browser. The Node-side src/tls/der.ts works on Buffer, which browsers lack.

/** Backed by a plain ArrayBuffer, as WebCrypto's BufferSource wants. */
export type Der = Uint8Array<ArrayBuffer>;

export function concat(...parts: Uint8Array[]): Der {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function encodeLength(len: number): Der {
  if (len < 0x80) return Uint8Array.of(len); // X.690 8.1.3.4 short form
  const bytes: number[] = [];
  for (let n = len; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Uint8Array.from([0x80 | bytes.length, ...bytes]); // 8.1.3.5 long form, minimal
}

export function tlv(tag: number, content: Uint8Array): Der {
  return concat(Uint8Array.of(tag), encodeLength(content.length), content);
}

export function sequence(...items: Der[]): Der {
  return tlv(0x30, concat(...items));
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** SET OF: X.690 11.6 requires the encodings sorted. */
export function setOf(...items: Der[]): Der {
  return tlv(0x31, concat(...[...items].sort(compareBytes)));
}

/** INTEGER from a small non-negative number or from unsigned big-endian bytes. */
export function integer(value: number | Uint8Array): Der {
  let bytes: Der;
  if (typeof value === 'number') {
    const out: number[] = [];
    let v = value;
    do {
      out.unshift(v & 0xff);
      v = Math.floor(v / 256);
    } while (v > 0);
    bytes = Uint8Array.from(out);
  } else {
    let i = 0;
    while (i < value.length - 1 && value[i] === 0) i++;
    bytes = concat(value.subarray(i));
    if (bytes.length === 0) bytes = Uint8Array.of(0);
  }
  if (bytes[0]! & 0x80) bytes = concat(Uint8Array.of(0), bytes); // keep it positive (8.3.2)
  return tlv(0x02, bytes);
}

export function oid(dotted: string): Der {
  const arcs = dotted.split('.').map(Number);
  const out: number[] = [];
  for (const arc of [arcs[0]! * 40 + arcs[1]!, ...arcs.slice(2)]) {
    const chunk: number[] = [];
    let v = arc;
    do {
      chunk.unshift((v & 0x7f) | (chunk.length ? 0x80 : 0));
      v = Math.floor(v / 128);
    } while (v > 0);
    out.push(...chunk);
  }
  return tlv(0x06, Uint8Array.from(out));
}

export const NULL: Der = Uint8Array.of(0x05, 0x00);

export function octetString(data: Uint8Array): Der {
  return tlv(0x04, data);
}

/** BIT STRING with no unused bits. */
export function bitString(data: Uint8Array): Der {
  return tlv(0x03, concat(Uint8Array.of(0), data));
}

export function utf8String(s: string): Der {
  return tlv(0x0c, new TextEncoder().encode(s));
}

/** BMPString (UTF-16BE), for PKCS#12 friendlyName (RFC 7292 4.2) and passwords (B.1). */
export function bmpBytes(s: string): Der {
  const out = new Uint8Array(s.length * 2);
  for (let i = 0; i < s.length; i++) {
    out[2 * i] = s.charCodeAt(i) >> 8;
    out[2 * i + 1] = s.charCodeAt(i) & 0xff;
  }
  return out;
}

export function bmpString(s: string): Der {
  return tlv(0x1e, bmpBytes(s));
}

/** [n] EXPLICIT: constructed context-specific tag around a complete encoding. */
export function explicit(n: number, inner: Der): Der {
  return tlv(0xa0 | n, inner);
}

/** RFC 5280 4.1.2.5: UTCTime for 1950-2049, GeneralizedTime otherwise; UTC, seconds, no fractions. */
export function time(date: Date): Der {
  const digits = date.toISOString().slice(0, 19).replace(/[-T:]/g, '');
  const year = date.getUTCFullYear();
  const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
  if (year >= 1950 && year < 2050) return tlv(0x17, ascii(`${digits.slice(2)}Z`));
  return tlv(0x18, ascii(`${digits}Z`));
}
