// Public entry of the account web interface (spec 9): one HTTP or HTTPS listener.
//
// HTTPS uses the server certificate of the configuration (config.tls). Plain HTTP serves the account
// pages only when it listens on a loopback address; elsewhere it only redirects to HTTPS, so that
// passwords and session cookies never cross a network in clear.

import { createServer as createHttpServer } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ServerContext } from '../server/context.js';
import { loadUi } from './build-ui.js';
import { HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS } from './limits.js';
import { isLoopbackHost, type HostPolicy } from './host-check.js';
import { createWebApp } from './web-app.js';
import { WebSessions } from './web-sessions.js';
import { listen } from '../server/listen.js';

export { buildUi, loadUi, writeUi } from './build-ui.js';

export interface WebListenerOptions {
  host: string;
  port: number;
  tls: boolean;
  /** The sessions to use (a test brings its own clock); by default the store's, on the real clock. */
  sessions?: WebSessions;
}

export interface WebListener {
  port: number;
  close(): Promise<void>;
}

// The HTTP and HTTPS listeners of one server share one WebSessions (the sessions themselves are in
// the store, shared with every process).
const sessionsByContext = new WeakMap<ServerContext, WebSessions>();


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
  let sessions = opts.sessions ?? sessionsByContext.get(ctx);
  if (!sessions) {
    sessions = new WebSessions(ctx.store);
    sessionsByContext.set(ctx, sessions);
  }
  const serveUi = opts.tls || isLoopbackHost(opts.host);
  const ui = serveUi ? await loadUi() : null;
  const hosts: HostPolicy = {
    names: [ctx.config.hostname.toLowerCase()],
    addresses: ctx.config.listeners.flatMap((l) => l.ips).filter((ip) => ip !== '0.0.0.0' && ip !== '::'),
    loopback: isLoopbackHost(opts.host),
    isLocalDomain: (d) => ctx.store.isLocalDomain(d).catch(() => false),
  };
  const handler = createWebApp(ctx, {
    secure: opts.tls,
    redirectTo: serveUi ? null : httpsOrigin(ctx, opts.host, opts.port),
    hosts,
    ui,
    sessions,
  });
  const server = createHttpServer(handler);
  // HTTPS: the TLS of every listener comes from one builder (tls/server-tls.ts), so the HTTP server
  // gets its connections after our handshake instead of running a tls.Server of its own.
  // With ACME, HTTPS also answers tls-alpn-01 by ALPN (acme/challenge-responder.ts).
  const acmeCallbacks = ctx.acme ? ctx.acme.challenges.httpsOptions(ctx.acme.certificates.sniCallback(false)) : undefined;
  const tls = opts.tls ? ctx.tls?.listener({ requestClientCertificate: false }, acmeCallbacks) : null;
  /** Connections still in their handshake: unknown to the HTTP server, closed with the listener. */
  const handshaking = new Set<TLSSocket>();
  if (opts.tls) {
    if (!tls) throw new Error('HTTPS listener without a TLS certificate in the configuration');
    const acme = ctx.acme;
    const http = server.listeners('connection') as ((s: Socket) => void)[];
    server.removeAllListeners('connection');
    server.on('connection', (raw: Socket) => {
      const t = tls.accept(raw, {
        onSecure: (t) => {
          // tls-alpn-01 (RFC 8737 3): the validation handshake is all; no HTTP on it.
          if (acme?.challenges.isChallengeSocket(t)) return void t.destroy();
          http.forEach((l) => l.call(server, t));
        },
      });
      handshaking.add(t);
      const done = () => handshaking.delete(t);
      t.once('secure', done).once('close', done);
    });
  } else if (ctx.acme) {
    const acme = ctx.acme;
    // http-01 (RFC 8555 8.3) is answered before the host check and the redirect to HTTPS.
    server.removeAllListeners('request');
    server.on('request', (req, res) => void (acme.challenges.handleHttp(req, res) || handler(req, res)));
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
      for (const t of handshaking) t.destroy();
      tls?.close();
    }));
  ctx.shutdown.addEventListener('abort', () => void close(), { once: true });
  return { port, close };
}

