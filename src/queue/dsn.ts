// Delivery status notifications: RFC 3464 message/delivery-status inside an RFC 6522
// multipart/report, with a human-readable part first and the original message's header as
// text/rfc822-headers (RFC 3464 2: returning the headers only is allowed and keeps bounces
// small). Non-ASCII addresses or headers use the RFC 6533 "global" types.

import { randomBytes } from 'node:crypto';
import { isAscii } from 'node:buffer';
import type { Reply } from '../smtp/proto/reply.js';
import { replyText } from '../smtp/client/index.js';
import { canonicalLineEnds } from '../smtp/proto/line-ends.js';

export interface DsnRecipient {
  address: string;
  /** RFC 3464 2.3.3. */
  action: 'failed' | 'delayed';
  /** RFC 3463 status, e.g. 5.1.1. */
  status: string;
  /** Why, in words (for the human part). */
  message: string;
  /** The remote SMTP reply, for Diagnostic-Code (RFC 3464 2.3.6). */
  reply?: Reply;
  /** Host name of the server that answered (RFC 3464 2.3.5). */
  remoteMta?: string;
  lastAttempt?: Date;
  /** delayed: until when we keep trying (RFC 3464 2.3.9 Will-Retry-Until). */
  willRetryUntil?: Date;
}

export interface DsnInput {
  /** Our host name: Reporting-MTA and the From domain. */
  reportingMta: string;
  /** Envelope sender of the original message: the DSN's To. */
  to: string;
  /** When the original message was queued (RFC 3464 2.2.5 Arrival-Date). */
  arrivalDate: Date;
  /** The original message (only its header section is returned). */
  original: Buffer;
  recipients: DsnRecipient[];
  now: Date;
}

/** The header section of a message, up to and including the empty line (or all of it). */
export function headerSection(msg: Buffer): Buffer {
  const crlf = msg.indexOf('\r\n\r\n');
  const lf = msg.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return msg.subarray(0, crlf + 2);
  if (lf >= 0) return msg.subarray(0, lf + 1);
  return msg;
}

/** RFC 5322 3.3 date-time. */
export function rfc5322Date(d: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]}, ${d.getUTCDate()} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** Folding is not needed for our values except diagnostic text; keep lines short and clean. */
function fieldValue(s: string): string {
  return s.replace(/[\r\n\t\x00-\x1f\x7f]+/g, ' ').trim();
}

/** Composes the DSN message (CRLF line endings). */
export function composeDsn(d: DsnInput): Buffer {
  const failed = d.recipients.filter((r) => r.action === 'failed');
  const utf8Addresses = !isAscii(Buffer.from(d.to + d.recipients.map((r) => r.address).join(''), 'utf8'));
  const headers = headerSection(d.original);
  const utf8Headers = !isAscii(headers);
  const boundary = `=_postern_${randomBytes(12).toString('hex')}`;
  const addrType = (a: string) => (isAscii(Buffer.from(a, 'utf8')) ? 'rfc822' : 'utf-8'); // RFC 6533 3

  const human: string[] = [];
  human.push(`This is the mail system at ${d.reportingMta}.`, '');
  if (failed.length) {
    human.push('Your message could not be delivered to the following recipients.', 'No further attempts will be made.', '');
    for (const r of failed) human.push(`<${r.address}>: ${r.message}`);
  }
  const delayed = d.recipients.filter((r) => r.action === 'delayed');
  if (delayed.length) {
    if (failed.length) human.push('');
    human.push('Your message has not been delivered yet to the following recipients.', 'Delivery will be tried again; you do not need to resend it.', '');
    for (const r of delayed) human.push(`<${r.address}>: ${r.message}${r.willRetryUntil ? ` (trying until ${rfc5322Date(r.willRetryUntil)})` : ''}`);
  }
  human.push('', 'The header of your message is attached.');

  // RFC 3464 2.2: per-message fields, then a blank line before each per-recipient group.
  const status: string[] = [`Reporting-MTA: dns; ${d.reportingMta}`, `Arrival-Date: ${rfc5322Date(d.arrivalDate)}`];
  for (const r of d.recipients) {
    status.push('');
    status.push(`Final-Recipient: ${addrType(r.address)}; ${r.address}`);
    status.push(`Action: ${r.action}`);
    status.push(`Status: ${r.status}`);
    if (r.remoteMta) status.push(`Remote-MTA: dns; ${fieldValue(r.remoteMta)}`);
    if (r.reply) status.push(`Diagnostic-Code: smtp; ${fieldValue(replyText(r.reply))}`);
    if (r.lastAttempt) status.push(`Last-Attempt-Date: ${rfc5322Date(r.lastAttempt)}`);
    if (r.willRetryUntil) status.push(`Will-Retry-Until: ${rfc5322Date(r.willRetryUntil)}`);
  }

  const subject = failed.length ? 'Undelivered Mail Returned to Sender' : 'Delayed Mail (still being retried)';
  const nonAsciiHuman = !isAscii(Buffer.from(human.join(''), 'utf8'));
  const lines: string[] = [
    `From: Mail Delivery System <MAILER-DAEMON@${d.reportingMta}>`,
    `To: <${d.to}>`,
    `Subject: ${subject}`,
    `Date: ${rfc5322Date(d.now)}`,
    `Message-ID: <${randomBytes(12).toString('hex')}@${d.reportingMta}>`,
    // RFC 3834 5: automatic responses say so, so that they are not answered automatically.
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=${utf8Addresses ? 'global-delivery-status' : 'delivery-status'};`,
    `\tboundary="${boundary}"`,
    '',
    'This is a MIME-encapsulated message.',
    '',
    `--${boundary}`,
    'Content-Description: Notification',
    'Content-Type: text/plain; charset=utf-8',
    `Content-Transfer-Encoding: ${nonAsciiHuman ? '8bit' : '7bit'}`,
    '',
    ...human,
    '',
    `--${boundary}`,
    'Content-Description: Delivery report',
    `Content-Type: message/${utf8Addresses ? 'global-delivery-status' : 'delivery-status'}`,
    ...(utf8Addresses ? ['Content-Transfer-Encoding: 8bit'] : []),
    '',
    ...status,
    '',
    `--${boundary}`,
    'Content-Description: Undelivered message headers',
    `Content-Type: ${utf8Headers ? 'message/global-headers' : 'text/rfc822-headers'}`,
    ...(utf8Headers ? ['Content-Transfer-Encoding: 8bit'] : []),
    '',
    '',
  ];
  const head = Buffer.from(lines.join('\r\n'), 'utf8');
  // The original header with CRLF line ends only: a bare CR or LF quoted from it must not reach
  // the next hop (SMTP smuggling; the outbound door checks again). It ends with a line break.
  const orig = canonicalLineEnds(headers).data;
  const tail = Buffer.from(`${orig.length && !orig.subarray(-2).equals(Buffer.from('\r\n')) ? '\r\n' : ''}\r\n--${boundary}--\r\n`, 'utf8');
  return Buffer.concat([head, orig, tail]);
}
