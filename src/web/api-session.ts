// Login, logout and the current session (spec 9). Login goes through the shared authenticator, so
// the failed-auth limiter of IMAP and SMTP applies (spec 3.4) and the attempt is recorded.

import { newConnectionId } from '../log/logger.js';
import { serializeCookie } from './cookies.js';
import { checkSameOrigin } from './csrf.js';
import { HttpError } from './http-error.js';
import type { Router } from './router.js';
import { requireSession, sessionCookieName, sessionToken } from './session-guard.js';
import type { WebApp } from './web-app.js';
import { readJsonObject, stringField, type WebRequest } from './web-request.js';
import { json, noContent } from './web-response.js';
import { SESSION_MAX_AGE_MS } from './limits.js';

export const BLOCKED_MESSAGE = 'too many failed logins from your network; try again later';
/** Password hashing is at its queue limit (auth/hash-pool.ts): a 503, not a wrong password. */
export const BUSY_MESSAGE = 'the server is busy checking passwords; try again in a moment';

export function sessionRoutes(router: Router, app: WebApp): void {
  router.add('POST', '/account/api/login', (r) => login(app, r));
  router.add('POST', '/account/api/logout', async (r) => {
    await requireSession(app, r, { stateChange: true });
    app.sessions.destroy(sessionToken(r));
    return noContent({ 'Set-Cookie': serializeCookie(sessionCookieName(r.secure), '', { secure: r.secure, path: '/', maxAge: 0 }) });
  });
  router.add('GET', '/account/api/session', async (r) => {
    const s = await requireSession(app, r, { stateChange: false });
    const addresses = await app.ctx.store.listAddresses(s.accountId);
    return json(200, {
      account: s.accountName,
      address: s.address,
      addresses: addresses.map((a) => a.address),
      csrfToken: s.csrfToken,
      hostname: app.ctx.config.hostname,
    });
  });
}

async function login(app: WebApp, r: WebRequest) {
  checkSameOrigin(r);
  // Refuse before spending scrypt time on a blocked address.
  if (app.ctx.auth.isBlocked(r.ip)) throw new HttpError(429, 'blocked', BLOCKED_MESSAGE);
  const body = await readJsonObject(r.req);
  const address = stringField(body, 'address', true).trim();
  const password = stringField(body, 'password', true);
  if (address === '') throw new HttpError(400, 'missing', 'enter your email address', 'address');
  if (password === '') throw new HttpError(400, 'missing', 'enter your password', 'password');
  if (address.length > 254 || password.length > 1024) throw new HttpError(401, 'badcredentials', 'wrong email address or password', 'password');
  const result = await app.ctx.auth.passwordLogin(address, password, { protocol: 'web', ip: r.ip, tls: null, cid: newConnectionId() });
  if (!result.ok) {
    if (result.code === 'LIMIT') throw new HttpError(429, 'blocked', BLOCKED_MESSAGE);
    if (result.code === 'UNAVAILABLE') throw new HttpError(503, 'unavailable', BUSY_MESSAGE);
    if (/disabled/.test(result.message)) throw new HttpError(403, 'disabled', 'logins are disabled for this account');
    throw new HttpError(401, 'badcredentials', 'wrong email address or password', 'password');
  }
  const id = result.identity;
  const { token, session } = app.sessions.create({ accountId: id.accountId, accountName: id.accountName, address: id.username, generation: id.generation });
  const cookie = serializeCookie(sessionCookieName(r.secure), token, { secure: r.secure, path: '/', maxAge: Math.floor(SESSION_MAX_AGE_MS / 1000) });
  return json(200, { account: session.accountName, address: session.address, csrfToken: session.csrfToken }, { 'Set-Cookie': cookie });
}
