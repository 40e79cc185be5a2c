// Charset conversion through the WHATWG Encoding labels Node's TextDecoder knows (full ICU).
import { TextDecoder } from 'node:util';

/** What decoderFor returns: the subset of TextDecoder we use. */
export interface CharsetDecoder {
  decode(bytes: Uint8Array): string;
}

// Node 20's TextDecoder decodes windows-1252 (and its WHATWG aliases iso-8859-1 and us-ascii) as
// Latin-1, turning 0x80-0x9F into C1 controls; this table gives the Windows-1252 characters.
const CP1252_HIGH =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

const windows1252: CharsetDecoder = {
  decode(bytes: Uint8Array): string {
    const s = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
    return /[\x80-\x9f]/.test(s) ? s.replace(/[\x80-\x9f]/g, (c) => CP1252_HIGH[c.charCodeAt(0) - 0x80]!) : s;
  },
};

const decoders = new Map<string, CharsetDecoder | null>();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

// Names seen in mail that are not WHATWG labels.
const aliases: Record<string, string> = {
  'utf8': 'utf-8',
  'latin1': 'iso-8859-1',
  'cp1252': 'windows-1252',
  'x-sjis': 'shift_jis',
  'sjis': 'shift_jis',
  'cp932': 'shift_jis',
  'ms932': 'shift_jis',
  'windows-31j': 'shift_jis',
  'x-gbk': 'gbk',
  'cp936': 'gbk',
  'ks_c_5601': 'euc-kr',
  'cp949': 'euc-kr',
  'big5-hkscs': 'big5',
  'x-unknown': 'utf-8',
};

/** A decoder for a MIME charset name, or null when Node does not know it. */
export function decoderFor(charset: string): CharsetDecoder | null {
  const key = charset.trim().toLowerCase();
  let d = decoders.get(key);
  if (d !== undefined) return d;
  try {
    const td = new TextDecoder(aliases[key] ?? key);
    d = td.encoding === 'windows-1252' ? windows1252 : td;
  } catch {
    d = null;
  }
  if (decoders.size < 256) decoders.set(key, d);
  return d;
}

export function isAsciiLabel(charset: string): boolean {
  const c = charset.trim().toLowerCase();
  return c === '' || c === 'us-ascii' || c === 'ascii' || c === 'ansi_x3.4-1968' || c === 'iso646-us';
}

/**
 * Bytes to text in the declared charset. A missing, US-ASCII or unknown charset is tried as UTF-8
 * first (what mislabelled mail usually is), then Windows-1252, so no input ever fails.
 */
export function decodeCharset(bytes: Uint8Array, charset: string | null | undefined): string {
  const label = charset ?? '';
  const d = isAsciiLabel(label) ? null : decoderFor(label);
  if (d) return d.decode(bytes);
  try {
    return utf8Strict.decode(bytes);
  } catch {
    return windows1252.decode(bytes);
  }
}
