// Incoming mail: SPF (RFC 7208), DKIM (RFC 6376), DMARC (RFC 7489) and ARC checked with mailauth,
// recorded in Authentication-Results (RFC 8601) and Received-SPF (RFC 7208 9.1) fields that are
// prepended to the message. The DMARC evaluation goes back to the incoming policy, which enforces
// it (dmarc/disposition.ts).

import { Readable } from 'node:stream';
import { authenticate } from 'mailauth';
import type { Logger } from '../../log/logger.js';
import type { MessageSource } from '../../delivery/message-source.js';
import type { DmarcEvaluation, DmarcPolicy, DmarcResult } from '../../dmarc/disposition.js';
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

export interface AuthCheckResult {
  /** Header fields (CRLF-terminated) to prepend. */
  fields: string;
  dmarc: DmarcEvaluation;
  /** Lower-case domains of every RFC5322.From address (the own-domain rule looks at each). */
  fromDomains: string[];
  /** For aggregate reports (RFC 7489 7.2): the SPF and DKIM results that DMARC looked at. */
  spf: { domain: string; result: string } | null;
  dkim: { domain: string; selector: string; result: string }[];
  /** RFC 7489 3.1: which identifiers passed aligned with the From domain. */
  aligned: { dkim: boolean; spf: boolean };
  /** The DMARC record as published, and the domain it was found at (organizational domain). */
  record: { domain: string; text: string } | null;
}

/** Never throws: a failure is recorded as temperror. */
export async function authenticationFields(message: MessageSource, input: AuthCheckInput, log: Logger): Promise<AuthCheckResult> {
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
    const fields = headers.endsWith('\r\n') || headers === '' ? headers : headers + '\r\n';
    const from = ([] as string[]).concat((res.dkim as { headerFrom?: string | string[] } | undefined)?.headerFrom ?? []);
    const fromDomains = from.map((a) => a.slice(a.lastIndexOf('@') + 1).toLowerCase().replace(/\.$/, '')).filter((d) => d !== '');
    const d = (res.dmarc || {}) as { domain?: string; rr?: string; alignment?: { spf?: { result?: unknown }; dkim?: { result?: unknown } } };
    return {
      fields, dmarc: evaluation(res.dmarc, fromDomains), fromDomains, spf: spfOf(res.spf), dkim: dkimOf(res.dkim),
      aligned: { dkim: !!d.alignment?.dkim?.result, spf: !!d.alignment?.spf?.result },
      record: d.domain && d.rr ? { domain: d.domain.toLowerCase(), text: d.rr } : null,
    };
  } catch (err) {
    log.warn('message authentication failed', { err });
    return {
      fields: `Authentication-Results: ${input.hostname};\r\n\tspf=temperror; dkim=temperror; dmarc=temperror\r\n`,
      dmarc: { result: 'temperror', fromDomain: null, policy: null, pct: 100 },
      fromDomains: [],
      spf: null,
      dkim: [],
      aligned: { dkim: false, spf: false },
      record: null,
    };
  }
}

const RESULTS = new Set<DmarcResult>(['pass', 'fail', 'none', 'temperror', 'permerror']);
const POLICIES = new Set<DmarcPolicy>(['none', 'quarantine', 'reject']);

function evaluation(d: unknown, fromDomains: string[]): DmarcEvaluation {
  const r = (d || {}) as { status?: { result?: string; header?: { from?: string } }; policy?: string; pct?: number };
  const result = r.status?.result as DmarcResult;
  const policy = (r.policy ?? '').toLowerCase() as DmarcPolicy;
  const pct = typeof r.pct === 'number' && r.pct >= 0 && r.pct <= 100 ? r.pct : 100;
  return {
    // No evaluation at all (no usable From): none.
    result: RESULTS.has(result) ? result : 'none',
    fromDomain: fromDomains.length === 1 ? fromDomains[0]! : null,
    policy: POLICIES.has(policy) ? policy : null,
    pct,
  };
}

function spfOf(s: unknown): AuthCheckResult['spf'] {
  const r = s as { domain?: string; status?: { result?: string } } | undefined;
  return r?.domain ? { domain: r.domain.toLowerCase(), result: r.status?.result ?? 'none' } : null;
}

function dkimOf(d: unknown): AuthCheckResult['dkim'] {
  const list = (d as { results?: { signingDomain?: string; selector?: string; status?: { result?: string } }[] } | undefined)?.results ?? [];
  return list.filter((r) => r.signingDomain).map((r) => ({ domain: r.signingDomain!.toLowerCase(), selector: r.selector ?? '', result: r.status?.result ?? 'none' }));
}

/** RFC 8601 5: Authentication-Results fields that claim our authserv-id came from outside and
 * must not reach the user looking like our own. */
export function isForgedAuthResults(value: string, hostname: string): boolean {
  const id = /^\s*([^\s;(]+)/.exec(value)?.[1];
  return id !== undefined && id.toLowerCase() === hostname.toLowerCase();
}
