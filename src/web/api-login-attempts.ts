// Recent login attempts of the account (spec 3.4, 9): so a user can spot a key or password used
// from where it should not be. Each row says what happened in words (`reason`), and names the key
// by its name when the key still exists.

import type { AttemptOutcome } from '../auth/authenticator.js';
import { LOGIN_ATTEMPTS_SHOWN } from './limits.js';
import type { Router } from './router.js';
import { requireSession } from './session-guard.js';
import type { WebApp } from './web-app.js';
import { json } from './web-response.js';

/** What each stored result means, for people (result codes: AttemptOutcome in auth/authenticator.ts). */
const REASONS: Record<AttemptOutcome, string> = {
  ok: 'logged in',
  badcreds: 'wrong password or unknown address',
  disabled: 'refused: logins are disabled for this account',
  refused: 'refused without checking: too many failed logins from this network',
  wrongaccount: 'refused: the password is for another account than the client certificate',
  badauthzid: 'refused: may not act as the requested address',
  channelbinding: 'refused: TLS channel binding did not match (possible interception)',
  nocertificate: 'refused: no known client certificate on the connection',
  busy: 'not checked: the server was busy checking other passwords',
};

export function reasonText(result: string): string {
  return (REASONS as Record<string, string>)[result] ?? result;
}

export function loginAttemptRoutes(router: Router, app: WebApp): void {
  router.add('GET', '/account/api/loginattempts', async (r) => {
    const s = await requireSession(app, r, { stateChange: false });
    const [attempts, keys] = await Promise.all([
      app.ctx.store.listLoginAttempts(s.accountId, LOGIN_ATTEMPTS_SHOWN),
      app.ctx.store.listTlsPubKeys(s.accountId),
    ]);
    const keyNames = new Map(keys.map((k) => [k.fingerprint, k.name]));
    return json(200, {
      attempts: attempts.map((a) => ({
        time: a.time.toISOString(),
        address: a.address,
        protocol: a.protocol,
        mechanism: a.mechanism,
        keyFingerprint: a.keyFingerprint,
        // Null when there is no key, or it has been removed since (the fingerprint stays).
        keyName: a.keyFingerprint ? (keyNames.get(a.keyFingerprint) ?? null) : null,
        ip: a.ip,
        result: a.result,
        reason: reasonText(a.result),
      })),
    });
  });
}
