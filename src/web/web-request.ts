// What a route handler gets: the parsed URL, route parameters, the peer address, whether the
// listener is HTTPS, and body readers that enforce the size limit (limits.ts).

import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-error.js';
import { MAX_BODY_BYTES } from './limits.js';

export interface WebRequest {
  req: IncomingMessage;
  method: string;
  url: URL;
  params: Record<string, string>;
  /** Remote IP (IPv4-mapped IPv6 reduced to IPv4). */
  ip: string;
  /** The listener is HTTPS. */
  secure: boolean;
}

/** The Host header's name, lower case, without port or trailing dot ('' when absent). */
export function requestHost(r: WebRequest): string {
  const host = r.req.headers.host ?? '';
  return host.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '').toLowerCase();
}

/** The request body, refused with 413 past `limit` bytes (checked on Content-Length first, then while reading). */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw new HttpError(413, 'toobig', `request body over ${limit} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume();
      throw new HttpError(413, 'toobig', `request body over ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The media type of the request, lower case, without parameters. */
export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * A JSON object body. application/json is required: a cross-site form cannot send it without a
 * CORS preflight, which we never answer, so this is a second line behind the CSRF token.
 */
export async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  if (mediaType(req) !== 'application/json') throw new HttpError(415, 'mediatype', 'expected Content-Type: application/json');
  const body = await readBody(req);
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'syntax', 'request body is not valid JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new HttpError(400, 'syntax', 'request body must be a JSON object');
  return v as Record<string, unknown>;
}

/** A string field; `required` makes an absent one an error. */
export function stringField(o: Record<string, unknown>, name: string, required: true): string;
export function stringField(o: Record<string, unknown>, name: string, required: false): string | undefined;
export function stringField(o: Record<string, unknown>, name: string, required: boolean): string | undefined {
  const v = o[name];
  if (v === undefined || v === null) {
    if (required) throw new HttpError(400, 'missing', `${name} is required`, name);
    return undefined;
  }
  if (typeof v !== 'string') throw new HttpError(400, 'invalid', `${name} must be a string`, name);
  return v;
}

export function booleanField(o: Record<string, unknown>, name: string): boolean | undefined {
  const v = o[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new HttpError(400, 'invalid', `${name} must be true or false`, name);
  return v;
}

export function remoteIp(req: IncomingMessage): string {
  return (req.socket.remoteAddress ?? '').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
}
