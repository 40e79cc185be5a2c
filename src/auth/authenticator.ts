// The authentication layer the protocol servers call. It resolves a login to an account and session
// user name, applies login-disabled, failure delays and rate limits, and records login attempts.

import type { TLSSocket } from 'node:tls';

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
  | { ok: false; code: AuthFailureCode; message: string };

export interface Authenticator {
  /** LOGIN command, AUTHENTICATE PLAIN/LOGIN, SMTP AUTH PLAIN/LOGIN, web login. */
  passwordLogin(username: string, password: string, conn: ConnInfo, authzid?: string): Promise<AuthResult>;
  /** Whether new connections from this IP are refused because of too many auth failures. */
  isBlocked(ip: string): boolean;
  /** Whether the identity is still valid (key not removed, account not disabled, password unchanged). */
  stillValid(identity: AuthIdentity): Promise<boolean>;
}
