// Classifies a forward-path: one of our users, an unknown user of our domains, a remote address,
// or an address literal.

import type { Store } from '../../store/types.js';
import { toAsciiDomain } from '../../util/ascii-domain.js';
import { formatMailbox, type ForwardPath } from '../proto/index.js';

export type RecipientClass =
  | { kind: 'local'; accountId: number; address: string }
  | { kind: 'unknown' }
  | { kind: 'remote'; address: string }
  | { kind: 'literal' };

/** Lower-case A-label form of a domain, as the store keeps them. */
export function asciiDomain(domain: string): string {
  const d = domain.toLowerCase().replace(/\.$/, '');
  return toAsciiDomain(d) || d;
}

/** RFC 5321 4.5.1: `<postmaster>` must be accepted: the postmaster address of our host name, or
 * of any of our domains. */
async function postmaster(store: Store, hostname: string): Promise<RecipientClass> {
  const candidates = [hostname, ...(await store.listDomains()).map((d) => d.name)];
  for (const d of candidates) {
    const a = await store.lookupAddress(`postmaster@${d}`);
    if (a) return { kind: 'local', accountId: a.accountId, address: a.address };
  }
  return { kind: 'unknown' };
}

/** The account is at or over its storage quota, or the size the client declared (RFC 1870 SIZE)
 * does not fit: RCPT is refused at once (552 5.2.2, RFC 3463 X.2.2). A message that turns out
 * too big for it is refused after DATA, when the commit checks again. */
export async function mailboxFull(store: Store, accountId: number, declaredSize = 0): Promise<boolean> {
  const q = await store.getQuota(accountId);
  return q.limit !== null && (q.used >= q.limit || q.used + declaredSize > q.limit);
}

export async function classifyRecipient(store: Store, hostname: string, to: ForwardPath): Promise<RecipientClass> {
  if (to.kind === 'postmaster') return postmaster(store, hostname);
  const m = to.mailbox;
  if (m.literal) return { kind: 'literal' };
  const domain = asciiDomain(m.domain);
  // RFC 5321 4.5.1: postmaster@ our domains, case-insensitively, even if not configured.
  const isPostmaster = m.localPart.toLowerCase() === 'postmaster';
  const r = await store.lookupRecipient(`${isPostmaster ? 'postmaster' : m.localPart}@${domain}`, domain);
  if (!r.localDomain) return { kind: 'remote', address: formatMailbox(m) };
  const a = r.address;
  if (a) return { kind: 'local', accountId: a.accountId, address: a.address };
  return isPostmaster ? postmaster(store, hostname) : { kind: 'unknown' };
}
