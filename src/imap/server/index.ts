// The IMAP listener: plain (STARTTLS) or implicit TLS, one ImapConnection per client.
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { newConnectionId } from '../../log/logger.js';
import type { ServerContext } from '../../server/context.js';
import { admitSocket, ConnectionLimiter } from '../../server/connection-limiter.js';
import { ImapConnection } from './connection.js';
import { listen } from '../../server/listen.js';
import { HANDSHAKE_TIMEOUT_MS } from '../../tls/limits.js';

export { ImapConnection } from './connection.js';

/** A refused TLS client gets this long to finish its handshake and read the BYE. */
const REFUSED_HANDSHAKE_TIMEOUT_MS = 5_000;
const TOO_MANY = '* BYE [LIMIT] too many connections from your address\r\n';

/** The address a connection counts against: IPv4-mapped IPv6 is the IPv4 address. */
function ipKey(sock: Socket): string {
  const ip = sock.remoteAddress ?? '';
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

export interface ImapListenerOptions {
  host: string;
  port: number;
  implicitTls: boolean;
  requestClientCert: boolean;
}

export interface ImapListener {
  port: number;
  close(): Promise<void>;
}

/** Over the limit: BYE (RFC 9051 7.1.5, RFC 5530 LIMIT) and close, without waiting on the peer. */
function refuse(sock: Socket): void {
  sock.end(TOO_MANY);
  setTimeout(() => sock.destroy(), REFUSED_HANDSHAKE_TIMEOUT_MS).unref();
}

export async function startImapListener(ctx: ServerContext, opts: ImapListenerOptions): Promise<ImapListener> {
  const conns = new Set<ImapConnection>();
  // Spec 3.4: connections per address and subnet (server/connection-limiter.ts).
  const limits = ctx.config.limits.imap;
  const connLimits = { perIp: limits.maxConnectionsPerIp, perSubnet: limits.maxConnectionsPerSubnet };
  const admitter = ctx.admission?.(`imap ${opts.host}:${opts.port}`, connLimits) ?? new ConnectionLimiter(connLimits);
  /** Counts a connection against its address until release(); null when over a limit (then not counted). */
  const admit = (sock: Socket, then: (release: (() => void) | null) => void): void => {
    const ip = ipKey(sock);
    admitSocket(admitter, ip, sock, ctx.log, (a) => {
      if (!a.ok) ctx.log.info(`imap connection refused: too many from this ${a.over}`, { ip, port: opts.port });
      then(a.ok ? a.release : null);
    });
  };
  // This listener's own TLS context, from its own certificate setting (tls/server-tls.ts).
  const tls = ctx.tls?.listener({ requestClientCertificate: opts.requestClientCert }) ?? null;
  let closing: Promise<void> | null = null;
  const onSocket = (sock: Socket, raw?: Socket): void => {
    // Admitted (by the coordinator) after the listener began to close: shutdown has passed it by.
    if (closing) {
      sock.destroy();
      raw?.destroy();
      return;
    }
    const conn = new ImapConnection(ctx, sock, newConnectionId(), { implicitTls: opts.implicitTls, requestClientCert: opts.requestClientCert, tls }, raw);
    conns.add(conn);
    void conn.run().finally(() => conns.delete(conn));
  };
  let server: Server;
  if (opts.implicitTls) {
    if (!tls) throw new Error('implicit TLS listener without a TLS certificate');
    // Nagle's algorithm would hold each response line for the peer's delayed ACK (~40 ms).
    server = createNetServer({ noDelay: true }, (raw) =>
      admit(raw, (release) => {
        const t = tls.accept(raw, {
          // A refused client gets a short while to finish its handshake and read the BYE.
          timeoutMs: release ? HANDSHAKE_TIMEOUT_MS : REFUSED_HANDSHAKE_TIMEOUT_MS,
          onFail: (err) => ctx.log.debug('imaps handshake failed', { err }),
          onSecure: (t) => (release ? onSocket(t, raw) : refuse(t)),
        });
        // Counted until the first of the two sockets closes.
        if (release) for (const s of [raw, t]) s.once('close', release);
      }),
    );
  } else {
    server = createNetServer({ noDelay: true }, (s) => {
      s.on('error', () => {});
      admit(s, (release) => {
        if (!release) return refuse(s);
        s.once('close', release);
        onSocket(s);
      });
    });
  }
  server.on('error', (err) => ctx.log.error('imap listener error', { err }));
  const port = await listen(server, opts.host, opts.port);
  ctx.log.debug('imap listening', { host: opts.host, port, tls: opts.implicitTls });

  const close = (): Promise<void> =>
    (closing ??= (async () => {
      const stopped = new Promise<void>((r) => server.close(() => r()));
      await Promise.all([...conns].map((c) => c.shutdown()));
      await stopped;
      tls?.close();
    })());
  ctx.shutdown.addEventListener('abort', () => void close(), { once: true });
  return { port, close };
}
