// A message holding NUL octets in the form BODY[...] serves it. A NUL may never go out in an IMAP
// literal other than literal8 (RFC 9051 4.3, RFC 3516 4.3), and BODY[...] answers are plain
// literals; so, as Dovecot does, every leaf part whose body holds a NUL (binary, or broken 7bit/8bit
// or quoted-printable) is re-encoded as base64, its Content-Transfer-Encoding field replaced. A NUL
// anywhere else (a header, a multipart preamble) has no encoding to take it: it is sent as a space.
// BINARY[...] still serves the stored bytes, as literal8.
import { headerFields } from './header-fields.js';
import { isMessagePart } from './mime-tree.js';
import { decodePartContent, UnknownTransferEncodingError } from './transfer-decode.js';
import type { MimePart } from './types.js';

/** RFC 2045 6.8: encoded lines of at most 76 characters. */
const BASE64_LINE = 76;

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
 * `buf` with every leaf part whose body holds a NUL re-encoded as base64, and any other NUL made a
 * space; `buf` itself when it holds no NUL.
 */
export function withoutNul(buf: Buffer, root: MimePart): Buffer {
  if (!buf.includes(0)) return buf;
  const pieces: Buffer[] = [];
  let pos = 0;
  for (const p of leaves(root, [])) {
    if (p.bodyStart >= p.bodyEnd || !buf.subarray(p.bodyStart, p.bodyEnd).includes(0)) continue;
    let decoded: Buffer;
    try {
      decoded = decodePartContent(buf, p);
    } catch (err) {
      // An unknown encoding cannot be undone: its bytes as they are are what base64 carries.
      if (!(err instanceof UnknownTransferEncodingError)) throw err;
      decoded = buf.subarray(p.bodyStart, p.bodyEnd);
    }
    pieces.push(buf.subarray(pos, p.headerStart), base64Header(buf, p), buf.subarray(p.headerEnd, p.bodyStart), Buffer.from(base64Lines(decoded), 'latin1'));
    pos = p.bodyEnd;
  }
  pieces.push(buf.subarray(pos));
  const out = Buffer.concat(pieces);
  for (let i = out.indexOf(0); i >= 0; i = out.indexOf(0, i + 1)) out[i] = 0x20;
  return out;
}
