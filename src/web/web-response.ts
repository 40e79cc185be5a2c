// What a route handler returns, and writing it with the security headers every response carries.

import type { ServerResponse } from 'node:http';
import { HttpError } from './http-error.js';

export interface WebResponse {
  status: number;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  /** Serialised as the body with Content-Type application/json. */
  json?: unknown;
}

// No inline script or style anywhere: the page loads /account/app.js and /account/app.css only.
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CSP,
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=()',
};

/**
 * RFC 6797: browsers that saw this over HTTPS use only HTTPS for this host for a year. Not for
 * subdomains: other names under our host name may be served by someone else.
 */
export const HSTS = 'max-age=31536000';

export function json(status: number, value: unknown, headers?: Record<string, string | string[]>): WebResponse {
  return { status, json: value, headers };
}

export function noContent(headers?: Record<string, string | string[]>): WebResponse {
  return { status: 204, headers };
}

export function errorResponse(err: HttpError): WebResponse {
  const headers: Record<string, string> = {};
  if (err.status === 429) headers['Retry-After'] = String(err.retryAfterSeconds ?? 60);
  // RFC 9110 10.2.3: a 503 (password hashing busy) is worth retrying shortly.
  if (err.status === 503) headers['Retry-After'] = '1';
  return json(err.status, { error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } }, headers);
}

/** Writes the response; `noStore` for everything that is not a static asset, `hsts` on HTTPS. */
export function writeResponse(res: ServerResponse, r: WebResponse, opts: { noStore: boolean; head: boolean; hsts?: boolean }): void {
  const headers: Record<string, string | string[]> = { ...SECURITY_HEADERS };
  if (opts.hsts) headers['Strict-Transport-Security'] = HSTS;
  if (opts.noStore) headers['Cache-Control'] = 'no-store';
  let body: Buffer | undefined;
  if (r.json !== undefined) {
    body = Buffer.from(JSON.stringify(r.json), 'utf8');
    headers['Content-Type'] = 'application/json; charset=utf-8';
  } else if (r.body !== undefined) {
    body = typeof r.body === 'string' ? Buffer.from(r.body, 'utf8') : r.body;
  }
  Object.assign(headers, r.headers ?? {});
  if (body !== undefined) headers['Content-Length'] = String(body.length);
  res.writeHead(r.status, headers);
  res.end(opts.head ? undefined : body);
}
