// AUTH (RFC 4954) on submission. The mechanism table (sasl/mechanisms.ts), the exchange loop
// (auth/sasl-exchange.ts) and the attempt policy (auth/attempt-policy.ts) are shared with IMAP;
// here are only SMTP's wire forms: `334` challenges, `*` to cancel, and the reply codes. On a
// certificate connection any mechanism must be for the same account, and a failure keeps the
// certificate identity (spec 2.4).

import type { AuthFailure } from '../../auth/authenticator.js';
import { runSaslExchange, type SaslAnswer } from '../../auth/sasl-exchange.js';
import { isBase64, R, withText, type Reply, type SmtpCommand } from '../proto/index.js';
import { parseMechanism, serverMechanismAllowed } from '../../sasl/index.js';
import { S } from './replies.js';
import type { SmtpSession } from './session.js';
import { SessionEnd } from './socket-input.js';

/** Sends a 334 challenge and reads the client's answer. */
async function challenge(s: SmtpSession, data: Buffer): Promise<SaslAnswer> {
  s.sendRaw(`334 ${data.toString('base64')}\r\n`);
  const ev = await s.nextLine();
  if (ev.type === 'overlong') throw new SessionEnd('protocol', R.lineTooLong);
  const text = ev.line.toString('latin1').trim();
  // RFC 4954 4: "*" cancels the exchange.
  if (text === '*') return 'cancel';
  // RFC 4954 4 defines "=" for an empty initial response only, but curl (and others) also send it
  // for an empty answer to a 334, e.g. EXTERNAL without an authorization identity: accept it, as
  // Dovecot and Cyrus do (a non-empty base64 string is never just "=").
  if (text === '=') return Buffer.alloc(0);
  if (text !== '' && !isBase64(text)) return 'malformed';
  return Buffer.from(text, 'base64');
}

/** A cancelled or garbled exchange: counted on the connection (delays, maximum), not in the budget. */
const EXCHANGE_ERROR = { code: 'AUTHENTICATIONFAILED', message: '' } as const;

export async function runAuth(s: SmtpSession, cmd: Extract<SmtpCommand, { verb: 'AUTH' }>): Promise<void> {
  if (!s.policy.requiresAuth) return void s.send(S.authNotAvailable);
  if (!s.helo) return void s.send(R.needEhloFirst);
  if (s.authenticatedByCommand) return void s.send(R.alreadyAuthenticated);
  if (s.tx) return void s.send(S.authInTransaction);
  const mech = parseMechanism(cmd.mechanism);
  // Spec 3.1: before TLS no mechanism at all (538 5.7.11, RFC 4954 6), unless allowed for loopback.
  if (!s.tlsActive && !s.cleartextAuthAllowed) return void s.send(R.authEncryptionRequired);
  if (!mech || !serverMechanismAllowed(mech, s.authState())) return void s.send(R.authMechanismUnsupported);

  let initial: Buffer | null = null;
  if (cmd.initialResponse !== undefined) {
    if (cmd.initialResponse !== '' && !isBase64(cmd.initialResponse)) return failed(s, R.authBadBase64, EXCHANGE_ERROR);
    initial = Buffer.from(cmd.initialResponse, 'base64');
  }
  const out = await runSaslExchange(mech, initial, { challenge: (d) => challenge(s, d) }, {
    auth: s.ctx.auth, conn: s.connInfo(), cert: s.certIdentity, certificateRecorded: s.certIdentity !== null,
  });
  switch (out.kind) {
    case 'ok':
      s.authenticatedByCommand = true;
      s.setIdentity(out.identity);
      s.log.info('authenticated', { mech, account: out.identity.accountName, user: out.identity.username });
      return void s.send(R.authSucceeded);
    case 'closed':
      throw new SessionEnd('closed');
    case 'cancelled':
      return failed(s, R.authCancelled, EXCHANGE_ERROR);
    case 'malformed':
      return failed(s, withText(R.authBadBase64, out.message), EXCHANGE_ERROR);
    case 'failed':
      s.log.info('authentication failed', { mech, reason: out.failure.reason });
      return failed(s, out.failure.code === 'UNAVAILABLE' ? R.authTemporaryFailure : R.authFailed, out.failure);
  }
}

/**
 * A failed attempt under the shared policy: the reply waits its delay; refused by the budget, over
 * the per-connection maximum or just over the budget, 421 and the connection ends (IMAP's BYE).
 */
async function failed(s: SmtpSession, reply: Reply, failure: Pick<AuthFailure, 'code' | 'message'>): Promise<void> {
  // A connection with a known certificate is never ended by the password budget (spec 3.4).
  const wait = s.certIdentity ? 0 : s.ctx.auth.retryAfterMs(s.ip);
  const next = await s.attempts.failed(failure, wait);
  if (next.close) throw new SessionEnd('protocol', S.authRefused(next.closeText));
  s.send(reply);
}
