// Spec 2.4: a submitted message's From addresses must all belong to the authenticated account.

import { isGroup, parseAddressList } from '../../mime/index.js';
import type { Store } from '../../store/types.js';
import { asciiDomain } from './recipient-lookup.js';

export type FromCheck =
  | { ok: true; /** Domain of the first From address (lower-case A-labels), for DKIM. */ domain: string }
  | { ok: false; reason: 'missing' | 'foreign' };

/** Local part as an address: quotes and quoted-pairs removed (RFC 5322 3.2.4). */
function unquote(local: string): string {
  const m = /^"(.*)"$/s.exec(local);
  return m ? m[1]!.replace(/\\(.)/gs, '$1') : local;
}

/** `owned`: an address already known to be the account's (the MAIL FROM address, checked at
 * MAIL), which then needs no lookup; the usual From is that same address. */
export async function checkFrom(store: Store, accountId: number, fromValues: readonly string[], owned?: string): Promise<FromCheck> {
  const addrs: { local: string; domain: string }[] = [];
  for (const v of fromValues) {
    for (const e of parseAddressList(v)) {
      for (const m of isGroup(e) ? e.members : [e]) {
        if (m.domain === null || m.local === '') return { ok: false, reason: 'foreign' };
        addrs.push({ local: unquote(m.local), domain: m.domain });
      }
    }
  }
  if (addrs.length === 0) return { ok: false, reason: 'missing' };
  const known = owned?.toLowerCase();
  for (const a of addrs) {
    const address = `${a.local}@${a.domain}`;
    if (known !== undefined && address.toLowerCase() === known) continue;
    const found = await store.lookupAddress(address);
    if (!found || found.accountId !== accountId) return { ok: false, reason: 'foreign' };
  }
  return { ok: true, domain: asciiDomain(addrs[0]!.domain) };
}
