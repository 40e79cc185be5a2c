// The IMAP listener: plain (STARTTLS) or implicit TLS, one ImapConnection per client.
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { newConnectionId } from '../../log/logger.js';
import type { ServerContext } from '../../server/context.js';
import { ImapConnection } from './connection.js';
// Registers the SASL mechanisms of src/sasl with AUTHENTICATE.
import './sasl-mechanisms.js';

export { registerSaslMechanism, type ImapSaslMechanism, type MechanismFactory, type SaslOutcome } from './authenticate.js';
export { ImapConnection } from './connection.js';

const HANDSHAKE_TIMEOUT_MS = 30_000;

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

export async function startImapListener(ctx: ServerContext, opts: ImapListenerOptions): Promise<ImapListener> {
  const conns = new Set<ImapConnection>();
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
    server = createNetServer((raw) => {
      const t = new TLSSocket(raw, { isServer: true, secureContext, requestCert: opts.requestClientCert, rejectUnauthorized: false });
      const timer = setTimeout(() => t.destroy(), HANDSHAKE_TIMEOUT_MS);
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
        onSocket(t, raw);
      });
    });
  } else {
    server = createNetServer((s) => onSocket(s));
  }
  server.on('error', (err) => ctx.log.error('imap listener error', { err }));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  ctx.log.info('imap listening', { host: opts.host, port, tls: opts.implicitTls });

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
