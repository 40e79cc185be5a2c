// Which mechanisms a server advertises and accepts (spec 3.1, 2.3, 2.4), and which one a
// client picks (spec 7).

import { SASL_MECHANISMS, type SaslMechanism } from './types.js';

/** Parses a mechanism name case-insensitively (RFC 4422 3.1); null when we do not implement it. */
export function parseMechanism(name: string): SaslMechanism | null {
  const upper = name.toUpperCase();
  return (SASL_MECHANISMS as readonly string[]).includes(upper) ? (upper as SaslMechanism) : null;
}

export interface ServerAuthState {
  protocol: 'imap' | 'smtp';
  /** TLS is up on this connection. */
  tls: boolean;
  /** The TLS client certificate's key matched a stored key (spec 2.3/2.4). */
  certificateMatched: boolean;
}

/**
 * Mechanisms to advertise, in order. EXTERNAL first when a certificate matched; SCRAM and its
 * -PLUS variants always (showing -PLUS without TLS lets clients notice stripping); CRAM-MD5
 * always (it never reveals the password); PLAIN and LOGIN only over TLS, LOGIN only in SMTP
 * (spec 3.1). Before TLS, IMAP also shows LOGINDISABLED: the caller's job.
 */
export function serverMechanisms(state: ServerAuthState): SaslMechanism[] {
  const out: SaslMechanism[] = [];
  if (state.tls && state.certificateMatched) out.push('EXTERNAL');
  out.push('SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-1', 'CRAM-MD5');
  if (state.tls) {
    out.push('PLAIN');
    if (state.protocol === 'smtp') out.push('LOGIN');
  }
  return out;
}

/**
 * Whether a client may start `mech` in this state. EXTERNAL is allowed whenever TLS is up, so
 * that an unmatched certificate gets the spec's NO [AUTHENTICATIONFAILED] rather than a
 * "mechanism not supported"; -PLUS is accepted without TLS and then fails inside the mechanism.
 */
export function serverMechanismAllowed(mech: SaslMechanism, state: ServerAuthState): boolean {
  if (mech === 'EXTERNAL') return true; // the mechanism itself fails without TLS or a key
  if (mech === 'PLAIN') return state.tls;
  if (mech === 'LOGIN') return state.tls && state.protocol === 'smtp';
  return true;
}

/** Client preference, best first (spec 7). LOGIN is a last resort for old servers. */
export const CLIENT_PREFERENCE: readonly SaslMechanism[] = [
  'EXTERNAL',
  'SCRAM-SHA-256-PLUS',
  'SCRAM-SHA-256',
  'SCRAM-SHA-1-PLUS',
  'SCRAM-SHA-1',
  'CRAM-MD5',
  'PLAIN',
  'LOGIN',
];

export interface ClientAuthState {
  /** Mechanism names the server advertised (any case; unknown ones are ignored). */
  offered: readonly string[];
  tls: boolean;
  /** Channel-binding data could be computed for this TLS connection. */
  channelBinding: boolean;
  /** A client certificate is configured. */
  clientCertificate: boolean;
  /** A password is configured. */
  password: boolean;
  /** Allow PLAIN/LOGIN without TLS (sending the password in the clear); default false. */
  allowPlaintextWithoutTls?: boolean;
}

/** True when the server advertised any -PLUS variant: the client's gs2 flag is then `n`, not `y`. */
export function serverOffersPlus(offered: readonly string[]): boolean {
  return offered.some((m) => /^SCRAM-.*-PLUS$/i.test(m));
}

/** The best mechanism both sides can use, or null. */
export function chooseClientMechanism(state: ClientAuthState): SaslMechanism | null {
  const offered = new Set(state.offered.map((m) => m.toUpperCase()));
  for (const mech of CLIENT_PREFERENCE) {
    if (!offered.has(mech)) continue;
    if (mech === 'EXTERNAL') {
      if (state.tls && state.clientCertificate) return mech;
      continue;
    }
    if (!state.password) continue;
    if (mech.endsWith('-PLUS') && !(state.tls && state.channelBinding)) continue;
    if ((mech === 'PLAIN' || mech === 'LOGIN') && !state.tls && !state.allowPlaintextWithoutTls) continue;
    return mech;
  }
  return null;
}
