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
  /** Authentication is allowed without TLS (the loopback setting, auth/limits.ts); default false. */
  cleartextAllowed?: boolean;
}

/** What a mechanism proves with, which decides where it is offered. */
type Proof = 'certificate' | 'channel-binding' | 'secret' | 'password';

interface MechanismRule {
  name: SaslMechanism;
  proof: Proof;
  protocols: readonly ServerAuthState['protocol'][];
}

/**
 * The server's mechanism table (spec 3.1), in advertising order. LOGIN is SMTP only (IMAP has its
 * LOGIN command). The web has no SASL: its password form goes through the same Authenticator.
 */
const SERVER_TABLE: readonly MechanismRule[] = [
  { name: 'EXTERNAL', proof: 'certificate', protocols: ['imap', 'smtp'] },
  { name: 'SCRAM-SHA-256-PLUS', proof: 'channel-binding', protocols: ['imap', 'smtp'] },
  { name: 'SCRAM-SHA-256', proof: 'secret', protocols: ['imap', 'smtp'] },
  { name: 'SCRAM-SHA-1-PLUS', proof: 'channel-binding', protocols: ['imap', 'smtp'] },
  { name: 'SCRAM-SHA-1', proof: 'secret', protocols: ['imap', 'smtp'] },
  { name: 'CRAM-MD5', proof: 'secret', protocols: ['imap', 'smtp'] },
  { name: 'PLAIN', proof: 'password', protocols: ['imap', 'smtp'] },
  { name: 'LOGIN', proof: 'password', protocols: ['smtp'] },
];

/** Before TLS nothing is offered or accepted, unless the loopback setting allows it (spec 3.1). */
function authAllowed(state: ServerAuthState): boolean {
  return state.tls || state.cleartextAllowed === true;
}

/**
 * Mechanisms to advertise, in order: none before TLS (IMAP then shows LOGINDISABLED: the caller's
 * job); EXTERNAL first when a certificate matched; -PLUS only where there is TLS to bind to.
 */
export function serverMechanisms(state: ServerAuthState): SaslMechanism[] {
  if (!authAllowed(state)) return [];
  return SERVER_TABLE.filter((m) => {
    if (!m.protocols.includes(state.protocol)) return false;
    if (m.proof === 'certificate') return state.tls && state.certificateMatched;
    if (m.proof === 'channel-binding') return state.tls;
    return true;
  }).map((m) => m.name);
}

/**
 * Whether a client may start `mech` in this state. Nothing before TLS (unless allowed for loopback;
 * then still nothing that needs TLS).
 * EXTERNAL is allowed whenever TLS is up, so that an unmatched certificate gets the spec's
 * NO [AUTHENTICATIONFAILED] rather than "mechanism not supported" (spec 2.3).
 */
export function serverMechanismAllowed(mech: SaslMechanism, state: ServerAuthState): boolean {
  const rule = SERVER_TABLE.find((m) => m.name === mech);
  if (!rule || !rule.protocols.includes(state.protocol) || !authAllowed(state)) return false;
  // EXTERNAL and -PLUS need TLS (a certificate, a channel to bind to), even with the loopback setting.
  if (rule.proof === 'certificate' || rule.proof === 'channel-binding') return state.tls;
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
