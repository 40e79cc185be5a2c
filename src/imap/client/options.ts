// Options of the IMAP client (public API, `postern/imapclient`).

import type { ClientCertificateInput } from '../../tls/client-tls.js';
import type { Logger } from '../../log/logger.js';
import type { SaslMechanism } from '../../sasl/index.js';

/**
 * How TLS is used:
 * - 'implicit': TLS from the first byte (IMAPS, port 993; RFC 8314).
 * - 'starttls': STARTTLS is required (RFC 9051 6.2.1); a server without it is an error.
 * - 'opportunistic': STARTTLS when offered, else stay in plain text (passwords then need
 *   `auth.allowPlaintext`).
 * - 'none': plain text only (tests, loopback).
 */
export type ImapTlsMode = 'implicit' | 'starttls' | 'opportunistic' | 'none';

/** A TLS client certificate: PEM key and certificate, or a bare private key (a minimal certificate is made). */
export type ImapClientCertificate = ClientCertificateInput;

export interface ImapAuthOptions {
  /** Login name. Optional with a client certificate (EXTERNAL then asks for `authzid` or nothing). */
  username?: string;
  password?: string;
  /** Authorization identity to request; for EXTERNAL the address to act as. */
  authzid?: string;
  /** A fixed mechanism, or 'LOGIN-COMMAND' for the IMAP LOGIN command. Default: the best both sides support. */
  mechanism?: SaslMechanism | 'LOGIN-COMMAND';
  /** Allow PLAIN / LOGIN without TLS (password in the clear). Default false. */
  allowPlaintext?: boolean;
}

export interface ImapTimeouts {
  /** TCP connect and TLS handshake, ms. Default 30 s. */
  connect?: number;
  /** Waiting for the greeting, ms. Default 30 s. */
  greeting?: number;
  /** No response at all to a command for this long fails it and closes the connection, ms.
   * Default 5 min. IDLE is exempt (RFC 9051 6.3.13: re-issue it at least every 29 minutes). */
  command?: number;
}

export interface ImapClientOptions {
  host: string;
  /** Default 993 for implicit TLS, else 143. */
  port?: number;
  /** Default 'implicit'. */
  tls?: ImapTlsMode;
  /** Name for SNI and certificate checks; default `host` (no SNI for an IP address). */
  servername?: string;
  /** Trusted CA certificates (PEM), or the server's own certificate; replaces the system CAs. */
  ca?: string | Buffer | (string | Buffer)[];
  /** Accept the server when its public key has this SPKI SHA-256 fingerprint (base64url, spec 2.1). */
  pin?: string | string[];
  /** Do not verify the server at all. Explicit, for tests. */
  insecure?: boolean;
  /** TLS protocol range; default TLS 1.2 up to the newest (e.g. max 'TLSv1.2' to get tls-unique). */
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
  maxVersion?: 'TLSv1.2' | 'TLSv1.3';
  clientCertificate?: ImapClientCertificate;
  /**
   * Log in during connect(). Without it, with a client certificate the client still uses
   * EXTERNAL when the server offers it; otherwise call authenticate()/login() yourself.
   * A PREAUTH greeting skips authentication.
   */
  auth?: ImapAuthOptions;
  timeouts?: ImapTimeouts;
  /** Closes the connection and fails pending commands. */
  signal?: AbortSignal;
  /** Protocol trace at debug level (authentication data is never logged). */
  log?: Logger;
}
