// FETCH item lists (RFC 9051 6.4.5) from a typed description.

import { sectionKey } from './fetch-result.js';

export interface BodySection {
  /** Section text: `''` whole message, `'HEADER'`, `'TEXT'`, `'1.2'`, `'HEADER.FIELDS (SUBJECT FROM)'`. */
  section: string;
  /** Partial fetch `<start.length>`. */
  start?: number;
  length?: number;
  /** Set \Seen as a side effect (BODY[] instead of BODY.PEEK[]). Default false. */
  markSeen?: boolean;
}

export interface FetchItems {
  uid?: boolean;
  flags?: boolean;
  envelope?: boolean;
  bodyStructure?: boolean;
  internalDate?: boolean;
  /** RFC822.SIZE */
  size?: boolean;
  /** RFC 7162 MODSEQ (enables CONDSTORE on the server). */
  modseq?: boolean;
  /** BODY.PEEK[section] items; strings are sections. */
  body?: (string | BodySection)[];
  /** RFC 3516 BINARY.PEEK[section] items (decoded content). */
  binary?: (string | BodySection)[];
  /** RFC 3516 BINARY.SIZE[section]. */
  binarySize?: string[];
  /** RFC 8970 PREVIEW. */
  preview?: boolean;
  /** Items to add as they are, e.g. `EMAILID`. */
  extra?: string[];
}

function partial(s: BodySection): string {
  if (s.start === undefined) return '';
  return `<${s.start}${s.length !== undefined ? `.${s.length}` : ''}>`;
}

export function fetchItemsArg(items: FetchItems | string): string {
  if (typeof items === 'string') return items;
  const out: string[] = [];
  if (items.uid) out.push('UID');
  if (items.flags) out.push('FLAGS');
  if (items.envelope) out.push('ENVELOPE');
  if (items.bodyStructure) out.push('BODYSTRUCTURE');
  if (items.internalDate) out.push('INTERNALDATE');
  if (items.size) out.push('RFC822.SIZE');
  if (items.modseq) out.push('MODSEQ');
  for (const b of items.body ?? []) {
    const s = typeof b === 'string' ? { section: b } : b;
    out.push(`${s.markSeen ? 'BODY' : 'BODY.PEEK'}[${sectionKey(s.section)}]${partial(s)}`);
  }
  for (const b of items.binary ?? []) {
    const s = typeof b === 'string' ? { section: b } : b;
    out.push(`${s.markSeen ? 'BINARY' : 'BINARY.PEEK'}[${sectionKey(s.section)}]${partial(s)}`);
  }
  for (const s of items.binarySize ?? []) out.push(`BINARY.SIZE[${sectionKey(s)}]`);
  if (items.preview) out.push('PREVIEW');
  out.push(...(items.extra ?? []));
  if (out.length === 0) out.push('UID');
  return `(${out.join(' ')})`;
}
