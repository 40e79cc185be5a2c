// The SMTP listeners: incoming (25) and submission (587 STARTTLS, 465 implicit TLS). One session
// core (session.ts); the listener kind selects the policy (incoming.ts, submission.ts).

import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { newConnectionId } from '../../log/logger.js';
import type { ServerContext } from '../../server/context.js';
import { incomingPolicy } from './incoming.js';
import type { DnsResolver } from './policy.js';
import { R, formatReply } from '../proto/index.js';
import { admitSocket, ConnectionLimiter } from '../../server/connection-limiter.js';
import { S } from './replies.js';
import { DEFAULT_TIMEOUTS, SmtpSession, type SessionTimeouts } from './session.js';
import { SpoolDir } from './spool.js';
import { submissionPolicy } from './submission.js';
import { listen } from '../../server/listen.js';

export { generateDkimKeys, type DkimKey } from './dkim-keys.js';
export type { DnsResolver } from './policy.js';

export interface SmtpListenerOptions {
  host: string;
  port: number;
  /** smtp: incoming mail for our domains (port 25); submission: authenticated users (587/465). */
  kind: 'smtp' | 'submission';
  implicitTls: boolean;
  /** Request TLS client certificates (submission only; port 25 never does, spec 2.2). */
  requestClientCert: boolean;
  /** DNS for SPF/DKIM/DMARC on incoming mail; node:dns when absent (tests serve their own). */
  resolver?: DnsResolver;
  /** Shorter timeouts for tests. */
  timeouts?: Partial<SessionTimeouts>;
}

export interface SmtpListener {
  port: number;
  close(): Promise<void>;
}

export async function startSmtpListener(ctx: ServerContext, opts: SmtpListenerOptions): Promise<SmtpListener> {
  const policy = opts.kind === 'submission' ? submissionPolicy : incomingPolicy;
  // This listener's own TLS context; port 25 never asks for a certificate (spec 2.2).
  const tls = ctx.tls?.listener({ requestClientCertificate: opts.kind === 'submission' && opts.requestClientCert }) ?? null;
  if (opts.implicitTls && !tls) throw new Error('implicit TLS SMTP listener without a TLS certificate');
  const spool = new SpoolDir(join(ctx.config.dir, 'tmp', 'smtp'));
  const timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
  const sessions = new Map<SmtpSession, Promise<void>>();
  let closing = false;

  // Spec 3.4: connections per address and subnet (server/connection-limiter.ts).
  const limits = ctx.config.limits.smtp;
  const connLimits = { perIp: limits.maxConnectionsPerIp, perSubnet: limits.maxConnectionsPerSubnet };
  const admitter = ctx.admission?.(`${opts.kind} ${opts.host}:${opts.port}`, connLimits) ?? new ConnectionLimiter(connLimits);
  const onSocket = (sock: Socket): void => {
    if (closing) {
      sock.destroy();
      return;
    }
    const ip = sock.remoteAddress ?? '';
    admitSocket(admitter, ip, sock, ctx.log, (a) => {
      if (!a.ok) {
        ctx.log.info(`smtp connection refused: too many from this ${a.over}`, { ip });
        sock.on('error', () => {});
        sock.end(formatReply(S.tooManyConnections));
        return;
      }
      if (closing) {
        a.release();
        sock.destroy();
        return;
      }
      sock.once('close', a.release);
      const s = new SmtpSession(ctx, sock, newConnectionId(), { policy, implicitTls: opts.implicitTls, tls, spool, timeouts, resolver: opts.resolver ?? ctx.resolver });
      sessions.set(s, s.run().finally(() => sessions.delete(s)));
    });
  };

  let server: Server;
  if (opts.implicitTls) {
    // Nagle's algorithm would hold each reply for the peer's delayed ACK (~40 ms).
    server = createNetServer({ noDelay: true }, (raw) => {
      if (closing) return void raw.destroy();
      tls!.accept(raw, { onSecure: onSocket, onFail: (err) => ctx.log.debug('smtp tls handshake failed', { err }) });
    });
  } else {
    server = createNetServer({ noDelay: true }, onSocket);
  }
  server.on('error', (err) => ctx.log.error('smtp listener error', { err }));
  const port = await listen(server, opts.host, opts.port);

  let closed: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closed ??= (async () => {
      closing = true;
      const stopped = new Promise<void>((r) => server.close(() => r()));
      // Sessions end at their next read: a message being committed is finished first.
      for (const s of sessions.keys()) s.end('shutdown', R.serviceUnavailable);
      await Promise.all(sessions.values());
      await stopped;
      tls?.close();
    })());
  ctx.shutdown.addEventListener('abort', () => void close(), { once: true });
  return { port, close };
}
