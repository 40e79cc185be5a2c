// Modified UTF-7 mailbox names (RFC 3501 5.1.3), for clients that did not enable UTF8=ACCEPT or
// IMAP4rev2. "&" starts a modified-base64 run of UTF-16 (with "," for "/"), "-" ends it; "&-" is "&".

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,';

export function encodeMutf7(s: string): string {
  let out = '';
  let run: number[] = [];
  const flush = (): void => {
    if (!run.length) return;
    const bytes = Buffer.alloc(run.length * 2);
    run.forEach((u, i) => bytes.writeUInt16BE(u, i * 2));
    out += '&' + bytes.toString('base64').replace(/=+$/, '').replace(/\//g, ',') + '-';
    run = [];
  };
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e) {
      flush();
      out += c === 0x26 ? '&-' : s[i];
    } else run.push(c);
  }
  flush();
  return out;
}

export class Mutf7Error extends Error {
  override name = 'Mutf7Error';
}

/** Decodes a modified UTF-7 name; throws Mutf7Error on malformed input (RFC 3501 5.1.3 rules). */
export function decodeMutf7(s: string): string {
  let out = '';
  let i = 0;
  while (i < s.length) {
    const ch = s[i]!;
    const code = ch.charCodeAt(0);
    if (code < 0x20 || code > 0x7e) throw new Mutf7Error('non-ASCII character in modified UTF-7 name');
    if (ch !== '&') {
      out += ch;
      i++;
      continue;
    }
    const end = s.indexOf('-', i + 1);
    if (end < 0) throw new Mutf7Error('unterminated "&" in mailbox name');
    const b64 = s.slice(i + 1, end);
    i = end + 1;
    if (b64 === '') {
      out += '&';
      continue;
    }
    for (const c of b64) if (!B64.includes(c)) throw new Mutf7Error('bad character in modified base64');
    const bytes = Buffer.from(b64.replace(/,/g, '/'), 'base64');
    if (bytes.length % 2 !== 0) throw new Mutf7Error('odd number of bytes in modified base64');
    let decoded = '';
    for (let j = 0; j < bytes.length; j += 2) decoded += String.fromCharCode(bytes.readUInt16BE(j));
    // Printable ASCII must not be encoded, and the result must be valid UTF-16.
    if (/[\x20-\x7e]/.test(decoded)) throw new Mutf7Error('printable ASCII inside modified base64');
    if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(decoded)) throw new Mutf7Error('invalid UTF-16 in modified base64');
    if (encodeMutf7(decoded) !== '&' + b64 + '-') throw new Mutf7Error('non-canonical modified base64');
    out += decoded;
  }
  return out;
}
