// The URLs of APPEND CATENATE (RFC 4469 5): what a session may include is what it can read itself,
// messages of its own account, or what a URLAUTH-authorized URL lets it read (RFC 4469 5, RFC 4467:
// a server with URLAUTH takes such URLs in CATENATE). Relative URLs resolve against the selected
// mailbox (RFC 4469 5, RFC 5092 7.1); an absolute URL without a verifier must name this server and,
// when it names a user, the session's own. A URL with `;URLAUTH=access:mech:token` is checked as
// URLFETCH checks it (authorize.ts: token, expiry, UIDVALIDITY, access identifier for this
// session's user; `submit+` is only for the submission server) and then read in its owner's
// account, so another user's message can be copied with a token that owner made. Every failure of
// that check is the same BADURL, whatever the reason (RFC 4467 7: nothing is told).
import type { ImapConnection } from '../server/connection.js';
import { fetchAuthorized } from '../urlauth/authorize.js';
import { isImapUrlError, parseImapUrl, type ImapUrlError } from './imap-url.js';
import { resolveImapUrl, type ResolvedUrl, type UrlSourceCache } from './resolve-url.js';

const badUrl = (reason: string): ImapUrlError => ({ code: 'BADURL', reason });

export async function resolveCatenateUrl(conn: ImapConnection, text: string, sources?: UrlSourceCache): Promise<ResolvedUrl | ImapUrlError> {
  const identity = conn.identity!;
  const view = conn.state === 'selected' ? conn.view : null;
  const url = parseImapUrl(text, view ? { relativeTo: { mailbox: view.mailbox.name, uidValidity: view.mailbox.uidValidity } } : {});
  if (isImapUrlError(url)) return url;
  if (url.urlauth) {
    // An authorized URL is absolute (RFC 4467 3); fetchAuthorized refuses any other.
    const got = await fetchAuthorized(conn.ctx.store, { accountId: identity.accountId, submit: false }, text, new Date(), sources);
    if (got.ok) return got.part;
    return badUrl(got.why === 'unresolved' ? 'no such message or section' : 'URL not authorized');
  }
  if (url.host !== undefined && url.host !== conn.ctx.config.hostname.toLowerCase()) return badUrl('URL names another server');
  if (url.user !== undefined) {
    const user = url.user.toLowerCase();
    // Accounts are isolated: without a URLAUTH verifier another user's mailboxes are not readable.
    if (user !== identity.username.toLowerCase() && user !== identity.accountName.toLowerCase()) return badUrl('URL names another user');
  }
  if (url.expire && url.expire.getTime() <= Date.now()) return badUrl('URL has expired');
  return resolveImapUrl(conn.ctx.store, identity.accountId, url, sources);
}
