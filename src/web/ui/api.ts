/// <reference lib="dom" />
// Calls to the JSON API (docs/web-api.md). Every state change carries the session's CSRF token;
// a 401 means the session is gone, and the page goes back to the login form.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export interface SessionInfo {
  account: string;
  address: string;
  addresses: string[];
  csrfToken: string;
  hostname: string;
}

export interface TlsKey {
  fingerprint: string;
  type: string;
  name: string;
  loginAddress: string;
  noImapPreauth: boolean;
  created: string;
  lastUsed: string | null;
  lastUsedIp: string | null;
}

export interface LoginAttempt {
  time: string;
  address: string;
  protocol: string;
  mechanism: string;
  keyFingerprint: string | null;
  /** The key's name, when the key still exists. */
  keyName: string | null;
  ip: string;
  result: string;
  /** What happened, in words. */
  reason: string;
}

/** One row of a received DMARC aggregate report (RFC 7489 appendix C <record>). */
export interface DmarcRow {
  sourceIp: string;
  count: number;
  disposition: string;
  dkim: string;
  spf: string;
  headerFrom: string;
  envelopeFrom: string;
}

export interface DmarcReport {
  reporter: string;
  reporterEmail: string;
  reportId: string;
  begin: string;
  end: string;
  messages: number;
  passed: number;
  rows: DmarcRow[];
}

export interface DmarcReceived {
  limit: number;
  domains: { domain: string; days: { day: string; reports: DmarcReport[] }[] }[];
}

export interface Endpoint {
  host: string;
  port: number;
  security: 'tls' | 'starttls';
}

export interface ClientSettings {
  address: string;
  hostname: string;
  imap: Endpoint[];
  submission: Endpoint[];
}

let csrfToken = '';
let onLoggedOut: () => void = () => {};

export function setCsrfToken(t: string): void {
  csrfToken = t;
}

export function whenLoggedOut(f: () => void): void {
  onLoggedOut = f;
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET') headers['X-CSRF-Token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(`/account/api/${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, 'network', 'cannot reach the server; check your connection');
  }
  if (res.status === 204) return undefined as T;
  let data: unknown = null;
  try {
    data = await res.json();
  } catch {
    // not JSON: handled below
  }
  if (!res.ok) {
    const e = (data as { error?: { code?: string; message?: string; field?: string } } | null)?.error;
    const err = new ApiError(res.status, e?.code ?? 'http', e?.message ?? `server answered ${res.status}`, e?.field);
    if (res.status === 401 && path !== 'login' && path !== 'session') onLoggedOut();
    throw err;
  }
  return data as T;
}
