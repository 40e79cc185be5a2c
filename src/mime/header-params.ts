// Parameterised header values: Content-Type (RFC 2045 5.1) and Content-Disposition (RFC 2183 2).
import { combineRfc2231, type RawParam } from './rfc2231.js';
import type { MimeParam } from './types.js';

export interface ParamValue {
  /** The part before the first `;`, comments removed, trimmed (case kept). */
  value: string;
  params: MimeParam[];
}

/** Removes RFC 5322 comments (nested, outside quoted strings). */
export function stripComments(s: string): string {
  if (!s.includes('(')) return s;
  let out = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (depth === 0 && c === '"') quoted = !quoted;
    if (c === '\\' && (quoted || depth > 0)) {
      if (depth === 0) out += c + (s[i + 1] ?? '');
      i++;
      continue;
    }
    if (!quoted && c === '(') {
      depth++;
      continue;
    }
    if (!quoted && c === ')' && depth > 0) {
      depth--;
      if (depth === 0) out += ' ';
      continue;
    }
    if (depth === 0) out += c;
  }
  return out;
}

/** Splits on `;` outside quoted strings. */
function splitParams(s: string): string[] {
  // The usual value (`text/plain; charset=utf-8`) has no quoted string to step over.
  if (!s.includes('"')) return s.split(';');
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && quoted) {
      cur += c + (s[i + 1] ?? '');
      i++;
    } else if (c === '"') {
      quoted = !quoted;
      cur += c;
    } else if (c === ';' && !quoted) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

function unquote(v: string): string {
  if (!v.startsWith('"')) return v;
  if (!v.includes('\\')) {
    const close = v.indexOf('"', 1);
    return close < 0 ? v.slice(1) : v.slice(1, close);
  }
  let out = '';
  for (let i = 1; i < v.length; i++) {
    const c = v[i]!;
    if (c === '\\') out += v[++i] ?? '';
    else if (c === '"') break; // text after the closing quote is dropped
    else out += c;
  }
  return out;
}

/** Parses `value; name=value; name*=charset''%xx ...`, tolerating stray semicolons and spaces. */
export function parseParamValue(header: string): ParamValue {
  const [head, ...rest] = splitParams(stripComments(header));
  const raw: RawParam[] = [];
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    const name = p.slice(0, eq).trim().toLowerCase();
    if (!name) continue;
    raw.push({ name, value: unquote(p.slice(eq + 1).trim()) });
  }
  return { value: (head ?? '').trim(), params: combineRfc2231(raw) };
}
