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
  const sig = text.search(/^-- ?\r?$/m);
  if (sig >= 0) text = text.slice(0, sig);
  const kept = text
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('>'))
    .join(' ');
  const collapsed = kept.replace(/[\s\u00a0\u200b\ufeff]+/gu, ' ').trim();
  // Cut at code points so a surrogate pair is never split.
  const cps = Array.from(collapsed.slice(0, PREVIEW_CHARS * 2));
  return cps.length > PREVIEW_CHARS ? cps.slice(0, PREVIEW_CHARS).join('').trimEnd() : cps.join('');
}
