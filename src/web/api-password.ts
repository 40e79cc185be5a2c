// Changing the account password (spec 9). The current password is checked through the shared
// authenticator, so wrong guesses count against the failed-auth limiter like any login. Storing new
// credentials bumps the account's auth generation: live IMAP/SMTP sessions and every other web
// session of the account end (spec 2.5); the session that made the change carries on.

import { deriveCredentials, normalizePassword, PasswordError } from '../auth/password.js';
import { newConnectionId } from '../log/logger.js';
import { hashingBusy, HttpError, tooManyFailures } from './http-error.js';
import { MIN_PASSWORD_LENGTH } from './limits.js';
import type { Router } from './router.js';
import { requireSession } from './session-guard.js';
import type { WebApp } from './web-app.js';
import { readJsonObject, stringField } from './web-request.js';
import { noContent } from './web-response.js';

export function passwordRoutes(router: Router, app: WebApp): void {
  router.add('POST', '/account/api/password', async (r) => {
    const s = await requireSession(app, r, { stateChange: true });
    const body = await readJsonObject(r.req);
    const oldPassword = stringField(body, 'oldPassword', true);
    const newPassword = stringField(body, 'newPassword', true);
    let normalized: string;
    try {
      normalized = normalizePassword(newPassword);
    } catch (err) {
      if (err instanceof PasswordError) throw new HttpError(400, 'invalid', err.message, 'newPassword');
      throw err;
    }
    if ([...normalized].length < MIN_PASSWORD_LENGTH) {
      throw new HttpError(400, 'invalid', `the new password must have at least ${MIN_PASSWORD_LENGTH} characters`, 'newPassword');
    }
    if (newPassword.length > 1024) throw new HttpError(400, 'invalid', 'the new password is too long', 'newPassword');
    const check = await app.ctx.auth.passwordLogin(s.address, oldPassword, { protocol: 'web', ip: r.ip, tls: null, cid: newConnectionId() }, { mechanism: 'web password' });
    if (!check.ok && check.code === 'LIMIT') throw tooManyFailures(check);
    if (!check.ok && check.code === 'UNAVAILABLE') throw hashingBusy();
    if (!check.ok || check.identity.accountId !== s.accountId) throw new HttpError(400, 'badpassword', 'the current password is wrong', 'oldPassword');
    await app.ctx.store.setCredentials(s.accountId, await deriveCredentials(newPassword));
    await app.sessions.destroyAccount(s.accountId, s, await app.ctx.store.authGeneration(s.accountId));
    app.ctx.log.info('password changed via web', { account: s.accountName, ip: r.ip });
    return noContent();
  });
}
