// The MTA-STS policy (RFC 8461 3.3) at https://mta-sts.DOMAIN/.well-known/mta-sts.txt, for each of
// our domains, chosen by the Host header. The same policy text gives the id `postern dns records`
// prints (dns/mta-sts-policy.ts).

import { mtaStsPolicy } from '../dns/mta-sts-policy.js';
import { HttpError } from './http-error.js';
import type { Router } from './router.js';
import type { WebApp } from './web-app.js';
import { requestHost } from './web-request.js';
import { MTA_STS_PATH } from './host-check.js';

const PREFIX = 'mta-sts.';

export function mtaStsRoutes(router: Router, app: WebApp): void {
  router.add('GET', MTA_STS_PATH, async (r) => {
    const host = requestHost(r);
    const domain = host.startsWith(PREFIX) ? host.slice(PREFIX.length) : '';
    if (!domain || !(await app.ctx.store.isLocalDomain(domain))) throw new HttpError(404, 'notfound', 'no MTA-STS policy for this host');
    // RFC 8461 3.3: media type text/plain; senders cache it for max_age themselves.
    return { status: 200, body: mtaStsPolicy(app.ctx.config), headers: { 'Content-Type': 'text/plain; charset=utf-8' } };
  });
}
