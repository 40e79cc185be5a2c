// BODY[section] access (RFC 9051 6.4.5): part numbers, HEADER, TEXT, MIME, HEADER.FIELDS[.NOT].
import { headerFields } from './header-fields.js';
import { isMessagePart } from './mime-tree.js';
import type { MimePart } from './types.js';

export type SectionText = 'HEADER' | 'TEXT' | 'MIME' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT';

export interface SectionSpec {
  /** Part numbers, 1-based; empty for the whole message. */
  part: number[];
  text?: SectionText;
  /** Field names for HEADER.FIELDS and HEADER.FIELDS.NOT. */
  fields?: string[];
}

const EMPTY = Buffer.alloc(0);
const CRLF = Buffer.from('\r\n');

/**
 * The part a part number refers to, or null. In a non-multipart message part 1 is the message body
 * itself; a number after a message/rfc822 part counts inside the encapsulated message (RFC 9051 6.4.5).
 */
export function resolvePart(root: MimePart, numbers: number[]): MimePart | null {
  let node = root;
  let atMessage = true; // node is a message (top level or encapsulated), not a body part
  for (const n of numbers) {
    if (!Number.isInteger(n) || n < 1) return null;
    if (!atMessage) {
      if (node.message) node = node.message;
      else if (!node.children) return null; // a leaf has no subparts
    }
    if (node.type === 'multipart') {
      const child = node.children?.[n - 1];
      if (!child) return null;
      node = child;
    } else if (n !== 1) {
      return null;
    }
    atMessage = false;
  }
  return node;
}

/** The exact bytes of a section; an empty Buffer for parts or sections that do not exist. */
export function getSection(buf: Buffer, root: MimePart, spec: SectionSpec): Buffer {
  const node = resolvePart(root, spec.part);
  if (!node) return EMPTY;
  if (!spec.text) return spec.part.length ? buf.subarray(node.bodyStart, node.bodyEnd) : buf;
  if (spec.text === 'MIME') {
    // RFC 9051 6.4.5: MIME is only valid after a part number.
    return spec.part.length ? buf.subarray(node.headerStart, node.bodyStart) : EMPTY;
  }
  // HEADER, TEXT and HEADER.FIELDS refer to a message: the top level, or a message/rfc822 part.
  let msg: MimePart | undefined = node;
  if (spec.part.length) msg = isMessagePart(node) ? node.message : undefined;
  if (!msg) return EMPTY;
  switch (spec.text) {
    case 'HEADER':
      return buf.subarray(msg.headerStart, msg.bodyStart);
    case 'TEXT':
      return buf.subarray(msg.bodyStart, msg.bodyEnd);
    case 'HEADER.FIELDS':
    case 'HEADER.FIELDS.NOT':
      return headerSubset(buf, msg, spec.fields ?? [], spec.text === 'HEADER.FIELDS.NOT');
  }
  return EMPTY;
}

/** Selected fields as they appear (folding kept), then the blank line that ends a header. */
function headerSubset(buf: Buffer, msg: MimePart, names: string[], not: boolean): Buffer {
  const want = new Set(names.map((n) => n.toLowerCase()));
  const chunks: Buffer[] = [];
  for (const f of headerFields(buf, msg.headerStart, msg.headerEnd)) {
    if (want.has(f.name) === not || f.name === '') continue;
    chunks.push(buf.subarray(f.start, f.end));
    if (buf[f.end - 1] !== 0x0a) chunks.push(CRLF); // last field of a header that hit the end
  }
  chunks.push(CRLF);
  return Buffer.concat(chunks);
}

/** BODY[...]<start.count> (RFC 9051 6.4.5): bytes from `start`, at most `count`; empty past the end. */
export function partial(data: Buffer, start: number, count?: number | null): Buffer {
  if (start >= data.length) return EMPTY;
  return data.subarray(start, count === undefined || count === null ? data.length : Math.min(data.length, start + count));
}
