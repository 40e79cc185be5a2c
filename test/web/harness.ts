// Test harness for the account web interface: a SqliteStore in a temp dir with two accounts, the
// real authenticator, the web listeners (HTTP on loopback and HTTPS), plus a
// small HTTP client with a cookie jar and the CSRF token, so tests read as request/response pairs.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deriveCredentials } from '../../src/auth/password.js';
import { FailureLimiter } from '../../src/auth/rate-limit.js';
import { SessionRegistry } from '../../src/auth/session-registry.js';
import { StoreAuthenticator } from '../../src/auth/store-authenticator.js';
import type { Config } from '../../src/config/types.js';
import { DEFAULT_IMAP_LIMITS, DEFAULT_SMTP_LIMITS } from '../../src/config/defaults.js';
import { silentLogger } from '../../src/log/logger.js';
import type { ServerContext } from '../../src/server/context.js';
import { SqliteStore } from '../../src/store/index.js';
import { testServerCertificate } from '../../src/tls/tls-test-support.js';
import { startWebListener } from '../../src/web/index.js';
import { WebSessions } from '../../src/web/web-sessions.js';
import { startImapListener } from '../../src/imap/server/index.js';
import { ServerTls } from '../../src/tls/server-tls.js';

export const ALICE = 'alice@example.org';
export const ALICE_ALIAS = 'alias@example.org';
export const ALICE_PASSWORD = 'alice-password-1';
export const BOB = 'bob@example.com';
export const BOB_PASSWORD = 'bob-password-1';

export interface WebHarness {
  ctx: ServerContext;
  store: SqliteStore;
  aliceId: number;
  bobId: number;
  httpPort: number;
  httpsPort: number;
  /** An IMAPS listener on the same context: certificates registered on the web get PREAUTH there. */
  imapsPort: number;
  /** A client of the plain HTTP (loopback) listener, or of HTTPS with `tls`. */
  client(opts?: { tls?: boolean }): WebClient;
  /** Moves the web sessions' clock forward (e.g. past the step-up window after a login). */
  advanceClock(ms: number): void;
  /** Starts one more web listener (e.g. plain HTTP on a non-loopback address). */
  listen(opts: { host: string; tls: boolean }): Promise<number>;
  close(): Promise<void>;
}

export async function startWebHarness(opts: { limiter?: FailureLimiter } = {}): Promise<WebHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'postern-web-'));
  const store = await SqliteStore.open({ dir, recover: true });
  const alice = await store.createAccount('alice', ALICE);
  await store.addAddress('alice', ALICE_ALIAS);
  await store.setCredentials(alice.id, await deriveCredentials(ALICE_PASSWORD));
  const bob = await store.createAccount('bob', BOB);
  await store.setCredentials(bob.id, await deriveCredentials(BOB_PASSWORD));
  const { keyPem, certPem } = testServerCertificate();
  mkdirSync(join(dir, 'tls'));
  writeFileSync(join(dir, 'tls', 'key.pem'), keyPem);
  writeFileSync(join(dir, 'tls', 'cert.pem'), certPem);
  const config: Config = {
    dir,
    hostname: 'localhost',
    tls: { certFile: join(dir, 'tls', 'cert.pem'), keyFile: join(dir, 'tls', 'key.pem') },
    listeners: [{ name: 'test', ips: ['127.0.0.1'], ports: { imaps: 10993, imap: 10143, submissions: 10465, submission: 10587, http: 10080, https: 10443 }, requestClientCertificates: true }],
    limits: { imap: DEFAULT_IMAP_LIMITS, smtp: DEFAULT_SMTP_LIMITS },
    authFailureDelayMs: 0,
    dkim: {},
    transports: {},
    quota: { default: null },
    outbound: { allowPrivateAddresses: false, mtaSts: false, dnssecResolver: null },
    dns: { resolver: null },
    mtaSts: { mode: 'testing', maxAgeSeconds: 604800 },
  };
  const auth = new StoreAuthenticator({ store, log: silentLogger, hostname: 'localhost', limiter: opts.limiter });
  const abort = new AbortController();
  const sessions = new SessionRegistry(store, auth, silentLogger);
  const ctx: ServerContext = {
    store, config, auth, sessions, log: silentLogger,
    tls: new ServerTls(keyPem, certPem),
    shutdown: abort.signal,
  };
  const closers: (() => Promise<void>)[] = [];
  let clockOffset = 0;
  const webSessions = new WebSessions(store, () => Date.now() + clockOffset);
  const http = await startWebListener(ctx, { host: '127.0.0.1', port: 0, tls: false, sessions: webSessions });
  const https = await startWebListener(ctx, { host: '127.0.0.1', port: 0, tls: true, sessions: webSessions });
  const imaps = await startImapListener(ctx, { host: '127.0.0.1', port: 0, implicitTls: true, requestClientCert: true });
  closers.push(http.close, https.close, imaps.close);
  return {
    ctx, store, aliceId: alice.id, bobId: bob.id, httpPort: http.port, httpsPort: https.port, imapsPort: imaps.port,
    client: (o = {}) => new WebClient(o.tls ? https.port : http.port, o.tls ?? false),
    advanceClock(ms) {
      clockOffset += ms;
    },
    async listen(o) {
      const l = await startWebListener(ctx, { host: o.host, port: 0, tls: o.tls, sessions: webSessions });
      closers.push(l.close);
      return l.port;
    },
    async close() {
      abort.abort();
      await Promise.all(closers.map((c) => c()));
      sessions.stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** Parsed JSON body, when the body was JSON. */
  json: any;
}

/** An HTTP client with one cookie jar and the CSRF token of its session. */
export class WebClient {
  cookies = new Map<string, string>();
  csrf = '';

  constructor(readonly port: number, readonly tls: boolean, readonly host = '127.0.0.1') {}

  request(method: string, path: string, opts: { json?: unknown; body?: Buffer | string; headers?: Record<string, string>; csrf?: boolean } = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...opts.headers };
    let body: Buffer | undefined;
    if (opts.json !== undefined) {
      body = Buffer.from(JSON.stringify(opts.json));
      headers['content-type'] ??= 'application/json';
    } else if (opts.body !== undefined) body = Buffer.from(opts.body);
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if ((opts.csrf ?? method !== 'GET') && this.csrf) headers['x-csrf-token'] ??= this.csrf;
    const req = (this.tls ? httpsRequest : httpRequest)({ host: this.host, port: this.port, method, path, headers, rejectUnauthorized: false });
    return new Promise((resolve, reject) => {
      req.on('error', reject);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          for (const c of res.headers['set-cookie'] ?? []) {
            const [pair] = c.split(';');
            const eq = pair!.indexOf('=');
            const name = pair!.slice(0, eq);
            const value = pair!.slice(eq + 1);
            if (/Max-Age=0/i.test(c)) this.cookies.delete(name);
            else this.cookies.set(name, value);
          }
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown = undefined;
          if (/json/.test(String(res.headers['content-type']))) json = JSON.parse(text);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      });
      req.end(body);
    });
  }

  /** Logs in and keeps the session cookie and CSRF token. */
  async login(address: string, password: string): Promise<Reply> {
    const r = await this.request('POST', '/account/api/login', { json: { address, password } });
    if (r.status === 200) this.csrf = r.json.csrfToken;
    return r;
  }

  async loginOk(address: string, password: string): Promise<void> {
    const r = await this.login(address, password);
    assert.equal(r.status, 200, r.text);
  }
}
