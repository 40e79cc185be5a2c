// The SASL exchange loop (RFC 4422 3), one shape for IMAP AUTHENTICATE and SMTP AUTH: the protocol
// supplies how a challenge goes out and an answer comes back (IMAP `+`, SMTP `334`; base64 and `*`
// are its business), and maps the outcome to its replies.

import type { SaslMechanism, SaslStep } from '../sasl/types.js';
import type { AuthFailure, AuthIdentity, Authenticator, ConnInfo } from './authenticator.js';

/** The client's answer to a challenge: its bytes, or why there are none. */
export type SaslAnswer = Buffer | 'cancel' | 'malformed' | 'closed';

export interface SaslWire {
  /** Sends `data` as a challenge and returns the client's answer. */
  challenge(data: Buffer): Promise<SaslAnswer>;
}

export type ExchangeOutcome =
  | { kind: 'ok'; identity: AuthIdentity }
  /** The client cancelled (`*`), or the connection ended: not an attempt. */
  | { kind: 'cancelled' | 'closed' }
  /** The client's message did not parse (bad base64, or a mechanism message that does not parse). */
  | { kind: 'malformed'; message: string }
  | { kind: 'failed'; failure: AuthFailure };

export interface ExchangeOptions {
  auth: Authenticator;
  conn: ConnInfo;
  /** The connection's certificate identity (the same-account rule, spec 2.3/2.4). */
  cert: AuthIdentity | null;
  /** The certificate login was already recorded on this connection (SMTP): one row per login. */
  certificateRecorded?: boolean;
}

/** Runs one exchange for `mech` from the client's initial response (null: none sent). */
export async function runSaslExchange(mech: SaslMechanism, initial: Buffer | null, wire: SaslWire, o: ExchangeOptions): Promise<ExchangeOutcome> {
  const sasl = await o.auth.saslServer(mech, o.conn);
  let step: SaslStep = await sasl.step(initial);
  while (step.kind === 'challenge') {
    const answer = await wire.challenge(step.data);
    if (!Buffer.isBuffer(answer)) return answerOutcome(answer);
    step = await sasl.step(answer);
  }
  if (step.kind === 'failure' && step.reason === 'malformed') return { kind: 'malformed', message: 'malformed authentication exchange' };
  if (step.kind === 'failure' && step.data && step.reason.startsWith('channel-binding')) {
    // Spec 3.2 / RFC 5802 7: a channel-binding failure (possible interception) is explained with the
    // SCRAM e= as a last challenge; whatever the client answers, the failure follows. Not for bad
    // credentials: gsasl cannot parse e=invalid-proof, and a bare failure keeps unknown users alike.
    if ((await wire.challenge(step.data)) === 'closed') return { kind: 'closed' };
  }
  const result = await o.auth.saslFinish(mech, step, o.conn, o.cert, { certificateRecorded: o.certificateRecorded });
  if (!result.ok) return { kind: 'failed', failure: result };
  if (step.kind === 'success' && step.data) {
    // SCRAM server-final-message: neither SMTP nor IMAP4rev1 has success with data, so it goes as
    // a last challenge that the client acknowledges with an empty answer (RFC 4954 4, RFC 9051 6.2.2).
    const answer = await wire.challenge(step.data);
    if (!Buffer.isBuffer(answer)) return answerOutcome(answer);
    if (answer.length > 0) return { kind: 'malformed', message: 'expected an empty response' };
  }
  return { kind: 'ok', identity: result.identity };
}

function answerOutcome(answer: Exclude<SaslAnswer, Buffer>): ExchangeOutcome {
  if (answer === 'malformed') return { kind: 'malformed', message: 'invalid base64 in response' };
  return { kind: answer === 'cancel' ? 'cancelled' : 'closed' };
}
