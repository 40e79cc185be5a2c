// AUTH (RFC 4954) on submission: the SASL exchange over 334 continuations, with the account rules
// of the Authenticator (spec 2.4: on a certificate connection any mechanism must be for the same
// account; a failure keeps the certificate identity).

import { isBase64, R, withText, type Reply, type SmtpCommand } from '../proto/index.js';
import { parseMechanism, serverMechanismAllowed, type SaslStep } from '../../sasl/index.js';
import { AUTH_FAILURES_BEFORE_DELAY, MAX_AUTH_FAILURES } from './limits.js';
import { S } from './replies.js';
import type { SmtpSession } from './session.js';
import { SessionEnd } from './socket-input.js';

const CANCELLED = Symbol('cancelled');

/** Sends a 334 challenge and reads the client's answer: bytes, or CANCELLED for "*". */
async function exchange(s: SmtpSession, data: Buffer): Promise<Buffer | typeof CANCELLED> {
  s.sendRaw(`334 ${data.toString('base64')}\r\n`);
  const ev = await s.nextLine();
  if (ev.type === 'overlong') throw new SessionEnd('protocol', R.lineTooLong);
  const text = ev.line.toString('latin1').trim();
  // RFC 4954 4: "*" cancels the exchange.
  if (text === '*') return CANCELLED;
  // RFC 4954 4 defines "=" for an empty initial response only, but curl (and others) also send it
  // for an empty answer to a 334, e.g. EXTERNAL without an authorization identity: accept it, as
  // Dovecot and Cyrus do (a non-empty base64 string is never just "=").
  if (text === '=') return Buffer.alloc(0);
  if (text !== '' && !isBase64(text)) throw new AuthReply(R.authBadBase64);
  return Buffer.from(text, 'base64');
}

class AuthReply extends Error {
  constructor(readonly reply: Reply) {
    super('auth reply');
  }
}

export async function runAuth(s: SmtpSession, cmd: Extract<SmtpCommand, { verb: 'AUTH' }>): Promise<void> {
  if (!s.policy.requiresAuth) return void s.send(S.authNotAvailable);
  if (!s.helo) return void s.send(R.needEhloFirst);
  if (s.authenticatedByCommand) return void s.send(R.alreadyAuthenticated);
  if (s.tx) return void s.send(S.authInTransaction);
  const mech = parseMechanism(cmd.mechanism);
  if (!mech) return void s.send(R.authMechanismUnsupported);
  const state = { protocol: 'smtp' as const, tls: s.tlsActive, certificateMatched: s.certIdentity !== null };
  // RFC 4954 4 / spec 3.1: PLAIN and LOGIN only over TLS.
  if (!serverMechanismAllowed(mech, state)) return void s.send(R.authEncryptionRequired);

  const conn = s.connInfo();
  const sasl = await s.ctx.auth.saslServer(mech, conn);
  let final: Extract<SaslStep, { kind: 'success' | 'failure' }>;
  try {
    let step = await sasl.step(cmd.initialResponse === undefined ? null : Buffer.from(cmd.initialResponse, 'base64'));
    while (step.kind === 'challenge') {
      const answer = await exchange(s, step.data);
      if (answer === CANCELLED) return void s.send(R.authCancelled);
      step = await sasl.step(answer);
    }
    if (step.kind === 'success' && step.data) {
      // SCRAM server-final-message: SMTP has no success-with-data, so it is a last challenge
      // that the client answers with an empty line (RFC 4954 4).
      const answer = await exchange(s, step.data);
      if (answer === CANCELLED) return void s.send(R.authCancelled);
      if (answer.length) throw new AuthReply(R.authBadBase64);
    }
    if (step.kind === 'failure' && step.data && step.reason.startsWith('channel-binding')) {
      // Spec 3.2 / RFC 5802 7: a channel-binding failure (possible MITM) is explained with the SCRAM
      // e= as a last 334; whatever the client answers ("*" or empty), 535 follows. Not for bad
      // credentials: gsasl cannot parse e=invalid-proof, and a bare 535 keeps unknown users alike.
      s.sendRaw(`334 ${step.data.toString('base64')}\r\n`);
      const ev = await s.nextLine();
      if (ev.type === 'overlong') throw new SessionEnd('protocol', R.lineTooLong);
    }
    final = step;
  } catch (err) {
    if (err instanceof AuthReply) return void s.send(err.reply);
    throw err;
  }

  const result = await s.ctx.auth.saslFinish(mech, final, conn, s.certIdentity);
  if (result.ok) {
    s.authenticatedByCommand = true;
    s.setIdentity(result.identity);
    s.log.info('authenticated', { mech, account: result.identity.accountName, user: result.identity.username });
    return void s.send(R.authSucceeded);
  }
  s.authFailures++;
  s.log.info('authentication failed', { mech, failures: s.authFailures });
  // Spec 3.4: after 3 failures each further attempt waits a step longer.
  const delay = s.ctx.config.authFailureDelayMs * (s.authFailures - AUTH_FAILURES_BEFORE_DELAY);
  if (delay > 0) await new Promise((r) => setTimeout(r, delay));
  if (result.code === 'LIMIT' || s.authFailures >= MAX_AUTH_FAILURES) throw new SessionEnd('protocol', S.tooManyAuthFailures);
  if (result.code === 'UNAVAILABLE') return void s.send(R.authTemporaryFailure);
  if (final.kind === 'failure' && final.reason === 'malformed') return void s.send(withText(R.authBadBase64, 'malformed authentication exchange'));
  s.send(R.authFailed);
}
