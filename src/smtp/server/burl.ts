// BURL (RFC 4468) in submission: the content of an IMAP URL becomes the next chunk of the message.
// The IMAP server is this one, in the same process: a URLAUTH URL is checked by the code URLFETCH
// uses (imap/urlauth/), with the session's user as the requester and `submit+` access granted to
// it (we are the submission server acting for that user). A URL without URLAUTH may name the
// user's own messages only (RFC 4468 3 leaves it to the trust relationship). Which check failed
// is not told (one reply for all, as URLFETCH's NIL), and URLs are not logged (bearer tokens).

import type { AuthIdentity } from '../../auth/authenticator.js';
import { fetchAuthorized, fetchOwn, type FetchOutcome } from '../../imap/urlauth/authorize.js';
import { isImapUrlError, parseImapUrl } from '../../imap/url/imap-url.js';
import type { ResolvedUrl } from '../../imap/url/resolve-url.js';
import type { Reply } from '../proto/index.js';
import type { SessionView } from './policy.js';
import { S } from './replies.js';

/**
 * RFC 4468 3.1 and 3.3: the EHLO parameters: none before authentication (BURL needs it), then
 * `imap` (URLAUTH URLs) and `imap://HOSTNAME` (plain URLs of this server, the user's own messages).
 */
export function burlOffer(hostname: string, authenticated: boolean): string[] {
  return authenticated ? ['imap', `imap://${hostname}`] : [];
}

/** What the URL names (read by the caller, chunk by chunk), or the reply refusing it. */
export async function burlPart(s: SessionView, identity: AuthIdentity, text: string): Promise<ResolvedUrl | Reply> {
  if (!/^imap:/i.test(text)) return S.burlScheme;
  const url = parseImapUrl(text);
  let r: FetchOutcome;
  if (!isImapUrlError(url) && url.access === undefined) {
    // RFC 4468 3.3: plain URLs only of the server we advertised a trust relationship with.
    if (url.host !== s.ctx.config.hostname.toLowerCase()) return S.burlUntrusted;
    r = await fetchOwn(s.ctx.store, identity.accountId, url);
  } else r = await fetchAuthorized(s.ctx.store, { accountId: identity.accountId, submit: true }, text, new Date());
  if (r.ok) return r.part;
  s.log.info('BURL refused', { why: r.why, account: identity.accountName });
  return r.why === 'unauthorized' ? S.burlUnauthorized : S.burlUnresolved;
}
