// Public entry of the account web interface (spec 9): one HTTP or HTTPS listener.
//
// HTTPS uses the server certificate of the configuration (config.tls). Plain HTTP serves the account
// pages only when it listens on a loopback address; elsewhere it only redirects to HTTPS, so that
// passwords and session cookies never cross a network in clear.

import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { ServerContext } from '../server/context.js';
import { loadUi } from './build-ui.js';
import { HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS } from './limits.js';
import { createWebApp } from './web-app.js';
import { WebSessions } from './web-sessions.js';
import { listen } from '../server/listen.js';

export { buildUi, loadUi, writeUi } from './build-ui.js';

export interface WebListenerOptions {
  host: string;
  port: number;
  tls: boolean;
}

export interface WebListener {
  port: number;
  close(): Promise<void>;
}

// The HTTP and HTTPS listeners of one server share the sessions.
const sessionsByContext = new WeakMap<ServerContext, WebSessions>();

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || /^::ffff:127\./.test(h);
}

/** The HTTPS origin that a plain HTTP listener on `host:port` redirects to. */
function httpsOrigin(ctx: ServerContext, host: string, port: number): string {
  const ls = ctx.config.listeners;
  const listener =
    ls.find((l) => l.ips.includes(host) && l.ports.http === port && l.ports.https !== undefined) ??
    ls.find((l) => l.ips.includes(host) && l.ports.https !== undefined) ??
    ls.find((l) => l.ports.https !== undefined);
  const httpsPort = listener?.ports.https ?? (port >= 80 ? port - 80 + 443 : 443);
  const hostname = ctx.config.hostname.includes(':') ? `[${ctx.config.hostname}]` : ctx.config.hostname;
  return `https://${hostname}${httpsPort === 443 ? '' : `:${httpsPort}`}`;
}

export async function startWebListener(ctx: ServerContext, opts: WebListenerOptions): Promise<WebListener> {
  let sessions = sessionsByContext.get(ctx);
  if (!sessions) {
    sessions = new WebSessions();
    sessionsByContext.set(ctx, sessions);
  }
  const serveUi = opts.tls || isLoopback(opts.host);
  const ui = serveUi ? await loadUi() : null;
  const allowedHosts = opts.tls ? null : ['localhost', ctx.config.hostname.toLowerCase(), opts.host.toLowerCase()];
  const handler = createWebApp(ctx, {
    secure: opts.tls,
    redirectTo: serveUi ? null : httpsOrigin(ctx, opts.host, opts.port),
    allowedHosts,
    ui,
    sessions,
  });
  let server: Server;
  if (opts.tls) {
    if (!ctx.config.tls) throw new Error('HTTPS listener without a TLS certificate in the configuration');
    const acme = ctx.acme;
    server = createHttpsServer(
      {
        key: readFileSync(ctx.config.tls.keyFile), cert: readFileSync(ctx.config.tls.certFile), minVersion: 'TLSv1.2',
        // ACME: certificates by SNI, tls-alpn-01 answered on ALPN acme-tls/1 (src/acme/challenge-responder.ts).
        ...(acme ? acme.challenges.httpsOptions(acme.certificates.sniCallback(false)) : {}),
      },
      handler,
    );
    if (acme) server.prependListener('secureConnection', (s: TLSSocket) => void (acme.challenges.isChallengeSocket(s) && s.destroy()));
  } else {
    const acme = ctx.acme;
    // http-01 (RFC 8555 8.3) is answered before the host check and the redirect to HTTPS.
    server = createHttpServer(acme ? (req, res) => void (acme.challenges.handleHttp(req, res) || handler(req, res)) : handler);
  }
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.keepAliveTimeout = 5_000;
  server.on('clientError', (_err, socket) => socket.destroy());
  server.on('error', (err) => ctx.log.error('web listener error', { err }));
  const port = await listen(server, opts.host, opts.port);
  ctx.log.debug('web listening', { host: opts.host, port, tls: opts.tls, account: serveUi ? 'served' : 'redirect to https' });
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }));
  ctx.shutdown.addEventListener('abort', () => void close(), { once: true });
  return { port, close };
}

