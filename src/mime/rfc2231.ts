// RFC 2231 parameter value continuations and charset/language encoding.
import { decodeCharset } from './charset.js';
import type { MimeParam } from './types.js';

/** A parameter as written: name (lower-cased, with any `*` marks) and unquoted value. */
export interface RawParam {
  name: string;
  value: string;
}

interface Section {
  index: number;
  encoded: boolean;
  value: string;
}

// RFC 2231 3 and 4: name*N (continuation), name* / name*N* (encoded).
const SECTION = /^(.+?)\*(?:(\d{1,3})\*?|)$/;

/** Joins continuations and decodes charset'lang'%XX values; order of first appearance is kept. */
export function combineRfc2231(raw: RawParam[]): MimeParam[] {
  const order: string[] = [];
  const plain = new Map<string, string>();
  const sections = new Map<string, Map<number, Section>>();
  for (const p of raw) {
    const m = SECTION.exec(p.name);
    const base = m ? m[1]! : p.name;
    if (!plain.has(base) && !sections.has(base)) order.push(base);
    if (!m) {
      if (!plain.has(base)) plain.set(base, p.value);
      continue;
    }
    const index = m[2] === undefined ? 0 : Number(m[2]);
    const encoded = p.name.endsWith('*');
    let list = sections.get(base);
    if (!list) sections.set(base, (list = new Map()));
    if (!list.has(index)) list.set(index, { index, encoded, value: p.value }); // first one wins
  }
  return order.map((name) => {
    const list = sections.get(name);
    if (!list) return { name, value: plain.get(name)! };
    return joinSections(name, [...list.values()].sort((a, b) => a.index - b.index));
  });
}

function joinSections(name: string, list: Section[]): MimeParam {
  let charset = '';
  let value = '';
  let bytes: number[] = [];
  let extended = false;
  // The joined value still in RFC 2231 4 form, for BODYSTRUCTURE (continuations decoded only).
  let raw = list[0]?.encoded ? '' : "''";
  const flush = (): void => {
    if (bytes.length) value += decodeCharset(Uint8Array.from(bytes), charset);
    bytes = [];
  };
  list.forEach((s, i) => {
    if (!s.encoded) {
      flush();
      value += s.value;
      raw += percentEncode(s.value);
      return;
    }
    extended = true;
    raw += s.value;
    let text = s.value;
    if (i === 0) {
      // RFC 2231 4: charset'language'value, only in the first section.
      const q1 = text.indexOf("'");
      const q2 = q1 < 0 ? -1 : text.indexOf("'", q1 + 1);
      if (q2 >= 0) {
        charset = text.slice(0, q1);
        text = text.slice(q2 + 1);
      }
    }
    percentDecode(text, bytes);
  });
  flush();
  return extended ? { name, value, extended, raw } : { name, value };
}

/** RFC 2231 7: characters other than attribute-char are %XX (of their UTF-8 bytes) in an extended value. */
function percentEncode(text: string): string {
  let out = '';
  for (const b of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(b);
    out += b > 0x20 && b < 0x7f && !"*'%()<>@,;:\\\"/[]?=".includes(c) ? c : '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

function percentDecode(text: string, out: number[]): void {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x25 && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      out.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x80) {
      out.push(c);
    } else {
      for (const b of Buffer.from(text[i]!, 'utf8')) out.push(b);
    }
  }
}
