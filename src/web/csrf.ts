// Cross-site request forgery protection (spec 9). Three layers:
// - the session cookie is SameSite=Strict, so other sites' requests do not carry it;
// - every state change must carry the session's CSRF token in X-CSRF-Token (403 without it): the
//   token is only readable by same-origin script (GET /account/api/session);
// - a request that says it comes from another origin (Origin: scheme, host and port; Sec-Fetch-Site)
//   is refused, which also covers login, where there is no session yet.

import { timingSafeEqual } from 'node:crypto';
import { HttpError } from './http-error.js';
import type { WebRequest } from './web-request.js';
import type { WebSession } from './web-sessions.js';

export const CSRF_HEADER = 'x-csrf-token';

export function checkCsrfToken(r: WebRequest, session: WebSession): void {
  const given = r.req.headers[CSRF_HEADER];
  if (typeof given !== 'string' || given === '') {
    throw new HttpError(403, 'csrf', 'missing X-CSRF-Token header (get the token from GET /account/api/session)');
  }
  const a = Buffer.from(given);
  const b = Buffer.from(session.csrfToken);
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw new HttpError(403, 'csrf', 'wrong X-CSRF-Token for this session');
}

/** Refuses a state change that a browser marks as coming from another site. */
export function checkSameOrigin(r: WebRequest): void {
  const site = r.req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') throw new HttpError(403, 'origin', 'cross-site request refused');
  const origin = r.req.headers.origin;
  if (origin === undefined || origin === 'null') {
    if (origin === 'null') throw new HttpError(403, 'origin', 'request from an opaque origin refused');
    return; // curl and other non-browser clients
  }
  // Scheme, host and port must all match (RFC 6454 5): an http:// page on our name is another
  // origin than the HTTPS listener, and may have been injected by anyone on the path.
  let given: string;
  let expected: string;
  try {
    given = new URL(origin).origin;
  } catch {
    throw new HttpError(403, 'origin', 'bad Origin header');
  }
  try {
    expected = new URL(`${r.secure ? 'https' : 'http'}://${r.req.headers.host ?? ''}`).origin;
  } catch {
    throw new HttpError(403, 'origin', 'cross-origin request refused');
  }
  if (given !== expected) throw new HttpError(403, 'origin', 'cross-origin request refused');
}
