// Content-Transfer-Encoding decoding (RFC 2045 6) for BINARY (RFC 3516), SEARCH and PREVIEW.
import { isMessagePart } from './mime-tree.js';
import type { MimePart } from './types.js';

/** The IMAP layer answers this with NO [UNKNOWN-CTE] (RFC 3516 4.3). */
export class UnknownTransferEncodingError extends Error {
  constructor(readonly encoding: string) {
    super(`unknown content-transfer-encoding: ${encoding}`);
    this.name = 'UnknownTransferEncodingError';
  }
}

const B64 = new Int8Array(256).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.split('').forEach((c, i) => {
  B64[c.charCodeAt(0)] = i;
});

/**
 * RFC 2045 6.8 base64. Characters outside the alphabet (line breaks, garbage, "=") are ignored as the
 * RFC asks of decoders; a trailing partial group yields the bytes it holds.
 */
export function decodeBase64(data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(Math.ceil((data.length * 3) / 4));
  let o = 0;
  let acc = 0;
  let n = 0;
  for (let i = 0; i < data.length; i++) {
    const v = B64[data[i]!]!;
    if (v < 0) continue;
    acc = (acc << 6) | v;
    if (++n === 4) {
      out[o++] = (acc >> 16) & 0xff;
      out[o++] = (acc >> 8) & 0xff;
      out[o++] = acc & 0xff;
      acc = 0;
      n = 0;
    }
  }
  if (n === 2) out[o++] = (acc >> 4) & 0xff;
  else if (n === 3) {
    out[o++] = (acc >> 10) & 0xff;
    out[o++] = (acc >> 2) & 0xff;
  }
  return out.subarray(0, o);
}

function base64Size(data: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < data.length; i++) if (B64[data[i]!]! >= 0) n++;
  const rem = n % 4;
  return Math.floor(n / 4) * 3 + (rem === 2 ? 1 : rem === 3 ? 2 : 0);
}

function hexValue(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * RFC 2045 6.7 quoted-printable: =XX bytes, "=" at the end of a line is a soft break, trailing white
 * space on a line is removed (rule 3). A malformed "=" is kept literally (the RFC's suggested recovery).
 */
export function decodeQuotedPrintable(data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(data.length);
  let o = 0;
  let pos = 0;
  while (pos < data.length) {
    let nl = data.indexOf(0x0a, pos);
    const hasNl = nl >= 0;
    if (!hasNl) nl = data.length;
    let e = nl;
    const crlf = hasNl && e > pos && data[e - 1] === 0x0d;
    if (crlf) e--;
    while (e > pos && (data[e - 1] === 0x20 || data[e - 1] === 0x09)) e--;
    let soft = false;
    for (let i = pos; i < e; i++) {
      const c = data[i]!;
      if (c !== 0x3d) {
        out[o++] = c;
        continue;
      }
      if (i === e - 1) {
        soft = true;
        break;
      }
      const hi = hexValue(data[i + 1]);
      const lo = hexValue(data[i + 2]);
      if (hi >= 0 && lo >= 0 && i + 2 < e) {
        out[o++] = (hi << 4) | lo;
        i += 2;
      } else {
        out[o++] = c;
      }
    }
    if (hasNl && !soft) {
      if (crlf) out[o++] = 0x0d;
      out[o++] = 0x0a;
    }
    pos = nl + 1;
  }
  return out.subarray(0, o);
}

function isIdentity(enc: string | null): boolean {
  return !enc || enc === '7bit' || enc === '8bit' || enc === 'binary';
}

/** Decodes `data` per a Content-Transfer-Encoding value; throws UnknownTransferEncodingError. */
export function decodeTransfer(data: Uint8Array, encoding: string | null): Buffer {
  if (isIdentity(encoding)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (encoding === 'base64') return decodeBase64(data);
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(data);
  throw new UnknownTransferEncodingError(encoding!);
}

/**
 * The decoded content of a part (RFC 3516 BINARY). Multipart and message parts cannot carry an
 * encoding (RFC 2045 6.4), so their body comes back as it is.
 */
export function decodePartContent(buf: Buffer, part: MimePart): Buffer {
  const body = buf.subarray(part.bodyStart, part.bodyEnd);
  if (part.type === 'multipart' || isMessagePart(part)) return body;
  return decodeTransfer(body, part.encoding);
}

/** BINARY.SIZE (RFC 3516 4.2): the decoded size, computed without keeping the decoded bytes for base64. */
export function binarySize(buf: Buffer, part: MimePart): number {
  const body = buf.subarray(part.bodyStart, part.bodyEnd);
  if (part.type === 'multipart' || isMessagePart(part) || isIdentity(part.encoding)) return body.length;
  if (part.encoding === 'base64') return base64Size(body);
  return decodePartContent(buf, part).length;
}
