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

/**
 * How a login attempt ended, as stored in Login attempts (the web explains each to people:
 * api-login-attempts.ts). Control flow uses these codes, never the message text.
 * - ok; badcreds: wrong password or unknown address (deliberately one code);
 * - disabled: the account's logins are disabled;
 * - refused: too many failed password attempts from the client's network (not checked);
 * - wrongaccount: a password for another account than the connection's client certificate (spec 2.3);
 * - badauthzid: the authorization identity is not an address of the account;
 * - channelbinding: SCRAM channel binding did not match (possible interception, spec 3.2);
 * - nocertificate: EXTERNAL without a client certificate whose key is known;
 * - busy: password hashing was at its queue limit (a temporary failure, never recorded).
 */
export type AttemptOutcome = 'ok' | 'badcreds' | 'disabled' | 'refused' | 'wrongaccount' | 'badauthzid' | 'channelbinding' | 'nocertificate' | 'busy';

export interface AuthFailure {
  ok: false;
  code: AuthFailureCode;
  reason: Exclude<AttemptOutcome, 'ok'>;
  message: string;
  /** With code LIMIT: how long until password attempts from this address are taken again. */
  retryAfterMs?: number;
}

export type AuthResult = { ok: true; identity: AuthIdentity } | AuthFailure;

export interface PasswordLoginOptions {
  /** As shown in Login attempts: `LOGIN` (IMAP command), `web password`, ... */
  mechanism: string;
  authzid?: string;
  /** The connection's certificate identity: the password must be for the same account (spec 2.3). */
  cert?: AuthIdentity | null;
}

/** A connection authenticated by its TLS client certificate (spec 2.2). */
export interface CertificateLogin {
  identity: AuthIdentity;
  /** The key's no-IMAP-preauth option (spec 2.3). */
  noImapPreauth: boolean;
}

export interface Authenticator {
  /**
   * The identity of the connection's TLS client certificate: null when there is no certificate or
   * its key is unknown (logged, never an error: spec 2.2), or the account is login-disabled. Never
   * refused by the password-failure budget: a certificate proves possession of its key. Records
   * nothing on success: the protocol records the login where it uses it (recordLogin, or EXTERNAL).
   */
  certificateLogin(conn: ConnInfo): Promise<CertificateLogin | null>;
  /** Records a successful login that needed no exchange (IMAP PREAUTH, SMTP certificate). */
  recordLogin(conn: ConnInfo, mechanism: string, identity: AuthIdentity): Promise<void>;
  /** A SASL server exchange for the mechanism on this connection (channel binding from conn.tls). */
  saslServer(mech: SaslMechanism, conn: ConnInfo): Promise<SaslServer>;
  /**
   * Ends a SASL exchange: turns its final step into a session identity, applying the account rules
   * (login-disabled, authorization identity of the same account, and with a certificate identity
   * the same-account rule of spec 2.3/2.4), records the attempt and counts failures.
   */
  saslFinish(
    mech: SaslMechanism,
    step: Extract<SaslStep, { kind: 'success' | 'failure' }>,
    conn: ConnInfo,
    cert: AuthIdentity | null,
    opts?: { certificateRecorded?: boolean },
  ): Promise<AuthResult>;
  /**
   * IMAP LOGIN and the web's password form. With `cert` (the connection's certificate identity)
   * the password must be for the same account (spec 2.3).
   */
  passwordLogin(username: string, password: string, conn: ConnInfo, opts: PasswordLoginOptions): Promise<AuthResult>;
  /** Whether password attempts (and new connections without a known certificate) from this IP are refused. */
  isBlocked(ip: string): boolean;
  /** How long until isBlocked(ip) turns false (0 when it is). */
  retryAfterMs(ip: string): number;
  /** Whether the identity is still valid (key not removed, account not disabled, password unchanged). */
  stillValid(identity: AuthIdentity): Promise<boolean>;
}
