// Encoding command arguments (RFC 9051 4.1-4.3, 9). A command is a list of parts: text that
// is already encoded, and literals, which the connection sends synchronising or not.

import { encodeMutf7 } from '../proto/mutf7.js';

export interface Literal {
  literal: Buffer;
  /** RFC 3516 literal8 `~{n}`: may hold NUL bytes (APPEND of binary content). */
  binary?: boolean;
}

export type CommandPart = string | Literal;

// RFC 9051 9: ATOM-CHAR excludes atom-specials: ( ) { SP CTL % * " \ ]
const ATOM = /^[^(){ \x00-\x1f\x7f%*"\\\]]+$/;

/**
 * An astring (RFC 9051 9): an atom when possible, else a quoted string, else a literal (line
 * breaks, NUL, or 8-bit text when the server does not accept UTF-8 in quoted strings).
 */
export function astring(s: string, utf8: boolean): CommandPart {
  if (ATOM.test(s) && !/[^\x21-\x7e]/.test(s) && s.toUpperCase() !== 'NIL') return s;
  return stringArg(s, utf8);
}

/** A string argument: quoted when it can be, else a literal. */
export function stringArg(s: string, utf8: boolean): CommandPart {
  if (/[\r\n\0]/.test(s) || (!utf8 && /[^\x00-\x7f]/.test(s)) || Buffer.byteLength(s) > 1000) {
    return { literal: Buffer.from(s, 'utf8') };
  }
  return '"' + s.replace(/[\\"]/g, (c) => '\\' + c) + '"';
}

/** Mailbox names: UTF-8 after ENABLE UTF8=ACCEPT / IMAP4rev2, else modified UTF-7 (RFC 3501 5.1.3). */
export function mailboxArg(name: string, utf8: boolean): CommandPart {
  return astring(utf8 ? name : encodeMutf7(name), utf8);
}

/** LIST patterns may contain the wildcards `*` and `%`, which astring would quote. */
export function listPattern(pattern: string, utf8: boolean): CommandPart {
  const encoded = utf8 ? pattern : encodeMutf7(pattern);
  if (/^[^(){ \x00-\x1f\x7f"\\\]]+$/.test(encoded) && !/[^\x21-\x7e]/.test(encoded)) return encoded;
  return stringArg(encoded, utf8);
}

/** Sequence sets: `'1:*'`, a number, or numbers (compressed into ranges). */
export type SequenceSet = string | number | readonly number[];

export function sequenceSetArg(set: SequenceSet): string {
  if (typeof set === 'number') return checkNumber(set);
  if (typeof set === 'string') {
    if (!/^(\d+|\*|\$)(:(\d+|\*))?(,(\d+|\*)(:(\d+|\*))?)*$/.test(set)) throw new TypeError(`bad sequence set "${set}"`);
    return set;
  }
  if (set.length === 0) throw new TypeError('empty sequence set');
  const sorted = [...new Set(set)].sort((a, b) => a - b);
  const out: string[] = [];
  let start = sorted[0];
  let prev = start;
  for (const n of [...sorted.slice(1), NaN]) {
    if (n === prev + 1) {
      prev = n;
      continue;
    }
    out.push(start === prev ? checkNumber(start) : `${checkNumber(start)}:${checkNumber(prev)}`);
    start = prev = n;
  }
  return out.join(',');
}

function checkNumber(n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > 0xffffffff) throw new TypeError(`bad message number ${n}`);
  return String(n);
}

/** Parses a sequence set from the server (COPYUID, VANISHED, MODIFIED) into numbers. `*` is not allowed there. */
export function expandSequenceSet(s: string): number[] {
  const out: number[] = [];
  for (const range of s.split(',')) {
    const [a, b] = range.split(':');
    const lo = Number(a);
    const hi = b === undefined ? lo : Number(b);
    if (!Number.isInteger(lo) || !Number.isInteger(hi)) continue;
    const [x, y] = lo <= hi ? [lo, hi] : [hi, lo];
    if (y - x > 10_000_000) throw new RangeError(`sequence set range ${range} too large`);
    for (let i = x; i <= y; i++) out.push(i);
  }
  return out;
}
