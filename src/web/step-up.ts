// Step-up for actions that create a lasting credential (adding a TLS key): a stolen session cookie
// alone must not turn into a permanent key. The session must have logged in within
// STEP_UP_WINDOW_MS, or the request carries the account's current password, checked like a login
// (the failed-auth limiter counts wrong ones and the attempt is recorded).

import { newConnectionId } from '../log/logger.js';
import { hashingBusy, HttpError, tooManyFailures } from './http-error.js';
import { STEP_UP_WINDOW_MS } from './limits.js';
import type { WebApp } from './web-app.js';
import type { WebRequest } from './web-request.js';
import type { WebSession } from './web-sessions.js';

/** The longest password looked at; longer ones are wrong without a check (as at login). */
const MAX_PASSWORD_LENGTH = 1024;

/** Returns when the session may go on; else 403 `stepup`, 400 `badpassword` or 429 `blocked`. */
export async function requireStepUp(app: WebApp, s: WebSession, r: WebRequest, password: string | undefined): Promise<void> {
  if (password === undefined || password === '') {
    if (app.sessions.sinceLogin(s) <= STEP_UP_WINDOW_MS) return;
    throw new HttpError(403, 'stepup', 'enter your current password to add a key', 'password');
  }
  const wrong = new HttpError(400, 'badpassword', 'the current password is wrong', 'password');
  if (password.length > MAX_PASSWORD_LENGTH) throw wrong;
  // Over the budget, passwordLogin refuses (and records) before spending hashing time.
  const check = await app.ctx.auth.passwordLogin(s.address, password, { protocol: 'web', ip: r.ip, tls: null, cid: newConnectionId() }, { mechanism: 'web password' });
  if (!check.ok && check.code === 'LIMIT') throw tooManyFailures(check);
  if (!check.ok && check.code === 'UNAVAILABLE') throw hashingBusy();
  if (!check.ok || check.identity.accountId !== s.accountId) throw wrong;
}
