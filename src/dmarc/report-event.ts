// The aggregate-report row of one incoming message (RFC 7489 7.2, appendix C <record>): the client
// address, identifiers, the disposition applied, the aligned results and the raw SPF/DKIM results.

import type { AuthCheckResult } from '../smtp/server/auth-results.js';
import type { DmarcEvent } from '../store/types.js';
import { parseRecordTags } from './record-tags.js';

export function reportEvent(auth: AuthCheckResult, input: { ip: string; sender: string; disposition: DmarcEvent['disposition']; now: Date }): Omit<DmarcEvent, 'count'> | null {
  if (!auth.record || !auth.dmarc.fromDomain) return null;
  const envelopeDomain = input.sender.includes('@') ? input.sender.slice(input.sender.lastIndexOf('@') + 1).toLowerCase() : '';
  return {
    day: input.now.toISOString().slice(0, 10),
    policyDomain: auth.record.domain,
    sourceIp: input.ip,
    headerFrom: auth.dmarc.fromDomain,
    envelopeFrom: envelopeDomain,
    disposition: input.disposition,
    dkim: auth.aligned.dkim ? 'pass' : 'fail',
    spf: auth.aligned.spf ? 'pass' : 'fail',
    auth: JSON.stringify({ dkim: auth.dkim, spf: auth.spf }),
    policy: JSON.stringify(parseRecordTags(auth.record.domain, auth.record.text)),
  };
}
