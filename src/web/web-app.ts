// The account web application: routes, the request pipeline (host check, dispatch, error mapping,
// security headers), and what handlers share (the server context and the web sessions).
//
// Invariants:
// - Every response carries the security headers (web-response.ts), HTTPS ones HSTS too; everything
//   except the static bundle is no-store.
// - Every request names one of our hosts (host-check.ts), on HTTPS as on loopback HTTP.
// - Every state-changing route checks the session's CSRF token (csrf.ts) before reading its body,
//   except login, which has no session yet and checks the request's origin instead.
// - Errors reach the client as { error: { code, message, field? } }; unexpected errors are logged
//   with the request id and answered with a generic message, never a stack trace.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { newConnectionId } from '../log/logger.js';
import type { ServerContext } from '../server/context.js';
import { StoreError } from '../store/errors.js';
import { passwordRoutes } from './api-password.js';
import { sessionRoutes } from './api-session.js';
import { settingsRoutes } from './api-client-settings.js';
import { tlsKeyRoutes } from './api-tls-keys.js';
import { loginAttemptRoutes } from './api-login-attempts.js';
import { dmarcReportRoutes } from './api-dmarc-reports.js';
import { checkHost, type HostPolicy } from './host-check.js';
import { mtaStsRoutes } from './mta-sts.js';
import { HttpError } from './http-error.js';
import { Router } from './router.js';
import { uiRoutes, type UiAssets } from './ui-assets.js';
import { remoteIp, type WebRequest } from './web-request.js';
import { errorResponse, json, writeResponse, type WebResponse } from './web-response.js';
import { WebSessions } from './web-sessions.js';

export interface WebApp {
  ctx: ServerContext;
  sessions: WebSessions;
}

export interface WebAppOptions {
  /** HTTPS listener. */
  secure: boolean;
  /**
   * Plain HTTP on a non-loopback address: serve nothing, redirect to this HTTPS origin instead
   * (passwords and cookies must not cross the network in clear).
   */
  redirectTo: string | null;
  /** The Host names and addresses this listener answers to (host-check.ts). */
  hosts: HostPolicy;
  ui: UiAssets | null;
  /** Shared between the HTTP and HTTPS listeners of one server. */
  sessions: WebSessions;
}

const STATIC_PATHS = new Set(['/account/app.js', '/account/app.css']);

export function createWebApp(ctx: ServerContext, opts: WebAppOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const app: WebApp = { ctx, sessions: opts.sessions };
  const router = new Router();
  if (opts.ui) uiRoutes(router, opts.ui);
  sessionRoutes(router, app);
  tlsKeyRoutes(router, app);
  passwordRoutes(router, app);
  loginAttemptRoutes(router, app);
  settingsRoutes(router, app);
  dmarcReportRoutes(router, app);
  mtaStsRoutes(router, app);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    let pathname = '/';
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://request.invalid');
      pathname = url.pathname;
    } catch {
      writeResponse(res, errorResponse(new HttpError(400, 'syntax', 'bad request target')), { noStore: true, head: false, hsts: opts.secure });
      return;
    }
    const head = method === 'HEAD';
    if (opts.redirectTo !== null) {
      writeResponse(res, { status: 308, headers: { Location: opts.redirectTo + pathname + url.search } }, { noStore: true, head });
      return;
    }
    const rid = newConnectionId();
    let response: WebResponse;
    try {
      await checkHost(req, pathname, opts.hosts);
      const m = router.match(method, pathname);
      if (m.kind === 'none') throw new HttpError(404, 'notfound', 'no such page');
      if (m.kind === 'method') {
        response = errorResponse(new HttpError(405, 'method', `method ${method} not allowed here`));
        response.headers = { ...response.headers, Allow: m.allowed.join(', ') };
      } else {
        const r: WebRequest = { req, method, url, params: m.params, ip: remoteIp(req), secure: opts.secure };
        response = await m.handler(r);
      }
    } catch (err) {
      response = toErrorResponse(err, ctx, rid);
    }
    // A refused body may still be streaming in: close the connection rather than read it all.
    if (response.status === 413) response.headers = { ...response.headers, Connection: 'close' };
    if (!res.headersSent) writeResponse(res, response, { noStore: !STATIC_PATHS.has(pathname), head, hsts: opts.secure });
  };
  return (req, res) => {
    handle(req, res).catch((err) => {
      ctx.log.error('web request failed', { err });
      res.destroy();
    });
  };
}

function toErrorResponse(err: unknown, ctx: ServerContext, rid: string): WebResponse {
  if (err instanceof HttpError) return errorResponse(err);
  // Missing message content is lost data: logged below, like any bug.
  if (err instanceof StoreError && err.code !== 'contentmissing') {
    const status = { exists: 409, notfound: 404, invalid: 400, nospace: 503, toobig: 413, overquota: 507 }[err.code];
    return errorResponse(new HttpError(status, err.code, err.message));
  }
  ctx.log.error('web request failed', { rid, err, stack: err instanceof Error ? err.stack : undefined });
  return json(500, { error: { code: 'internal', message: `internal server error (request ${rid})` } });
}

