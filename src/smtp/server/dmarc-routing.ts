// DMARC enforcement at the end of DATA (RFC 7489 6.6): each local recipient's disposition from the
// evaluation, the server's and the account's exception lists and the own-domain rule; the message
// is refused only when every recipient refuses it, else refusing recipients get it in Junk.

import { randomInt } from 'node:crypto';
import { dmarcDisposition, domainListed, messageDisposition, type Disposition } from '../../dmarc/disposition.js';
import type { AuthCheckResult } from './auth-results.js';
import type { SessionView } from './policy.js';
import { asciiDomain } from './recipient-lookup.js';
import type { Transaction } from './transaction.js';

export interface DmarcRouting {
  verdict: 'reject' | 'deliver';
  /** Accounts whose copy goes to Junk. */
  junk: Set<number>;
  /** Dispositions per account, for the log and the aggregate report. */
  perAccount: Map<number, Disposition>;
  ownDomain: boolean;
}

export async function dmarcRouting(s: SessionView, tx: Transaction, auth: AuthCheckResult): Promise<DmarcRouting> {
  const store = s.ctx.store;
  const ownDomain = await claimsOwnDomain(s, auth.fromDomains);
  const from = auth.dmarc.fromDomain;
  const serverExempt = from !== null && domainListed(from, s.ctx.config.dmarc?.exceptions ?? []);
  // RFC 7489 6.6.4: one draw per message, so all recipients see the same sampling.
  const sample = randomInt(0, 100);
  // dmarc.enforce false: the verdicts are only recorded.
  const enforce = s.ctx.config.dmarc?.enforce ?? true;
  const perAccount = new Map<number, Disposition>();
  for (const r of tx.recipients) {
    if (r.accountId === null || perAccount.has(r.accountId)) continue;
    const exempt = serverExempt || (from !== null && domainListed(from, await store.listDmarcExceptions(r.accountId)));
    perAccount.set(r.accountId, enforce ? dmarcDisposition(auth.dmarc, { ownDomain, exempt, sample }) : 'inbox');
  }
  const junk = new Set([...perAccount].filter(([, d]) => d !== 'inbox').map(([id]) => id));
  return { verdict: messageDisposition([...perAccount.values()]), junk, perAccount, ownDomain };
}

/** Any From domain is one of ours or a subdomain of one (the host name counts too). */
async function claimsOwnDomain(s: SessionView, fromDomains: string[]): Promise<boolean> {
  for (const raw of fromDomains) {
    const labels = asciiDomain(raw).split('.');
    for (let i = 0; i < labels.length - 1; i++) {
      const d = labels.slice(i).join('.');
      if (d === s.ctx.config.hostname || (await s.ctx.store.isLocalDomain(d))) return true;
    }
  }
  return false;
}
