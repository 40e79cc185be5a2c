// Recent login attempts of the account (spec 3.4, 9): so a user can spot a key or password used
// from where it should not be.

import { LOGIN_ATTEMPTS_SHOWN } from './limits.js';
import type { Router } from './router.js';
import { requireSession } from './session-guard.js';
import type { WebApp } from './web-app.js';
import { json } from './web-response.js';

export function loginAttemptRoutes(router: Router, app: WebApp): void {
  router.add('GET', '/account/api/loginattempts', async (r) => {
    const s = await requireSession(app, r, { stateChange: false });
    const attempts = await app.ctx.store.listLoginAttempts(s.accountId, LOGIN_ATTEMPTS_SHOWN);
    return json(200, {
      attempts: attempts.map((a) => ({
        time: a.time.toISOString(),
        address: a.address,
        protocol: a.protocol,
        mechanism: a.mechanism,
        keyFingerprint: a.keyFingerprint,
        ip: a.ip,
        result: a.result,
      })),
    });
  });
}
