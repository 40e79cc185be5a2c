// Base subject extraction (RFC 5256 2.1), for SORT SUBJECT and THREAD. Pure: header value in, text out.
import { decodeEncodedWords } from './encoded-word.js';

export interface BaseSubject {
  /** The base subject, encoded words decoded, whitespace collapsed (not case-mapped). */
  base: string;
  /** RFC 5256 2.1 (and section 4, REFERENCES step 5): a Re:/Fwd: leader, a "(fwd)" trailer or a
   * [fwd: ...] wrapper was removed. */
  replyOrForward: boolean;
}

const WSP = (c: string | undefined): boolean => c === ' ' || c === '\t';

/** subj-blob = "[" *BLOBCHAR "]" *WSP at `i`: the index after it, or -1. BLOBCHAR excludes [ and ]. */
function blobEnd(s: string, i: number): number {
  if (s[i] !== '[') return -1;
  let j = i + 1;
  while (j < s.length && s[j] !== ']' && s[j] !== '[') j++;
  if (s[j] !== ']') return -1;
  j++;
  while (WSP(s[j])) j++;
  return j;
}

/** subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":" at `i`: the index after it, or -1. */
function refwdEnd(s: string, i: number): number {
  const low = s.slice(i, i + 3).toLowerCase();
  let j: number;
  if (low.startsWith('re')) j = i + 2;
  else if (low === 'fwd') j = i + 3;
  else if (low.startsWith('fw')) j = i + 2;
  else return -1;
  while (WSP(s[j])) j++;
  const b = blobEnd(s, j);
  if (b >= 0 && s[b] === ':') return b + 1;
  return s[j] === ':' ? j + 1 : -1;
}

/** subj-leader = (*subj-blob subj-refwd) / WSP at the start: the length of one leader, or 0. */
function leaderLength(s: string): number {
  if (WSP(s[0])) return 1;
  let i = 0;
  for (;;) {
    const r = refwdEnd(s, i);
    if (r >= 0) return r;
    const b = blobEnd(s, i);
    if (b < 0) return 0;
    i = b;
  }
}

/** RFC 5256 2.1. Steps refer to its numbered list. */
export function baseSubject(raw: string): BaseSubject {
  // (1) Encoded words decoded; tabs, continuations and runs of spaces become one space.
  let s = decodeEncodedWords(raw).replace(/[\t\r\n ]+/g, ' ');
  let replyOrForward = false;
  for (;;) {
    // (2) subj-trailer = "(fwd)" / WSP, removed repeatedly.
    for (;;) {
      if (s.endsWith(' ')) s = s.slice(0, -1);
      else if (s.length >= 5 && s.slice(-5).toLowerCase() === '(fwd)') {
        s = s.slice(0, -5);
        replyOrForward = true;
      } else break;
    }
    // (3)-(5): leaders, then one blob when something remains after it, until neither applies.
    for (;;) {
      let changed = false;
      for (let n = leaderLength(s); n > 0; n = leaderLength(s)) {
        if (!WSP(s[0])) replyOrForward = true;
        s = s.slice(n);
        changed = true;
      }
      const b = blobEnd(s, 0);
      if (b > 0 && b < s.length) {
        s = s.slice(b);
        changed = true;
      }
      if (!changed) break;
    }
    // (6) "[fwd:" ... "]" around the whole: unwrapped, and back to (2).
    if (s.length >= 6 && s.slice(0, 5).toLowerCase() === '[fwd:' && s.endsWith(']')) {
      s = s.slice(5, -1);
      replyOrForward = true;
      continue;
    }
    return { base: s, replyOrForward };
  }
}

/**
 * i;unicode-casemap (RFC 5051): each character title-cased, one character to one as a simple case
 * mapping does (so "ß" stays; upper case, which differs from title case only for a few digraphs
 * such as "ǆ"), then fully decomposed (NFKD); compared by code point afterwards. For
 * ASCII this is i;ascii-casemap (RFC 4790 9.2), what RFC 5256 names; beyond ASCII it puts "É" with
 * "E", as RFC 5255 asks of SORT and THREAD and as Dovecot does.
 */
export function unicodeCasemap(s: string): string {
  if (!/[^\x00-\x7f]/.test(s)) return s.replace(/[a-z]+/g, (m) => m.toUpperCase());
  let out = '';
  for (const ch of s) {
    const up = ch.toUpperCase();
    out += [...up].length === 1 ? up : ch;
  }
  return out.normalize('NFKD');
}
