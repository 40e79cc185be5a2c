// TLS options for listeners (spec 2.2), and reading the client certificate of a connection.
//
// Client certificates are requested, never required, never chain-verified: only the public
// key identifies an account, a self-signed minimal certificate is normal, and an unknown key
// must not fail the handshake. So rejectUnauthorized is false and no CA list is sent.
//
// Resumption: TLS session resumption (session IDs or tickets) restores the peer certificate
// from the session (OpenSSL keeps it in SSL_SESSION; server-context.test.ts checks this for
// TLS 1.2 and 1.3), so a resumed session authenticates with the same key as the original
// one (spec 2.2). The session cache is per SecureContext and tickets are encrypted with keys
// of that context, so a session from a listener that does not request certificates cannot
// be resumed on one that does. `sessionIdContext` ties sessions to the requesting setting.

import { createHash } from 'node:crypto';
import type { SecureContextOptions, TlsOptions, TLSSocket } from 'node:tls';

export interface ListenerTlsOptions {
  /** Server private key and certificate chain, PEM. */
  key: string | Buffer;
  cert: string | Buffer;
  /** Request a client certificate in the handshake (IMAPS, submissions, STARTTLS on 143/587). */
  requestClientCertificate: boolean;
}

/** node:tls server options: TLS 1.2 and 1.3 only; a client certificate requested when asked. */
export function listenerTlsOptions(opts: ListenerTlsOptions): TlsOptions & SecureContextOptions {
  return {
    key: opts.key,
    cert: opts.cert,
    minVersion: 'TLSv1.2',
    requestCert: opts.requestClientCertificate,
    // Never fail the handshake over a certificate we do not know or cannot verify (spec 2.2).
    rejectUnauthorized: false,
    // A session may only be resumed on a context with the same client-certificate setting.
    sessionIdContext: createHash('sha256').update(`postern:${opts.requestClientCertificate ? 'client-cert' : 'no-client-cert'}`).digest('hex').slice(0, 32),
  };
}

/**
 * DER of the leaf (first) certificate the client sent, or null when it sent none. Works on
 * resumed sessions too (the certificate comes from the session).
 */
export function peerCertificateDer(socket: TLSSocket): Buffer | null {
  const cert = socket.getPeerCertificate(false);
  if (cert === null || cert === undefined || !('raw' in cert) || !cert.raw || cert.raw.length === 0) return null;
  return cert.raw;
}
