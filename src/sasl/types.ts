// Types shared by the SASL mechanisms (RFC 4422). Mechanisms are pure state machines:
// the protocol layer (IMAP AUTHENTICATE, SMTP AUTH) does base64, continuation lines
// and aborts, and hands raw bytes in and out.

import type { StoredCredentials } from '../auth/password.js';
import type { PasswordVerdict } from '../auth/password-verifier.js';

export const SASL_MECHANISMS = [
  'EXTERNAL',
  'SCRAM-SHA-256-PLUS',
  'SCRAM-SHA-256',
  'SCRAM-SHA-1-PLUS',
  'SCRAM-SHA-1',
  'CRAM-MD5',
  'PLAIN',
  'LOGIN',
] as const;

export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

/** Channel-binding data of the TLS connection (tls/channel-binding.ts computes it). */
export interface ChannelBinding {
  type: 'tls-exporter' | 'tls-unique';
  data: Buffer;
}

/** What a server-side mechanism needs from its connection. */
export interface SaslServerContext {
  /** Stored credentials for a login name (already SASL-prepared), or null when unknown. */
  lookup(username: string): Promise<StoredCredentials | null>;
  /**
   * PLAIN and LOGIN: checks a plaintext password (the server's verified-credential cache and hash
   * pool). Absent: scrypt against lookup()'s credentials (credential-check.ts).
   */
  checkPassword?(username: string, password: string): Promise<PasswordVerdict>;
  /** Channel binding of this connection when TLS is up and it could be computed. */
  channelBinding?: ChannelBinding;
  /** Whether the connection is TLS-protected. */
  tls: boolean;
  /** Server secret for deterministic fake SCRAM salts of unknown users (at least 16 bytes). */
  scramFakeSecret: Buffer;
  /** Our host name, used in the CRAM-MD5 challenge (RFC 2195). */
  hostname: string;
}

/**
 * Why an exchange failed. The protocol layer maps all of these to IMAP
 * `NO [AUTHENTICATIONFAILED]` / SMTP `535 5.7.8`, except 'malformed' which may be a
 * syntax error (IMAP `BAD`, SMTP `501 5.5.2`).
 * - 'malformed': the client's message did not parse.
 * - 'bad-credentials': wrong password, or unknown user (deliberately the same).
 * - 'channel-binding-mismatch': SCRAM channel-binding data differ: log as a possible MITM.
 * - 'channel-binding-downgrade': gs2 flag `y` (the client saw no -PLUS offered although we
 *   offer it): someone may have stripped -PLUS; also worth logging.
 * - 'channel-binding-unavailable': -PLUS without TLS or without channel-binding data, or an
 *   unsupported channel-binding type.
 * - 'tls-required': the mechanism needs TLS (EXTERNAL).
 * - 'unavailable': the password could not be checked now (hash pool full): a temporary failure,
 *   IMAP `NO [UNAVAILABLE]`, SMTP `454 4.7.0`.
 */
export type SaslFailureReason =
  | 'malformed'
  | 'bad-credentials'
  | 'channel-binding-mismatch'
  | 'channel-binding-downgrade'
  | 'channel-binding-unavailable'
  | 'tls-required'
  | 'unavailable';

export type SaslStep =
  /** Send `data` to the client (IMAP `+ base64`, SMTP `334 base64`) and pass its answer to step(). */
  | { kind: 'challenge'; data: Buffer }
  /**
   * Authenticated as `authcid` (the login name, SASL-prepared; empty for EXTERNAL) asking to act as
   * `authzid` (empty: none requested). The caller must still check that `authzid` is acceptable.
   * `data` is additional data with success (SCRAM server-final-message, RFC 4422 5 item 4):
   * send it as a last challenge and expect an empty answer when the protocol has no
   * success-with-data (IMAP4rev1, SMTP), before the OK / 235.
   */
  | { kind: 'success'; authcid: string; authzid: string; data?: Buffer }
  /**
   * `detail` is for logs, never for the wire. `authcid` is the attempted login name when known
   * (for login-attempt records). `saslError` is the SCRAM `e=` value and `data` the matching
   * server-final-message, which a server may send before its failure reply.
   */
  | {
      kind: 'failure';
      reason: SaslFailureReason;
      detail: string;
      authcid?: string;
      saslError?: string;
      data?: Buffer;
    };

export interface SaslServer {
  readonly mechanism: SaslMechanism;
  /**
   * Feed the client's message: first call with the initial response, or null when the client
   * sent none (the mechanism then returns its first challenge, possibly empty). After success
   * or failure the exchange is over; further calls return a 'malformed' failure.
   */
  step(response: Buffer | null): Promise<SaslStep>;
}

export interface SaslClientOptions {
  /** Authentication identity (login name). Not used by EXTERNAL. */
  username: string;
  password?: string;
  /** Authorization identity to request; empty or absent for none. For EXTERNAL: the identity to act as. */
  authzid?: string;
  /** Channel binding of the TLS connection when TLS is up. */
  channelBinding?: ChannelBinding;
  /** Whether the server advertised a -PLUS variant (decides gs2 flag `y` vs `n`). */
  serverOffersPlus?: boolean;
}

export interface SaslClient {
  readonly mechanism: SaslMechanism;
  /** Whether the first step(null) yields an initial response (SASL-IR / SMTP AUTH argument). */
  readonly hasInitialResponse: boolean;
  /**
   * Produce the next client message: step(null) for the initial response, then step(challenge)
   * for each server challenge; SCRAM also takes the server-final-message (returns an empty
   * buffer). Throws SaslClientError when the server misbehaves (e.g. bad server signature).
   */
  step(challenge: Buffer | null): Buffer;
  /** True once the mechanism has verified everything it can (SCRAM: the server signature). */
  readonly done: boolean;
}

/** The server sent something the client must not accept. */
export class SaslClientError extends Error {
  override name = 'SaslClientError';
  /** SCRAM `e=` value the server sent, if any. */
  readonly serverError?: string;
  constructor(message: string, serverError?: string) {
    super(message);
    this.serverError = serverError;
  }
}
