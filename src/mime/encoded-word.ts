// RFC 2047 encoded-word decoding for unstructured header text and phrases.
import { decoderFor } from './charset.js';

// RFC 2047 2: =?charset?encoding?encoded-text?= ; RFC 2231 5 allows charset*language.
const WORD = /=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g;

interface Decoded {
  charset: string;
  /** Decoded bytes of adjacent words, joined once at the end (joining per word would be quadratic). */
  chunks: Buffer[];
}

function decodeWordBytes(enc: string, text: string): Buffer | null {
  if (enc === 'b' || enc === 'B') {
    // RFC 2047 4.1: base64; tolerate missing padding but not foreign characters.
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null;
    if (text.replace(/=+$/, '').length % 4 === 1) return null;
    return Buffer.from(text, 'base64');
  }
  // RFC 2047 4.2: Q encoding; "_" is space, =XX a byte.
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5f) out.push(0x20);
    else if (c === 0x3d) {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return null;
      out.push(parseInt(hex, 16));
      i += 2;
    } else if (c < 0x80) out.push(c);
    else return null;
  }
  return Buffer.from(out);
}

/**
 * Decodes every encoded word in `s`. Whitespace between adjacent encoded words is dropped (RFC 2047 6.2)
 * and adjacent words in one charset are joined before charset decoding, so a multi-byte character split
 * over two words survives. Words with an unknown charset or a bad encoding are left as they are.
 */
export function decodeEncodedWords(s: string): string {
  if (!s.includes('=?')) return s;
  let out = '';
  let pending: Decoded | null = null;
  let last = 0;
  const flush = (): void => {
    if (pending) {
      out += decoderFor(pending.charset)!.decode(Buffer.concat(pending.chunks));
      pending = null;
    }
  };
  WORD.lastIndex = 0;
  for (let m = WORD.exec(s); m; m = WORD.exec(s)) {
    const between = s.slice(last, m.index);
    const charset = m[1]!.split('*')[0]!.toLowerCase();
    const bytes = decoderFor(charset) ? decodeWordBytes(m[2]!, m[3]!) : null;
    if (!bytes) {
      flush();
      out += between + m[0];
      last = m.index + m[0].length;
      continue;
    }
    const adjacent = pending !== null && /^[ \t\r\n]*$/.test(between);
    if (adjacent && pending!.charset === charset) {
      pending!.chunks.push(bytes);
    } else {
      flush();
      if (!adjacent) out += between;
      pending = { charset, chunks: [bytes] };
    }
    last = m.index + m[0].length;
  }
  flush();
  return out + s.slice(last);
}
