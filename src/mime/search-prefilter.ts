// A first pass of SEARCH BODY / TEXT over a message's raw bytes, before any MIME parsing or decoding.
// It answers only "this message cannot match": whenever it cannot prove that, the caller decodes the
// message (searchableText) as before. The proof rests on the message being "transparent": every
// transformation searchableText applies leaves each ASCII character of the decoded, folded text
// (NFC, then lower case) in place as the same ASCII byte, in the same order and adjacency, in the
// raw bytes. That holds when:
// - no part is base64 or quoted-printable (Content-Transfer-Encoding is absent, 7bit, 8bit, binary);
// - no part is HTML (tags are removed, entities decoded);
// - no encoded words (RFC 2047 "=?") where header text is decoded (nested messages; for TEXT the
//   top-level header too);
// - every declared charset decodes ASCII bytes to themselves and other bytes to non-ASCII
//   characters (UTF-8 and the single-byte charsets; not UTF-16 or ISO-2022-JP, whose escapes vanish);
// - the needle has no white space and no ':' (header lines are unfolded and rebuilt as "name: value",
//   parts joined with line breaks).
// A few non-ASCII characters fold to ASCII (U+0130 to "i" + U+0307, KELVIN SIGN to "k", U+037E to
// ";", U+1FEF to "`"): a needle with one of those ASCII characters is only decided when the searched
// bytes hold none of their encodings (FOLDS_TO_ASCII_*, checked by search-prefilter.test.ts).
// Then the decoded text can hold an ASCII needle only if the ASCII-lower-cased raw bytes hold it;
// and a needle with non-ASCII characters cannot be in the text of a message whose searched bytes
// are all ASCII.
import { isAscii } from 'node:buffer';
import { decoderFor, isAsciiLabel } from './charset.js';
import { findHeaderEnd } from './header-fields.js';

/** ASCII characters some non-ASCII character folds to (NFC, then toLowerCase). */
export const FOLDS_TO_ASCII_TARGETS = 'ik;`';

/** UTF-8 encodings of the characters that fold to ASCII: U+0130, U+212A, U+037E, U+1FEF. */
const FOLDS_TO_ASCII_UTF8 = [Buffer.from([0xc4, 0xb0]), Buffer.from([0xe2, 0x84, 0xaa]), Buffer.from([0xcd, 0xbe]), Buffer.from([0xe1, 0xbf, 0xaf])];

/** Bytes that are U+0130 in a single-byte charset allowed below (ISO-8859-3 0xA9, ISO-8859-9 / windows-1254 0xDD). */
export const FOLDS_TO_ASCII_BYTES = [0xa9, 0xdd];

/**
 * Encodings (TextDecoder names) that map ASCII bytes to themselves, never make ASCII of other bytes,
 * and drop nothing (not ibm866: ICU swaps 0x1A, 0x1C and 0x7F).
 */
export const TRANSPARENT_ENCODINGS = new Set([
  'utf-8', 'iso-8859-2', 'iso-8859-3', 'iso-8859-4', 'iso-8859-5', 'iso-8859-6', 'iso-8859-7', 'iso-8859-8',
  'iso-8859-8-i', 'iso-8859-10', 'iso-8859-13', 'iso-8859-14', 'iso-8859-15', 'iso-8859-16', 'koi8-r', 'koi8-u', 'macintosh',
  'windows-874', 'windows-1250', 'windows-1251', 'windows-1252', 'windows-1253', 'windows-1254', 'windows-1255',
  'windows-1256', 'windows-1257', 'windows-1258', 'x-mac-cyrillic',
]);

/** Whether decodeCharset(bytes, label) is one of the transparent decodings. */
export function transparentCharset(label: string): boolean {
  if (isAsciiLabel(label)) return true; // UTF-8, else Windows-1252
  const d = decoderFor(label);
  if (!d) return true; // unknown: UTF-8, else Windows-1252
  const enc = (d as { encoding?: string }).encoding;
  return enc === undefined ? true /* our Windows-1252 table */ : TRANSPARENT_ENCODINGS.has(enc);
}

const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);

/**
 * Values of every "name:" field in `lower` (lower-cased message text, one character per byte), found
 * anywhere (not only at line starts: a superset of what the parser sees), unfolded, with all white
 * space removed.
 */
