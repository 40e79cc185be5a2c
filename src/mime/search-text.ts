// Text for SEARCH (RFC 9051 6.4.4): decoded header fields and the decoded text of text/* parts.
import { decodeCharset } from './charset.js';
import { decodeEncodedWords } from './encoded-word.js';
import { fieldValue, headerFields } from './header-fields.js';
import { htmlToText } from './html-text.js';
import { MAX_SEARCH_PART_BYTES, MAX_SEARCH_TEXT_CHARS } from './limits.js';
import { isMessagePart } from './mime-tree.js';
import { decodeTransfer, UnknownTransferEncodingError } from './transfer-decode.js';
import type { MimePart } from './types.js';

export interface SearchableText {
  /** Top-level header fields as "name: value" lines, encoded words decoded. */
  header: string;
  /** Text of the text/* parts (HTML reduced to text), including encapsulated messages and their headers. */
  body: string;
}

/** Header fields of a message as decoded "name: value" lines. */
export function decodedHeaderText(buf: Buffer, msg: MimePart): string {
  let s = '';
  for (const f of headerFields(buf, msg.headerStart, msg.headerEnd)) {
    if (f.name) s += `${f.name}: ${decodeEncodedWords(fieldValue(buf, f))}\n`;
  }
  return s;
}

/**
 * The decoded text of one text/* part: transfer decoding, then the declared charset, then HTML tags
 * stripped. Only the first `maxBytes` raw bytes are looked at, so huge parts stay cheap.
 */
export function partText(buf: Buffer, part: MimePart, maxBytes = MAX_SEARCH_PART_BYTES): string {
  const raw = buf.subarray(part.bodyStart, Math.min(part.bodyEnd, part.bodyStart + maxBytes));
  let bytes: Buffer;
  try {
    bytes = decodeTransfer(raw, part.encoding);
  } catch (e) {
    if (!(e instanceof UnknownTransferEncodingError)) throw e;
    bytes = raw;
  }
  const charset = part.params.find((p) => p.name === 'charset')?.value;
  const text = decodeCharset(bytes, charset);
  return part.subtype === 'html' ? htmlToText(text) : text;
}

export function searchableText(buf: Buffer, root: MimePart): SearchableText {
  const body: string[] = [];
  let total = 0;
  const add = (s: string): void => {
    if (total >= MAX_SEARCH_TEXT_CHARS) return;
    const piece = s.slice(0, MAX_SEARCH_TEXT_CHARS - total);
    body.push(piece);
    total += piece.length;
  };
  const walk = (part: MimePart): void => {
    if (total >= MAX_SEARCH_TEXT_CHARS) return;
    if (part.children) part.children.forEach(walk);
    else if (isMessagePart(part) && part.message) {
      add(decodedHeaderText(buf, part.message));
      walk(part.message);
    } else if (part.type === 'text') add(partText(buf, part));
  };
  walk(root);
  return { header: decodedHeaderText(buf, root), body: body.join('\n') };
}
