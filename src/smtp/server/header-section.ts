// Reads the header section of a spooled message: enough to check From, find fields to drop, and
// know where the original header starts, without reading the body.

import { findHeaderEnd, headerFields, fieldValue, type HeaderField } from '../../mime/index.js';

export interface HeaderSection {
  /** The bytes read: at least the header section. */
  buf: Buffer;
  fields: HeaderField[];
  headerEnd: number;
}

/** Null when no header end is found within `max` bytes (a header that large is refused). */
export async function readHeaderSection(spool: { size: number; read(start: number, len: number): Promise<Buffer> }, max: number): Promise<HeaderSection | null> {
  const size = spool.size;
  const buf = await spool.read(0, Math.min(size, max));
  const len = buf.length;
  const { headerEnd, bodyStart } = findHeaderEnd(buf, 0, len);
  // No blank line in what we read: fine only when that was the whole message (header only).
  if (bodyStart === len && headerEnd === len && size > len) return null;
  return { buf, fields: headerFields(buf, 0, headerEnd), headerEnd };
}

export function fieldValues(h: HeaderSection, name: string): string[] {
  const want = name.toLowerCase();
  return h.fields.filter((f) => f.name === want).map((f) => fieldValue(h.buf, f));
}

export function countFields(h: HeaderSection, name: string): number {
  const want = name.toLowerCase();
  let n = 0;
  for (const f of h.fields) if (f.name === want) n++;
  return n;
}

export function hasField(h: HeaderSection, name: string): boolean {
  const want = name.toLowerCase();
  return h.fields.some((f) => f.name === want);
}
