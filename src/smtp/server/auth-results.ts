// Incoming mail: SPF (RFC 7208), DKIM (RFC 6376), DMARC (RFC 7489) and ARC checked with mailauth,
// recorded in Authentication-Results (RFC 8601) and Received-SPF (RFC 7208 9.1) fields that are
// prepended to the message. Delivery does not depend on the outcome: users' clients and filters
// see the verdicts.

import { Readable } from 'node:stream';
import { authenticate } from 'mailauth';
import type { Logger } from '../../log/logger.js';
import type { MessageSource } from '../../delivery/message-source.js';
import type { DnsResolver } from './policy.js';

export interface AuthCheckInput {
  ip: string;
  /** EHLO/HELO argument. */
  helo: string | null;
  /** MAIL FROM address; '' for the null sender. */
  sender: string;
  /** Our host name: the authserv-id of the results. */
  hostname: string;
  resolver?: DnsResolver;
}

/** Header fields (CRLF-terminated) to prepend. Never throws: a failure is recorded as temperror. */
export async function authenticationFields(message: MessageSource, input: AuthCheckInput, log: Logger): Promise<string> {
  // RFC 7208 2.4: with a null reverse-path, SPF checks "postmaster@" the HELO identity.
  const sender = input.sender || (input.helo ? `postmaster@${input.helo}` : '');
  try {
    const res = await authenticate(Readable.from(message.chunks()), {
      ip: input.ip,
      helo: input.helo ?? undefined,
      sender: sender || undefined,
      mta: input.hostname,
      disableBimi: true,
      ...(input.resolver && { resolver: input.resolver as never }),
    });
    const headers = res.headers.replace(/\r?\n/g, '\r\n');
    return headers.endsWith('\r\n') || headers === '' ? headers : headers + '\r\n';
  } catch (err) {
    log.warn('message authentication failed', { err });
    return `Authentication-Results: ${input.hostname};\r\n\tspf=temperror; dkim=temperror; dmarc=temperror\r\n`;
  }
}

/** RFC 8601 5: Authentication-Results fields that claim our authserv-id came from outside and
 * must not reach the user looking like our own. */
export function isForgedAuthResults(value: string, hostname: string): boolean {
  const id = /^\s*([^\s;(]+)/.exec(value)?.[1];
  return id !== undefined && id.toLowerCase() === hostname.toLowerCase();
}
