// What happens to an incoming message after DMARC (RFC 7489 6.6): the domain owner's policy, applied
// to the fraction `pct` of failing mail, unless the recipient listed the sender's domain as one known
// to break DMARC (mailing lists, forwarders). A message whose From claims one of our own domains and
// does not pass never reaches an Inbox, whatever our published record says: spoofing our users to
// our users is the case DMARC exists for, and our own record may still be p=none while it is rolled
// out.

export type DmarcResult = 'pass' | 'fail' | 'none' | 'temperror' | 'permerror';
export type DmarcPolicy = 'none' | 'quarantine' | 'reject';

/** The DMARC evaluation of one message, as the checker reported it. */
export interface DmarcEvaluation {
  result: DmarcResult;
  /** RFC5322.From domain (lower-case), null when the message has none usable. */
  fromDomain: string | null;
  /** The policy that applies (sp= for a subdomain), null without a record. */
  policy: DmarcPolicy | null;
  /** RFC 7489 6.3 pct: 0..100, 100 when absent. */
  pct: number;
}

export type Disposition = 'inbox' | 'junk' | 'reject';

export interface DispositionInput {
  /** The From domain is one of ours (or a subdomain of one). */
  ownDomain: boolean;
  /** The recipient (or the server's list) exempts the From domain. */
  exempt: boolean;
  /** A uniform sample in [0, 100), drawn once per message for pct. */
  sample: number;
}

export function dmarcDisposition(e: DmarcEvaluation, input: DispositionInput): Disposition {
  const enforced = enforcedPolicy(e, input.sample);
  if (input.ownDomain && e.result !== 'pass') return enforced === 'reject' ? 'reject' : 'junk';
  if (e.result !== 'fail' || input.exempt) return 'inbox';
  return enforced === 'reject' ? 'reject' : enforced === 'quarantine' ? 'junk' : 'inbox';
}

/** RFC 7489 6.6.4: a message outside the pct sample gets the next less strict policy. */
function enforcedPolicy(e: DmarcEvaluation, sample: number): DmarcPolicy {
  if (e.result !== 'fail' || e.policy === null) return 'none';
  if (sample < e.pct) return e.policy;
  return e.policy === 'reject' ? 'quarantine' : 'none';
}

/** Combines the recipients' dispositions: the message is refused (550 5.7.1) only when every
 * recipient would refuse it; otherwise those who would have refused get it in Junk. */
export function messageDisposition(perRecipient: readonly Disposition[]): 'reject' | 'deliver' {
  return perRecipient.length > 0 && perRecipient.every((d) => d === 'reject') ? 'reject' : 'deliver';
}

/** Domain matches an entry of a list, exactly or as a subdomain. Entries are lower-case. */
export function domainListed(domain: string, list: Iterable<string>): boolean {
  for (const entry of list) if (domain === entry || domain.endsWith('.' + entry)) return true;
  return false;
}
