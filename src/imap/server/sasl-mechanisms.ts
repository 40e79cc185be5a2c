// SASL mechanisms for AUTHENTICATE, backed by src/sasl through the Authenticator (spec 2.3, 3.1):
// SCRAM-SHA-256(-PLUS), SCRAM-SHA-1(-PLUS), CRAM-MD5, PLAIN and EXTERNAL. The account rules (same
// account as the certificate, authorization identity, login-disabled) live in the Authenticator.

import { serverMechanismAllowed, serverMechanisms } from '../../sasl/mechanisms.js';
import type { SaslMechanism, SaslServer } from '../../sasl/types.js';
import { registerSaslMechanism, type ImapSaslMechanism, type MechanismFactory } from './authenticate.js';
import type { ImapConnection } from './connection.js';

function authState(conn: ImapConnection) {
  return { protocol: 'imap' as const, tls: conn.tls, certificateMatched: conn.certLogin !== null };
}

function factory(mech: SaslMechanism): MechanismFactory {
  return {
    // Advertised per spec 3.1; EXTERNAL only with a matched key. serverMechanismAllowed also lets a
    // client start EXTERNAL without one, so that it gets NO [AUTHENTICATIONFAILED] (spec 2.3).
    available: (conn) => serverMechanisms(authState(conn)).includes(mech),
    create: (conn): ImapSaslMechanism => {
      let server: SaslServer | null = null;
      return {
        async step(response) {
          server ??= await conn.ctx.auth.saslServer(mech, conn.connInfo());
          const s = await server.step(response);
          if (s.kind === 'challenge') return s;
          if (s.kind === 'failure' && s.reason === 'malformed') return { kind: 'failure', code: 'MALFORMED', message: 'malformed SASL message' };
          const r = await conn.ctx.auth.saslFinish(mech, s, conn.connInfo(), conn.certLogin?.identity ?? null);
          // A channel-binding failure (possible MITM, spec 3.2) tells the client why with the SCRAM
          // e= (RFC 5802 7); bad credentials do not: gsasl cannot parse e=invalid-proof, and a plain
          // NO keeps unknown users and wrong passwords alike.
          const why = s.kind === 'failure' && s.reason.startsWith('channel-binding') ? s.data : undefined;
          if (!r.ok) return { kind: 'failure', code: r.code, message: r.message, ...(why && { data: why }) };
          return { kind: 'success', identity: r.identity, data: s.kind === 'success' ? s.data : undefined };
        },
      };
    },
  };
}

/** Whether a client may start the mechanism now (used for the "unsupported mechanism" answer). */
export function mechanismUsable(conn: ImapConnection, mech: SaslMechanism): boolean {
  return serverMechanismAllowed(mech, authState(conn));
}

// Registered in the order they are advertised; PLAIN replaces the password-only PLAIN of
// authenticate.ts so that it, too, follows the same-account rule on certificate connections.
for (const mech of ['EXTERNAL', 'SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-1', 'CRAM-MD5', 'PLAIN'] as const) {
  registerSaslMechanism(mech, factory(mech));
}
