// Header fields the server adds: Received (RFC 5321 4.4), and for submission Date and Message-ID
// when the client left them out (RFC 6409 8.2, 8.3).

import { randomToken } from '../../util/random-pool.js';
import { isIPv6 } from 'node:net';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number): string => String(n).padStart(2, '0');

/** RFC 5322 3.3 date-time in UTC, e.g. "Tue, 1 Jul 2025 10:52:37 +0000". */
export function rfc5322Date(d: Date): string {
  return `${DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

/** A new msg-id (RFC 5322 3.6.4) under our host name. */
export function newMessageId(hostname: string): string {
  return `<${Date.now().toString(36)}.${randomToken(9, 'base64url')}@${hostname}>`;
}

/** A short transaction id for logs, the Received field and the 250 reply. */
export function newTransactionId(): string {
  return randomToken(6, 'base64url');
}

/** The client's IP as an RFC 5321 4.1.3 address literal; IPv4-mapped IPv6 shown as IPv4. */
export function addressLiteral(ip: string): string {
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (v4) return `[${v4[1]}]`;
  return isIPv6(ip) ? `[IPv6:${ip}]` : `[${ip}]`;
}

/** Plain IP for SPF and logs (IPv4-mapped IPv6 unwrapped). */
export function plainIp(ip: string): string {
  return /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1] ?? ip;
}

export interface ReceivedInfo {
  /** EHLO/HELO argument as given; null when none was given. */
  helo: string | null;
  ip: string;
  hostname: string;
  /** RFC 3848 / RFC 6531 4.3 "with" keyword. */
  protocol: string;
  id: string;
  tls: { version: string; cipher: string } | null;
  /** Only for a single recipient: naming several would tell each about the others (RFC 5321 7.2). */
  recipient: string | null;
  date: Date;
}

/** RFC 3848 and RFC 6531 4.3 protocol names for the Received "with" clause. */
export function withProtocol(opts: { ehlo: boolean; smtputf8: boolean; tls: boolean; auth: boolean }): string {
  if (!opts.ehlo) return 'SMTP';
  const suffix = (opts.tls ? 'S' : '') + (opts.auth ? 'A' : '');
  return (opts.smtputf8 ? 'UTF8SMTP' : 'ESMTP') + suffix;
}

// Text the client chose goes into a comment or an atom: keep it printable and unable to end the
// comment or the field.
function clean(s: string): string {
  return s.replace(/[^\x21-\x7e\u0080-\u{10ffff}]/gu, '').replace(/[()\\;]/g, '').slice(0, 255) || 'unknown';
}

/** The Received field, folded, with CRLF. RFC 5321 4.4 Stamp. */
export function receivedField(r: ReceivedInfo): string {
  const lines = [`Received: from ${r.helo === null ? 'unknown' : clean(r.helo)} (${addressLiteral(r.ip)})`];
  lines.push(`\tby ${r.hostname} (Postern) with ${r.protocol} id ${r.id}`);
  if (r.tls) lines.push(`\t(version=${clean(r.tls.version)} cipher=${clean(r.tls.cipher)})`);
  if (r.recipient !== null) lines.push(`\tfor <${r.recipient}>`);
  lines[lines.length - 1] += ';';
  lines.push(`\t${rfc5322Date(r.date)}`);
  return lines.join('\r\n') + '\r\n';
}
