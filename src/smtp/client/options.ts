// Options of the SMTP client (public API, `postern/smtpclient`).

import type { ClientCertificateInput } from '../../tls/client-tls.js';
import type { Logger } from '../../log/logger.js';
import type { SaslMechanism } from '../../sasl/index.js';

/**
 * How TLS is used:
 * - 'implicit': TLS from the first byte (submissions, port 465; RFC 8314).
 * - 'starttls': STARTTLS is required (RFC 3207); a server that does not offer it is an error.
 * - 'opportunistic': STARTTLS when the server offers it, else plain text, as MX delivery does
 *   (RFC 3207 4, Postfix `may`). The server certificate is not verified unless `ca` or `pin` is
 *   given: an active attacker can strip STARTTLS anyway, and MX hosts often have certificates
 *   that do not match (RFC 7435 opportunistic security).
 * - 'none': plain text only.
 */
export type TlsMode = 'implicit' | 'starttls' | 'opportunistic' | 'none';

/** A TLS client certificate: PEM key and certificate, or a bare private key (a certificate is made). */
export type ClientCertificate = ClientCertificateInput;

export interface SmtpTimeouts {
  /** TCP connect and TLS handshake, ms. Default 30 s. */
  connect?: number;
  /** Waiting for the 220 greeting, ms. Default 5 min (RFC 5321 4.5.3.2.1). */
  greeting?: number;
  /** Waiting for the reply to a command, ms. Default 5 min (RFC 5321 4.5.3.2.2-4). */
  command?: number;
  /** Sending message data (no progress for this long) and waiting for the reply after it, ms.
   * Default 10 min (RFC 5321 4.5.3.2.5-6). */
  data?: number;
}

export interface SmtpAuthOptions {
  /** Login name. Optional with a client certificate: then it is the authorization identity
   * EXTERNAL asks for (empty: the key's own login address). */
  username?: string;
  password?: string;
  /** Authorization identity to request (act as another user), if the server allows it. */
  authzid?: string;
  /** A fixed mechanism; default: the best one both sides support (spec 7: EXTERNAL with a
   * client certificate, then SCRAM-SHA-256-PLUS, SCRAM-SHA-256, SCRAM-SHA-1-PLUS, SCRAM-SHA-1,
   * CRAM-MD5, PLAIN, LOGIN). */
  mechanism?: SaslMechanism;
  /** Allow PLAIN/LOGIN over a connection without TLS (sends the password in the clear). Default false. */
  allowPlaintext?: boolean;
}

export interface SmtpClientOptions {
  host: string;
  /** Default 465 for implicit TLS, else 25. */
  port?: number;
  /** Local IP address to connect from. */
  localAddress?: string;
  /** TLS mode; default 'starttls' (secure by default; use 'opportunistic' for MX delivery). */
  tls?: TlsMode;
  /** Name to verify the certificate against and to send as SNI; default `host` (no SNI for an IP). */
  servername?: string;
  /** Trusted CA certificates (PEM), or the server's own certificate; replaces the system CAs. */
  ca?: string | Buffer | (string | Buffer)[];
  /**
   * Accept the server when its public key has this fingerprint (SHA-256 of the SPKI DER,
   * base64url, as in spec 2.1), whatever the certificate chain and names say. Several pins
   * allow key rollover.
   */
  pin?: string | string[];
  /** Do not verify the server at all. Explicit, for tests and self-signed smarthosts. */
  insecure?: boolean;
  /** TLS protocol range; default TLS 1.2 up to the newest (e.g. max 'TLSv1.2' to get tls-unique). */
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
  maxVersion?: 'TLSv1.2' | 'TLSv1.3';
  clientCertificate?: ClientCertificate;
  /** Authenticate after EHLO (and STARTTLS). Without it no AUTH is sent, except EXTERNAL when
   * a client certificate is set and the server offers it. */
  auth?: SmtpAuthOptions;
  /** Our name for EHLO/HELO; default the machine's host name. */
  clientName?: string;
  timeouts?: SmtpTimeouts;
  /** Use BDAT (RFC 3030) when the server offers CHUNKING; default true. */
  chunking?: boolean;
  /** Pipeline MAIL and RCPT commands (RFC 2920) when offered; default true. */
  pipelining?: boolean;
  /** Aborts connecting and any command in progress; the connection is closed. */
  signal?: AbortSignal;
  /** Protocol trace at debug level (commands and replies; AUTH data is never logged). */
  log?: Logger;
}

/** The envelope of one message (RFC 5321 2.3.1). */
export interface Envelope {
  /** Reverse-path; `null` or `''` for the null sender `<>` (bounces, DSNs). */
  from: string | null;
  /** Forward-paths, one per recipient. */
  to: string[];
  /**
   * Whether the content has 8-bit bytes (sends BODY=8BITMIME, RFC 6152). Default: detected for
   * a Buffer; for a stream, detected while sending. Sending 8-bit data to a server without
   * 8BITMIME fails with a 'capability' error rather than being converted: conversion to
   * quoted-printable would break DKIM signatures, and sending it raw violates RFC 6152 3 (mox
   * refuses too). A stream found to be 8-bit half way is aborted by closing the connection.
   */
  eightBit?: boolean;
  /**
   * Request SMTPUTF8 (RFC 6531 3.4). Default: when an address is not ASCII. A server without
   * SMTPUTF8 then fails with a 'capability' error (RFC 6531 3.2: no downgrade).
   */
  smtputf8?: boolean;
  /** Message size in octets for the SIZE parameter (RFC 1870); default the Buffer's length. */
  size?: number;
  /** RFC 8689 REQUIRETLS: sent with MAIL; a server that does not offer it is a 'capability' error. */
  requireTls?: boolean;
  /** RFC 3461 DSN parameters, sent only when the server offers DSN. */
  dsn?: {
    ret?: 'FULL' | 'HDRS';
    envid?: string;
    /** NOTIFY per recipient (all recipients): e.g. ['FAILURE', 'DELAY'] or ['NEVER']. */
    notify?: ('NEVER' | 'SUCCESS' | 'FAILURE' | 'DELAY')[];
  };
}

/** Message content: bytes, text (sent as UTF-8), or a stream of chunks. */
export type MessageSource = Buffer | Uint8Array | string | AsyncIterable<Buffer | Uint8Array | string>;
