// Messages holding NUL octets, and binary parts, in the two places where IMAP needs them otherwise.
// A NUL may never go out in an IMAP literal other than literal8 (RFC 9051 4.3, RFC 3516 4.3), and
// BODY[...] and RFC822* answers are plain literals. As Dovecot does:
// - a message APPENDed as literal8 (`~{n}`, RFC 3516 4.4) is stored with every leaf part whose
//   Content-Transfer-Encoding is binary re-encoded as base64 (binaryPartsAsBase64), so what the
//   store keeps, its RFC822.SIZE and its BODYSTRUCTURE all describe bytes any literal can carry, and
//   BINARY[part] still decodes to the octets the client sent;
// - any NUL left in a stored message (a plain literal or SMTP carried it, or a literal8 message too
//   big to convert while it is stored) is served by BODY[...] as 0x80 (withoutNul): one octet for
//   one octet, so RFC822.SIZE, the part sizes and line counts of BODYSTRUCTURE stay true.
// BINARY[...] serves the stored octets, as literal8 when they hold NUL.
import { headerFields } from './header-fields.js';
import { isMessagePart, parseMessage } from './mime-tree.js';
import { decodePartContent, UnknownTransferEncodingError } from './transfer-decode.js';
import type { MimePart } from './types.js';

/** RFC 2045 6.8: encoded lines of at most 76 characters. */
const BASE64_LINE = 76;

/** What a NUL becomes in a BODY[...] answer (as Dovecot's). */
const NUL_STANDIN = 0x80;

function leaves(part: MimePart, out: MimePart[]): MimePart[] {
  if (part.children) for (const c of part.children) leaves(c, out);
  else if (part.message && isMessagePart(part)) leaves(part.message, out);
  else out.push(part);
  return out;
}

function base64Lines(data: Buffer): string {
  const b64 = data.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += BASE64_LINE) lines.push(b64.slice(i, i + BASE64_LINE));
  return lines.join('\r\n');
}

/** The part's header without Content-Transfer-Encoding, then `Content-Transfer-Encoding: base64`. */
function base64Header(buf: Buffer, part: MimePart): Buffer {
  const kept: Buffer[] = [];
  let eol = '\r\n';
  for (const f of headerFields(buf, part.headerStart, part.headerEnd)) {
    if (f.name === 'content-transfer-encoding') continue;
    kept.push(buf.subarray(f.start, f.end));
    if (buf[f.end - 1] === 0x0a && buf[f.end - 2] !== 0x0d) eol = '\n';
  }
  kept.push(Buffer.from(`Content-Transfer-Encoding: base64${eol}`, 'latin1'));
  return Buffer.concat(kept);
}

/**
 * The message as stored for a literal8 APPEND: every leaf part with Content-Transfer-Encoding binary
 * re-encoded as base64, its encoding field replaced; `buf` itself when it has no such part.
 */
export function binaryPartsAsBase64(buf: Buffer, root: MimePart = parseMessage(buf)): Buffer {
  const pieces: Buffer[] = [];
  let pos = 0;
  for (const p of leaves(root, [])) {
    if (p.encoding !== 'binary') continue;
    let decoded: Buffer;
    try {
      decoded = decodePartContent(buf, p);
    } catch (err) {
      if (!(err instanceof UnknownTransferEncodingError)) throw err;
      decoded = buf.subarray(p.bodyStart, p.bodyEnd);
    }
    pieces.push(buf.subarray(pos, p.headerStart), base64Header(buf, p), buf.subarray(p.headerEnd, p.bodyStart), Buffer.from(base64Lines(decoded), 'latin1'));
    pos = p.bodyEnd;
  }
  if (!pieces.length) return buf;
  pieces.push(buf.subarray(pos));
  return Buffer.concat(pieces);
}

/** `buf` with every NUL made 0x80 (a copy); `buf` itself when it holds none. Same length, same structure. */
export function withoutNul(buf: Buffer): Buffer {
  let i = buf.indexOf(0);
  if (i < 0) return buf;
  const out = Buffer.from(buf);
  for (; i >= 0; i = out.indexOf(0, i + 1)) out[i] = NUL_STANDIN;
  return out;
}
