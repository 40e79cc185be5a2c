// TLS for every listener (spec 2.2): one builder of contexts for IMAP, SMTP and the web, and
// reading the client certificate of a connection.
//
// Client certificates are requested, never required, never chain-verified: only the public
// key identifies an account, a self-signed minimal certificate is normal, and an unknown key
// must not fail the handshake. So rejectUnauthorized is false and no CA list is sent. A listener
// may not ask at all (some peers fail when asked: Gmail's "send mail as" presents a public-CA
// certificate and gives up).
//
// Protocols and suites: TLS 1.2 and 1.3 only, AEAD suites with forward secrecy only (ECDHE with
// AES-GCM or ChaCha20-Poly1305, the TLS 1.2 part of Mozilla's "intermediate" profile without the
// DHE suites), in the server's order. Client-initiated renegotiation is refused
// (SSL_OP_NO_RENEGOTIATION: OpenSSL answers a renegotiating ClientHello with a no_renegotiation
// alert). Node limits renegotiation only on sockets of a tls.Server; our sockets are made here.
//
// Resumption: TLS session resumption restores the peer certificate from the session (OpenSSL
// keeps it in SSL_SESSION; server-context.test.ts checks this for TLS 1.2 and 1.3), so a
// resumed session authenticates with the same key as the original one (spec 2.2). The session
// id context names the client-certificate setting, and OpenSSL refuses a session (from the cache
// or a ticket) made under another one; ticket keys differ per setting as well (ticket-keys.ts).
// A session from a listener that does not request certificates therefore never resumes on one
// that does, nor the other way round.

import { constants, createHash } from 'node:crypto';
import type { SecureContextOptions, TlsOptions, TLSSocket } from 'node:tls';
import { SESSION_LIFETIME_S } from './limits.js';

export interface ListenerTlsOptions {
  /** Server private key and certificate chain, PEM. */
  key: string | Buffer;
  cert: string | Buffer;
  /** Request a client certificate in the handshake (IMAPS, submissions, STARTTLS on 143/587). */
  requestClientCertificate: boolean;
  /** 48-byte session ticket key (ticket-keys.ts); a random one per context when absent. */
  ticketKeys?: Buffer;
}

/** TLS 1.2 suites first (server order), then TLS 1.3's (node:tls takes both in one list). */
export const TLS_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
].join(':');

/** The session id context of a client-certificate setting (at most 32 bytes, as OpenSSL wants). */
export function sessionIdContextFor(requestClientCertificate: boolean): string {
  return createHash('sha256').update(`postern:${requestClientCertificate ? 'client-cert' : 'no-client-cert'}`).digest('hex').slice(0, 32);
}

/** node:tls server options: the protocols, suites and session settings above. */
export function listenerTlsOptions(opts: ListenerTlsOptions): TlsOptions & SecureContextOptions {
  return {
    key: opts.key,
    cert: opts.cert,
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.3',
    ciphers: TLS_CIPHERS,
    honorCipherOrder: true,
    secureOptions: constants.SSL_OP_NO_RENEGOTIATION,
    requestCert: opts.requestClientCertificate,
    // Never fail the handshake over a certificate we do not know or cannot verify (spec 2.2).
    rejectUnauthorized: false,
    sessionIdContext: sessionIdContextFor(opts.requestClientCertificate),
    sessionTimeout: SESSION_LIFETIME_S,
    ...(opts.ticketKeys ? { ticketKeys: opts.ticketKeys } : {}),
  };
}

/** The protocol of an established connection when it is one we accept, else null. */
export function acceptedTlsVersion(t: TLSSocket): 'TLSv1.2' | 'TLSv1.3' | null {
  const p = t.getProtocol();
  return p === 'TLSv1.2' || p === 'TLSv1.3' ? p : null;
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
