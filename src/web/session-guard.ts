// Resolving a request to its web session: the cookie, then the account's current state. A session
// whose account was disabled, deleted, or had its password changed elsewhere ends here.

import { checkCsrfToken, checkSameOrigin } from './csrf.js';
import { parseCookies } from './cookies.js';
import { HttpError } from './http-error.js';
import type { WebApp } from './web-app.js';
import type { WebRequest } from './web-request.js';
import type { WebSession } from './web-sessions.js';

// The __Host- prefix pins the cookie to this host, path / and Secure (RFC 6265bis 4.1.3.2); plain
// HTTP (loopback only) cannot use it.
export function sessionCookieName(secure: boolean): string {
  return secure ? '__Host-postern-session' : 'postern-session';
}

export function sessionToken(r: WebRequest): string | undefined {
  return parseCookies(r.req.headers.cookie).get(sessionCookieName(r.secure));
}

/**
 * The request's live session, or 401. With `stateChange`, also the origin check and the CSRF token
 * (403); run before the body is read.
 */
export async function requireSession(app: WebApp, r: WebRequest, opts: { stateChange: boolean }): Promise<WebSession> {
  if (opts.stateChange) checkSameOrigin(r);
  const session = await app.sessions.get(sessionToken(r));
  if (!session) throw new HttpError(401, 'notloggedin', 'not logged in (or the session expired)');
  const account = await app.ctx.store.getAccountById(session.accountId);
  const valid = account !== null && account.loginDisabled === null && (await app.ctx.store.authGeneration(account.id)) === session.generation;
  if (!valid) {
    await app.sessions.remove(session);
    throw new HttpError(401, 'notloggedin', 'session ended: the password was changed or the account disabled');
  }
  if (opts.stateChange) checkCsrfToken(r, session);
  return session;
}
