// Field lookup on a parsed part's header section.
import { decodeEncodedWords } from './encoded-word.js';
import { fieldValue, headerFields } from './header-fields.js';
import type { MimePart } from './types.js';

/**
 * Unfolded, trimmed values of every field called `name` (case-insensitive) in the part's header, in
 * order. For a message/rfc822 part pass `part.message` to read the encapsulated message's header.
 */
export function getHeaderValues(part: MimePart, buf: Buffer, name: string): string[] {
  const want = name.toLowerCase();
  return headerFields(buf, part.headerStart, part.headerEnd)
    .filter((f) => f.name === want)
    .map((f) => fieldValue(buf, f));
}

/** The first value of a field, or null when absent. */
export function getHeaderValue(part: MimePart, buf: Buffer, name: string): string | null {
  return getHeaderValues(part, buf, name)[0] ?? null;
}

/** Like getHeaderValue, with RFC 2047 encoded words decoded (for display and search). */
export function getDecodedHeaderValue(part: MimePart, buf: Buffer, name: string): string | null {
  const v = getHeaderValue(part, buf, name);
  return v === null ? null : decodeEncodedWords(v);
}
