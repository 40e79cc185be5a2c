// Mail client settings for the logged-in user, and the Thunderbird autoconfig and Apple profile
// downloads. Thunderbird's own lookup (/.well-known/autoconfig/...) is answered without login:
// it only says which host and ports to use.

import { AUTOCONFIG_PATH, WELL_KNOWN_AUTOCONFIG_PATH } from './host-check.js';
import { HttpError } from './http-error.js';
import { thunderbirdAutoconfig } from './autoconfig-xml.js';
import { clientSettings } from './client-settings.js';
import { appleMobileconfig } from './mobileconfig.js';
import type { Router } from './router.js';
import { requireSession } from './session-guard.js';
import type { WebApp } from './web-app.js';
import { requestHost, type WebRequest } from './web-request.js';
import { json, type WebResponse } from './web-response.js';

function download(body: string, type: string, filename: string): WebResponse {
  return { status: 200, body, headers: { 'Content-Type': type, 'Content-Disposition': `attachment; filename="${filename}"` } };
}

export function settingsRoutes(router: Router, app: WebApp): void {
  router.add('GET', '/account/api/clientsettings', async (r) => {
    const s = await requireSession(app, r, { stateChange: false });
    return json(200, { address: s.address, ...clientSettings(app.ctx.config) });
  });
  router.add('GET', '/account/api/clientsettings/autoconfig.xml', async (r) => {
    const s = await requireSession(app, r, { stateChange: false });
    const domain = s.address.slice(s.address.lastIndexOf('@') + 1);
    return download(thunderbirdAutoconfig(clientSettings(app.ctx.config), domain, s.address), 'application/xml; charset=utf-8', 'config-v1.1.xml');
  });
  router.add('GET', '/account/api/clientsettings/apple.mobileconfig', async (r) => {
    const s = await requireSession(app, r, { stateChange: false });
    const settings = clientSettings(app.ctx.config);
    const domain = s.address.slice(s.address.lastIndexOf('@') + 1);
    if (!(await app.ctx.store.isLocalDomain(domain))) throw new HttpError(404, 'notfound', 'not a domain of this server');
    if (!settings.imap.length || !settings.submission.length) throw new HttpError(404, 'notfound', 'no IMAP or submission service with TLS is configured');
    const file = s.address.replace(/[^A-Za-z0-9@._-]/g, '_');
    return download(appleMobileconfig(settings, s.address), 'application/x-apple-aspen-config', `${file}.mobileconfig`);
  });
  // Thunderbird asks https://autoconfig.DOMAIN/mail/config-v1.1.xml?emailaddress=... and
  // https://DOMAIN/.well-known/autoconfig/...; only our domains get an answer.
  const wellKnown = async (r: WebRequest): Promise<WebResponse> => {
    const email = r.url.searchParams.get('emailaddress') ?? '';
    const at = email.lastIndexOf('@');
    const host = requestHost(r);
    // The domain: of the address asked about, else of the name asked (autoconfig.DOMAIN, or DOMAIN
    // itself on the well-known path).
    const domain =
      at > 0 ? email.slice(at + 1).toLowerCase()
      : host.startsWith('autoconfig.') ? host.slice('autoconfig.'.length)
      : r.url.pathname === WELL_KNOWN_AUTOCONFIG_PATH ? host
      : '';
    const known = domain !== '' && (await app.ctx.store.isLocalDomain(domain).catch(() => false));
    if (!known) throw new HttpError(404, 'notfound', 'not a domain of this server');
    const xml = thunderbirdAutoconfig(clientSettings(app.ctx.config), domain, '%EMAILADDRESS%');
    return { status: 200, body: xml, headers: { 'Content-Type': 'application/xml; charset=utf-8' } };
  };
  router.add('GET', WELL_KNOWN_AUTOCONFIG_PATH, wellKnown);
  router.add('GET', AUTOCONFIG_PATH, wellKnown);
}
