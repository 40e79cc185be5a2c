// Preparing the message as sendmail does (spec 8): end of input per -i, LF -> CRLF, recipients
// from To/Cc/Bcc for -t with Bcc removed, and Date, Message-ID, From added when missing
// (RFC 5322 3.6: Date and From are required, Message-ID should be there).

import { randomBytes } from 'node:crypto';
import { formatAddress, isGroup, parseAddressList } from '../mime/address.js';

export interface PreparedMessage {
  data: Buffer;
  /** Recipients found in To/Cc/Bcc (with -t). */
  headerRecipients: string[];
}

/** Without -i, a line with a single "." ends the message (traditional sendmail). */
export function cutAtDot(raw: Buffer): Buffer {
  const text = raw.toString('latin1');
  const m = /(^|\n)\.\r?(\n|$)/.exec(text);
  return m ? raw.subarray(0, m.index + m[1].length) : raw;
}

/** Bare LF and bare CR become CRLF; the message ends with CRLF. */
export function toCrlf(raw: Buffer): Buffer {
  const text = raw.toString('latin1').replace(/\r\n|\r|\n/g, '\r\n');
  return Buffer.from(text.endsWith('\r\n') || text === '' ? text : text + '\r\n', 'latin1');
}

interface Field {
  name: string;
  /** The whole field including folded lines and the final CRLF. */
  raw: string;
}

function splitHeader(text: string): { fields: Field[]; body: string; hasSeparator: boolean } {
  const end = text.startsWith('\r\n') ? 0 : text.indexOf('\r\n\r\n');
  const headerText = end < 0 ? text : text.slice(0, end === 0 ? 0 : end + 2);
  const body = end < 0 ? '' : text.slice(end === 0 ? 2 : end + 4);
  const fields: Field[] = [];
  for (const line of headerText.split(/(?<=\r\n)/)) {
    if (line === '') continue;
    if (/^[ \t]/.test(line) && fields.length) fields[fields.length - 1].raw += line;
    else fields.push({ name: line.slice(0, Math.max(0, line.indexOf(':'))).trim().toLowerCase(), raw: line });
  }
  return { fields, body, hasSeparator: end >= 0 };
}

function fieldValue(f: Field): string {
  return f.raw.slice(f.raw.indexOf(':') + 1).replace(/\r\n/g, '');
}

/** RFC 5322 3.3 date-time in local time: `Tue, 2 Jan 2024 10:00:00 +0100`. */
export function rfc5322Date(d: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const zone = `${off < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(off) / 60))}${pad(Math.abs(off) % 60)}`;
  return `${days[d.getDay()]}, ${d.getDate()} ${months[d.getMonth()]} ${d.getFullYear()} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${zone}`;
}

export function prepareMessage(raw: Buffer, opts: { ignoreDots: boolean; extractRecipients: boolean; from: string; now?: Date }): PreparedMessage {
  const crlf = toCrlf(opts.ignoreDots ? raw : cutAtDot(raw));
  // latin1 keeps every byte as one char, so 8-bit content survives the round trip.
  const { fields, body, hasSeparator } = splitHeader(crlf.toString('latin1'));
  const headerRecipients: string[] = [];
  if (opts.extractRecipients) {
    for (const f of fields) {
      if (f.name !== 'to' && f.name !== 'cc' && f.name !== 'bcc') continue;
      const value = Buffer.from(fieldValue(f), 'latin1').toString('utf8');
      for (const e of parseAddressList(value)) {
        for (const m of isGroup(e) ? e.members : [e]) if (m.domain !== null) headerRecipients.push(formatAddress(m));
      }
    }
  }
  // Bcc must not reach the recipients (RFC 5322 3.6.3); the envelope carries them.
  const kept = opts.extractRecipients ? fields.filter((f) => f.name !== 'bcc') : fields;
  const has = (name: string) => kept.some((f) => f.name === name);
  const added: string[] = [];
  if (!has('from')) added.push(`From: ${opts.from}\r\n`);
  if (!has('date')) added.push(`Date: ${rfc5322Date(opts.now ?? new Date())}\r\n`);
  if (!has('message-id')) {
    const domain = opts.from.includes('@') ? opts.from.slice(opts.from.lastIndexOf('@') + 1) : 'localhost';
    added.push(`Message-ID: <${randomBytes(12).toString('base64url')}@${domain}>\r\n`);
  }
  const header = kept.map((f) => f.raw).join('') + added.join('');
  const text = header + '\r\n' + (hasSeparator ? body : '');
  return { data: Buffer.from(text, 'latin1'), headerRecipients };
}
