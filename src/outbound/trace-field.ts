// The trace field the door puts on top of each message it hands to another server, one per
// transaction: which TLS policy applied to the hop and how TLS went, for the receiving side and
// anyone who reads the header later (the log line of the delivery says the same words). The
// RFC 5322 3.6.7 Received syntax with a "by" clause only, as locally made fields have it (the
// "from" clause of this hop is the receiving server's to write); the TLS details go in a comment,
// as other MTAs put them. Received is never among the DKIM-signed fields, so signatures made at
// submission still verify.

import { rfc5322Date } from '../smtp/server/trace-headers.js';
import type { TlsResultType } from './tls-check.js';

/** How TLS went on the connection a message was sent over. */
export interface HopTls {
  /** Protocol and cipher (e.g. TLSv1.3, TLS_AES_256_GCM_SHA384); null for plain text. */
  version: string | null;
  cipher: string | null;
  /** 'none', 'dane', 'mta-sts-enforce', 'mta-sts-testing'. */
  policy: string;
  /** The sender's TLS-Required: No made the policy advisory (RFC 8689 4.2.2). */
  relaxed: boolean;
  /** The certificate was checked and passed ('verified'), nothing asked for a check
   * ('unverified'), or the policy's check failed with this result and the message went anyway. */
  check: 'verified' | 'unverified' | TlsResultType;
}

/** "version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 policy=dane verified", "plaintext policy=none". */
export function hopTlsText(t: HopTls): string {
  const parts = t.version !== null ? [`version=${t.version}`, `cipher=${t.cipher ?? 'unknown'}`] : ['plaintext'];
  parts.push(`policy=${t.policy}`);
  if (t.relaxed) parts.push('tls-required=no');
  if (t.check !== 'verified' && t.check !== 'unverified') parts.push(`failed=${t.check}`);
  else if (t.version !== null) parts.push(t.check);
  return parts.join(' ');
}

export interface SentFieldInfo {
  /** Our host name (the EHLO name). */
  hostname: string;
  /** RFC 3848 / RFC 6531 "with" keyword of the transaction (ESMTPS, UTF8SMTPSA, ...). */
  protocol: string;
  /** The queue id, as logs name the message. */
  id?: string;
  tls: HopTls;
  /** Only for a single recipient: naming several would tell each about the others (RFC 5321 7.2). */
  recipient: string | null;
  date: Date;
}

/** The Received field for one transaction, folded, with CRLF. */
export function sentField(r: SentFieldInfo): Buffer {
  const lines = [`Received: by ${r.hostname} (Postern) with ${r.protocol}${r.id !== undefined ? ` id ${r.id}` : ''}`, `\t(${hopTlsText(r.tls)})`];
  if (r.recipient !== null) lines.push(`\tfor <${r.recipient}>`);
  lines[lines.length - 1] += ';';
  lines.push(`\t${rfc5322Date(r.date)}`);
  return Buffer.from(lines.join('\r\n') + '\r\n', 'utf8');
}