function fieldValues(lower: string, name: string): string[] {
  const out: string[] = [];
  for (let at = lower.indexOf(name); at >= 0; at = lower.indexOf(name, at + 1)) {
    let p = at + name.length;
    while (p < lower.length && (lower.charCodeAt(p) === 0x20 || lower.charCodeAt(p) === 0x09)) p++;
    if (lower.charCodeAt(p) !== 0x3a) continue;
    p++;
    let v = '';
    while (p < lower.length) {
      const c = lower.charCodeAt(p);
      if (c === 0x0a) {
        const n = lower.charCodeAt(p + 1);
        if (n !== 0x20 && n !== 0x09) break;
      } else if (!isSpace(c)) v += lower[p];
      p++;
    }
    out.push(v);
  }
  return out;
}

/** Every charset parameter is one whose decoding is transparent; false when one cannot be read simply. */
function charsetsTransparent(lower: string): boolean {
  for (let at = lower.indexOf('charset'); at >= 0; at = lower.indexOf('charset', at + 1)) {
    let p = at + 7;
    while (p < lower.length && isSpace(lower.charCodeAt(p))) p++;
    const c = lower[p];
    if (c === '*' || c === '(') return false; // RFC 2231 parameter, or a comment
    if (c !== '=') continue; // not a parameter
    p++;
    while (p < lower.length && isSpace(lower.charCodeAt(p))) p++;
    let label: string;
    if (lower[p] === '"') {
      const close = lower.indexOf('"', p + 1);
      if (close < 0) return false;
      label = lower.slice(p + 1, close);
      if (label.includes('\\')) return false;
    } else {
      let e = p;
      while (e < lower.length && !/[\s;"()]/.test(lower[e]!)) e++;
      label = lower.slice(p, e);
    }
    if (!transparentCharset(label)) return false;
  }
  return true;
}

/** Whether searchableText of the message keeps every ASCII character where the raw bytes have it (see above). */
function transparent(lower: string, regionStart: number): boolean {
  if (lower.includes('html')) return false;
  if (lower.indexOf('=?', regionStart) >= 0) return false;
  for (const v of fieldValues(lower, 'content-transfer-encoding')) {
    if (v !== '' && v !== '7bit' && v !== '8bit' && v !== 'binary') return false;
  }
  for (const v of fieldValues(lower, 'content-type')) if (v.includes('(')) return false;
  return charsetsTransparent(lower);
}

/** Any of the words transparent() looks at (lower case): most messages have none and skip it. */
const STRUCTURE = /html|=\?|content-t(?:ransfer-encoding|ype)|charset/;

function holdsFoldToAscii(region: Buffer): boolean {
  for (const b of FOLDS_TO_ASCII_BYTES) if (region.includes(b)) return true;
  for (const s of FOLDS_TO_ASCII_UTF8) if (region.includes(s)) return true;
  return false;
}

/**
 * True when the message `buf` certainly does not contain `needle` (already folded: NFC, lower case)
 * in its searchable body text (`withHeader`: body or header text, SEARCH TEXT). False means "maybe":
 * decode and search the text.
 */
export function rawCannotContain(buf: Buffer, needle: string, withHeader: boolean): boolean {
  if (needle === '') return false;
  let asciiNeedle = true;
  for (let i = 0; i < needle.length; i++) {
    const c = needle.charCodeAt(i);
    if (c >= 0x80) asciiNeedle = false;
    else if (isSpace(c) || c === 0x3a) return false;
  }
  const start = withHeader ? 0 : findHeaderEnd(buf, 0, buf.length).bodyStart;
  const region = buf.subarray(start);
  const regionAscii = isAscii(region);
  if (!asciiNeedle && !regionAscii) return false;
  // One character per byte; lower-casing Latin-1 keeps the length and maps ASCII to ASCII only.
  const lower = buf.toString('latin1').toLowerCase();
  if (STRUCTURE.test(lower) && !transparent(lower, start)) return false;
  // All ASCII text from transparent decoding holds no non-ASCII character.
  if (!asciiNeedle) return true;
  if (!regionAscii) {
    for (let i = 0; i < FOLDS_TO_ASCII_TARGETS.length; i++) {
      if (needle.includes(FOLDS_TO_ASCII_TARGETS[i]!) && holdsFoldToAscii(region)) return false;
    }
  }
  return lower.indexOf(needle, start) < 0;
}
