// PREVIEW (RFC 8970): a short plain-text excerpt of the message's first text part.
import { PREVIEW_CHARS } from './limits.js';
import { isMessagePart } from './mime-tree.js';
import { partText } from './search-text.js';
import type { MimePart } from './types.js';

// A preview needs only the start of a part; this bounds work on huge parts.
const PREVIEW_SCAN_BYTES = 64 * 1024;

/** The part to preview: the first inline text/plain or text/html, text/plain preferred in an alternative. */
function pickTextPart(part: MimePart): MimePart | null {
  if (part.disposition === 'attachment') return null;
  if (part.type === 'multipart') {
    const children = part.children ?? [];
    if (part.subtype === 'alternative') {
      const plain = children.find((c) => c.type === 'text' && c.subtype === 'plain' && c.disposition !== 'attachment');
      if (plain) return plain;
    }
    for (const c of children) {
      const found = pickTextPart(c);
      if (found) return found;
    }
    return null;
  }
  if (isMessagePart(part)) return part.message ? pickTextPart(part.message) : null;
  if (part.type === 'text' && (part.subtype === 'plain' || part.subtype === 'html')) return part;
  return null;
}

/** Up to 200 characters of the first text part, quoted lines and signature dropped, white space collapsed. */
export function preview(buf: Buffer, root: MimePart): string {
  const part = pickTextPart(root);
  if (!part) return '';
  let text: string;
  try {
    text = partText(buf, part, PREVIEW_SCAN_BYTES);
  } catch {
    return '';
  }
  return previewOfText(text);
}

/** White space as `\s` in a regular expression (and as String.prototype.trim sees it). */
function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d) || (c >= 0xa0 && (c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff));
}

/**
 * The preview of a decoded text: the signature (from a "-- " line) cut off, lines quoted with ">"
 * dropped, the rest joined with white space runs (and zero-width spaces) collapsed to one space,
 * trimmed, then cut to PREVIEW_CHARS code points. Built word by word and only as far as needed:
 * the text may be 64 KiB, the preview is 200 characters.
 */
export function previewOfText(text: string): string {
  const sig = text.search(/^-- ?\r?$/m);
  const end = sig >= 0 ? sig : text.length;
  // More than the 2 * PREVIEW_CHARS code units the cut below looks at.
  const enough = PREVIEW_CHARS * 2 + 1;
  let out = '';
  for (let start = 0; start <= end && out.length < enough; ) {
    let nl = text.indexOf('\n', start);
    if (nl < 0 || nl > end) nl = end;
    let i = start;
    start = nl + 1;
    while (i < nl && isSpace(text.charCodeAt(i))) i++;
    if (text.charCodeAt(i) === 0x3e /* > */ && i < nl) continue;
    // Words of the line; a space goes before each but the first of the preview.
    while (i < nl && out.length < enough) {
      const c = text.charCodeAt(i);
      if (isSpace(c) || c === 0x200b) {
        i++;
        continue;
      }
      let j = i + 1;
      while (j < nl && !isSpace(text.charCodeAt(j)) && text.charCodeAt(j) !== 0x200b) j++;
      out += (out ? ' ' : '') + text.slice(i, j);
      i = j;
    }
  }
  return cutCodePoints(out.slice(0, PREVIEW_CHARS * 2), PREVIEW_CHARS);
}

/** `s` cut to `n` code points (a surrogate pair is one), trailing space dropped; whole if shorter. */
function cutCodePoints(s: string, n: number): string {
  let i = 0;
  for (let count = 0; count < n && i < s.length; count++) {
    const c = s.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00 ? 2 : 1;
  }
  return i < s.length ? s.slice(0, i).trimEnd() : s;
}
