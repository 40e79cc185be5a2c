// Login, logout and the current session (spec 9). Login goes through the shared authenticator, so
// the failed-auth limiter of IMAP and SMTP applies (spec 3.4) and the attempt is recorded, refused
// ones too; a refusal is a 429 that says how long to wait (Retry-After and the message).

import { newConnectionId } from '../log/logger.js';
import { serializeCookie } from './cookies.js';
import { checkSameOrigin } from './csrf.js';
import { hashingBusy, HttpError, tooManyFailures } from './http-error.js';
import type { Router } from './router.js';
import { requireSession, sessionCookieName, sessionToken } from './session-guard.js';
import type { WebApp } from './web-app.js';
import { readJsonObject, stringField, type WebRequest } from './web-request.js';
import { json, noContent } from './web-response.js';
import { SESSION_MAX_AGE_MS } from './limits.js';

export function sessionRoutes(router: Router, app: WebApp): void {
  router.add('POST', '/account/api/login', (r) => login(app, r));
  router.add('POST', '/account/api/logout', async (r) => {
    await requireSession(app, r, { stateChange: true });
    await app.sessions.destroy(sessionToken(r));
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
  const body = await readJsonObject(r.req);
  const address = stringField(body, 'address', true).trim();
  const password = stringField(body, 'password', true);
  if (address === '') throw new HttpError(400, 'missing', 'enter your email address', 'address');
  if (password === '') throw new HttpError(400, 'missing', 'enter your password', 'password');
  if (address.length > 254 || password.length > 1024) throw new HttpError(401, 'badcredentials', 'wrong email address or password', 'password');
  // Over the budget, passwordLogin refuses (and records) before spending hashing time.
  const result = await app.ctx.auth.passwordLogin(address, password, { protocol: 'web', ip: r.ip, tls: null, cid: newConnectionId() }, { mechanism: 'web password' });
  if (!result.ok) {
    if (result.code === 'LIMIT') throw tooManyFailures(result);
    if (result.code === 'UNAVAILABLE') throw hashingBusy();
    if (result.reason === 'disabled') throw new HttpError(403, 'disabled', 'logins are disabled for this account');
    throw new HttpError(401, 'badcredentials', 'wrong email address or password', 'password');
  }
  const id = result.identity;
  const { token, session } = await app.sessions.create({ accountId: id.accountId, accountName: id.accountName, address: id.username, generation: id.generation });
  const cookie = serializeCookie(sessionCookieName(r.secure), token, { secure: r.secure, path: '/', maxAge: Math.floor(SESSION_MAX_AGE_MS / 1000) });
  return json(200, { account: session.accountName, address: session.address, csrfToken: session.csrfToken }, { 'Set-Cookie': cookie });
}
