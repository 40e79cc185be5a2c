// xtext, RFC 3461 4: the encoding of ENVID, ORCPT and AUTH= parameter values.
//   xtext = *( xchar / hexchar ); xchar = "!" .. "~" except "+" and "=";
//   hexchar = "+" 2(%x30-39 / %x41-46)

/** Decodes xtext; undefined when malformed. Lower-case hex digits are accepted (Postfix does
 * too) although the grammar says upper case. With `utf8`, non-ASCII characters pass through
 * (RFC 6531 3.3 lets esmtp-value carry UTF-8). */
export function decodeXtext(s: string, utf8 = false): string | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2b) {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (c >= 0x21 && c <= 0x7e && c !== 0x3d) {
      bytes.push(c);
    } else if (utf8 && c >= 0x80) {
      const cp = s.codePointAt(i)!;
      for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) bytes.push(b);
      if (cp > 0xffff) i++;
    } else {
      return undefined;
    }
  }
  const buf = Buffer.from(bytes);
  // Decoded values are mail addresses and IDs: refuse bytes that are not UTF-8 rather than
  // passing replacement characters on.
  const text = buf.toString('utf8');
  return Buffer.from(text, 'utf8').equals(buf) ? text : undefined;
}

/** Encodes text as xtext (UTF-8 bytes outside xchar become +HH). */
export function encodeXtext(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    out += b >= 0x21 && b <= 0x7e && b !== 0x2b && b !== 0x3d ? String.fromCharCode(b) : '+' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}
