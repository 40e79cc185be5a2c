// Message to tokens for the Bayesian filter: words of the decoded text and HTML parts (HTML reduced
// to text, plus the host names of its links), words of the Subject, and a few header tokens (From
// domain, our own SPF/DKIM/DMARC verdicts, the top-level content type, the mailer). Scripts written
// without spaces (Chinese, Japanese, Thai) give character bigrams. Tokens are hashed to 32 bits,
// which keeps the per-account tables small; a collision only merges two rare tokens' counts.

import { decodeCharset, decodeEncodedWords, getHeaderValue, parseMessage, searchableText, type MimePart } from '../mime/index.js';
import { decodeTransfer } from '../mime/transfer-decode.js';
import { MAX_TOKENIZE_BYTES, MAX_TOKENS_PER_MESSAGE } from './limits.js';

const WORD = /[\p{L}\p{N}][\p{L}\p{N}'’_-]*/gu;
const NO_SPACE_SCRIPT = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}]/u;
const URL_HOST = /\b(?:https?:\/\/|www\.)([a-z0-9.-]+\.[a-z]{2,})/gi;
const MIN_WORD = 2;
const MAX_WORD = 24;

/** FNV-1a 32-bit over UTF-16 code units: fast, and stable across runs (the hashes are stored). */
export function tokenHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Distinct token hashes of a raw message. */
export function tokenize(raw: Buffer): number[] {
  const buf = raw.length > MAX_TOKENIZE_BYTES ? raw.subarray(0, MAX_TOKENIZE_BYTES) : raw;
  const out = new Set<number>();
  const add = (t: string): void => {
    if (out.size < MAX_TOKENS_PER_MESSAGE) out.add(tokenHash(t));
  };
  let root;
  try {
    root = parseMessage(buf);
  } catch {
    add('x:unparseable');
    return [...out];
  }
  const head = (name: string): string | null => getHeaderValue(root, buf, name);

  const subject = head('subject');
  if (subject !== null) words(decodeEncodedWords(subject), (w) => add('s:' + w));
  const from = head('from');
  const fromDomain = from ? /@([^\s>;,"]+)/.exec(from)?.[1]?.toLowerCase() : undefined;
  if (fromDomain) add('fd:' + fromDomain);
  add('ct:' + `${root.type}/${root.subtype}`.toLowerCase());
  const mailer = head('x-mailer') ?? head('user-agent');
  if (mailer) add('xm:' + mailer.trim().split(/[\s/]/)[0]!.toLowerCase());
  // Our own verdicts (prepended above anything the sender wrote).
  const ar = head('authentication-results');
  if (ar) for (const m of ar.matchAll(/\b(spf|dkim|dmarc)=(\w+)/g)) add(`ar:${m[1]}=${m[2]}`);

  const text = searchableText(buf, root).body;
  // Link targets: in the text, and in the markup of HTML parts (href values are not text).
  for (const m of (text + ' ' + htmlMarkup(buf, root)).matchAll(URL_HOST)) {
    const host = m[1]!.toLowerCase();
    add('url:' + host);
    add('url:' + host.split('.').slice(-2).join('.'));
  }
  if (/<html|<body|<a\s/i.test(buf.toString('latin1', root.bodyStart, Math.min(buf.length, root.bodyStart + 4096)))) add('x:html');
  words(text, add);
  return [...out];
}

function htmlMarkup(buf: Buffer, root: MimePart): string {
  let out = '';
  const walk = (p: MimePart): void => {
    if (p.children) p.children.forEach(walk);
    else if (p.type === 'text' && p.subtype === 'html') {
      const raw = buf.subarray(p.bodyStart, p.bodyEnd);
      let bytes: Buffer;
      try {
        bytes = decodeTransfer(raw, p.encoding);
      } catch {
        bytes = raw;
      }
      out += decodeCharset(bytes, p.params.find((x) => x.name === 'charset')?.value) + ' ';
    }
  };
  walk(root);
  return out;
}

function words(text: string, emit: (w: string) => void): void {
  for (const m of text.toLowerCase().matchAll(WORD)) {
    const w = m[0];
    if (NO_SPACE_SCRIPT.test(w)) {
      const chars = [...w];
      for (let i = 0; i + 1 < chars.length; i++) emit(chars[i]! + chars[i + 1]!);
      continue;
    }
    if (w.length < MIN_WORD) continue;
    // Long strings (hashes, encoded junk) collapse by length, as in SpamBayes' "skip" tokens.
    emit(w.length > MAX_WORD ? `x:long${Math.min(w.length >> 3, 20)}` : w);
  }
}
