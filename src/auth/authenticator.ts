// The authentication layer the protocol servers call. It resolves a login to an account and session
// user name, applies login-disabled, failure delays and rate limits, and records login attempts.

import type { TLSSocket } from 'node:tls';
import type { SaslMechanism, SaslServer, SaslStep } from '../sasl/types.js';

export interface ConnInfo {
  protocol: 'imap' | 'smtp' | 'web';
  /** Remote IP address. */
  ip: string;
  /** The TLS socket when the connection is encrypted (for channel binding and client certificates). */
  tls: TLSSocket | null;
  cid: string;
}

export interface AuthIdentity {
  accountId: number;
  accountName: string;
  /** The address used as the session's user name. */
  username: string;
  /** Set when a TLS client certificate authenticated the session. */
  keyFingerprint: string | null;
  /** Auth generation at login: a change means the session must end (spec 2.5). */
  generation: number;
}

export type AuthFailureCode = 'AUTHENTICATIONFAILED' | 'UNAVAILABLE' | 'LIMIT';

export type AuthResult =
  | { ok: true; identity: AuthIdentity }
  /** `disabled`: the credentials were right but the account is login-disabled (web login says so; IMAP/SMTP do not). */
  | { ok: false; code: AuthFailureCode; message: string; disabled?: true };

/** A connection authenticated by its TLS client certificate (spec 2.2). */
export interface CertificateLogin {
  identity: AuthIdentity;
  /** The key's no-IMAP-preauth option (spec 2.3). */
  noImapPreauth: boolean;
}

export interface Authenticator {
  /**
   * The identity of the connection's TLS client certificate: null when there is no certificate or
   * its key is unknown (logged, never an error: spec 2.2), or the account is login-disabled.
   */
  certificateLogin(conn: ConnInfo): Promise<CertificateLogin | null>;
  /** A SASL server exchange for the mechanism on this connection (channel binding from conn.tls). */
  saslServer(mech: SaslMechanism, conn: ConnInfo): Promise<SaslServer>;
  /**
   * Ends a SASL exchange: turns its final step into a session identity, applying the account rules
   * (login-disabled, authorization identity of the same account, and with a certificate identity
   * the same-account rule of spec 2.3/2.4), records the attempt and counts failures.
   */
  saslFinish(mech: SaslMechanism, step: Extract<SaslStep, { kind: 'success' | 'failure' }>, conn: ConnInfo, cert: AuthIdentity | null): Promise<AuthResult>;
  /**
   * LOGIN command, web login, and password mechanisms outside src/sasl. With `cert` (the connection's
   * certificate identity) the password must be for the same account (spec 2.3).
   */
  passwordLogin(username: string, password: string, conn: ConnInfo, authzid?: string, cert?: AuthIdentity | null): Promise<AuthResult>;
  /** Whether new connections from this IP are refused because of too many auth failures. */
  isBlocked(ip: string): boolean;
  /** Whether the identity is still valid (key not removed, account not disabled, password unchanged). */
  stillValid(identity: AuthIdentity): Promise<boolean>;
}
