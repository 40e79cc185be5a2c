// The URLs of APPEND CATENATE (RFC 4469 5): what a session may include is what it can read itself,
// messages of its own account (RFC 4469 3: the URL is resolved with the session's rights). Relative
// URLs resolve against the selected mailbox (RFC 4469 5, RFC 5092 7.1); an absolute URL must name
// this server and, when it names a user, the session's own. A URLAUTH-qualified URL grants nothing
// beyond that here: the session's own rights decide (the token matters to URLFETCH and BURL).
import type { ImapConnection } from '../server/connection.js';
import { isImapUrlError, parseImapUrl, type ImapUrlError } from './imap-url.js';
import { resolveImapUrl, type ResolvedUrl, type UrlSourceCache } from './resolve-url.js';

const badUrl = (reason: string): ImapUrlError => ({ code: 'BADURL', reason });

export async function resolveCatenateUrl(conn: ImapConnection, text: string, sources?: UrlSourceCache): Promise<ResolvedUrl | ImapUrlError> {
  const identity = conn.identity!;
  const view = conn.state === 'selected' ? conn.view : null;
  const url = parseImapUrl(text, view ? { relativeTo: { mailbox: view.mailbox.name, uidValidity: view.mailbox.uidValidity } } : {});
  if (isImapUrlError(url)) return url;
  if (url.host !== undefined && url.host !== conn.ctx.config.hostname.toLowerCase()) return badUrl('URL names another server');
  if (url.user !== undefined) {
    const user = url.user.toLowerCase();
    // Accounts are isolated: another user's mailboxes are not readable from this session.
    if (user !== identity.username.toLowerCase() && user !== identity.accountName.toLowerCase()) return badUrl('URL names another user');
  }
  if (url.expire && url.expire.getTime() <= Date.now()) return badUrl('URL has expired');
  return resolveImapUrl(conn.ctx.store, identity.accountId, url, sources);
}
