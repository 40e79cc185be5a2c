// The IMAP listener: plain (STARTTLS) or implicit TLS, one ImapConnection per client.
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { newConnectionId } from '../../log/logger.js';
import type { ServerContext } from '../../server/context.js';
import { ConnectionLimiter } from '../../server/connection-limiter.js';
import { ImapConnection } from './connection.js';
// Registers the SASL mechanisms of src/sasl with AUTHENTICATE.
import './sasl-mechanisms.js';
import { listen } from '../../server/listen.js';

export { registerSaslMechanism, type ImapSaslMechanism, type MechanismFactory, type SaslOutcome } from './authenticate.js';
export { ImapConnection } from './connection.js';

const HANDSHAKE_TIMEOUT_MS = 30_000;
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
  const limiter = new ConnectionLimiter({ perIp: limits.maxConnectionsPerIp, perSubnet: limits.maxConnectionsPerSubnet });
  /**
   * Counts the sockets of one connection against its address until the first of them closes;
   * false when over a limit (then it is not counted).
   */
  const admit = (...socks: Socket[]): boolean => {
    const ip = ipKey(socks[0]!);
    const a = limiter.admit(ip);
    if (!a.ok) {
      ctx.log.info(`imap connection refused: too many from this ${a.over}`, { ip, port: opts.port });
      return false;
    }
    for (const s of socks) s.once('close', a.release);
    return true;
  };
  const onSocket = (sock: Socket, raw?: Socket): void => {
    const conn = new ImapConnection(ctx, sock, newConnectionId(), { implicitTls: opts.implicitTls, requestClientCert: opts.requestClientCert }, raw);
    conns.add(conn);
    void conn.run().finally(() => conns.delete(conn));
  };
  let server: Server;
  if (opts.implicitTls) {
    if (!ctx.tls) throw new Error('implicit TLS listener without a TLS certificate');
    const secureContext = ctx.tls;
    // Each socket is wrapped like a STARTTLS upgrade: tls.Server with a ready-made SecureContext
    // fails handshakes that request a client certificate (no session id context on that context).
    // Nagle's algorithm would hold each response line for the peer's delayed ACK (~40 ms).
    server = createNetServer({ noDelay: true }, (raw) => {
      raw.on('error', () => {});
      const t = new TLSSocket(raw, { isServer: true, secureContext, requestCert: opts.requestClientCert, rejectUnauthorized: false, SNICallback: ctx.acme?.certificates.sniCallback(opts.requestClientCert) });
      const admitted = admit(raw, t);
      const timer = setTimeout(() => t.destroy(), admitted ? HANDSHAKE_TIMEOUT_MS : REFUSED_HANDSHAKE_TIMEOUT_MS);
      t.once('error', (err) => {
        clearTimeout(timer);
        ctx.log.debug('imaps handshake failed', { err });
        t.destroy();
      });
      t.once('secure', () => {
        clearTimeout(timer);
        const p = t.getProtocol();
        if (p !== 'TLSv1.2' && p !== 'TLSv1.3') {
          t.destroy();
          return;
        }
        if (!admitted) return refuse(t);
        onSocket(t, raw);
      });
    });
  } else {
    server = createNetServer({ noDelay: true }, (s) => {
      s.on('error', () => {});
      if (admit(s)) onSocket(s);
      else refuse(s);
    });
  }
  server.on('error', (err) => ctx.log.error('imap listener error', { err }));
  const port = await listen(server, opts.host, opts.port);
  ctx.log.debug('imap listening', { host: opts.host, port, tls: opts.implicitTls });

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      const stopped = new Promise<void>((r) => server.close(() => r()));
      await Promise.all([...conns].map((c) => c.shutdown()));
      await stopped;
    })());
  ctx.shutdown.addEventListener('abort', () => void close(), { once: true });
  return { port, close };
}
