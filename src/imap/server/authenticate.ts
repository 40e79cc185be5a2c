// Authentication: STARTTLS, LOGIN and AUTHENTICATE (RFC 9051 6.2, RFC 4959 SASL-IR). The mechanism
// table (sasl/mechanisms.ts), the exchange loop (auth/sasl-exchange.ts) and the attempt policy
// (auth/attempt-policy.ts) are shared with SMTP; here are only IMAP's wire forms: `+ base64`
// continuations, `*` to cancel, SASL-IR `=`, and the NO/BAD/BYE replies.
import type { AuthFailure, AuthIdentity } from '../../auth/authenticator.js';
import { runSaslExchange, type SaslAnswer } from '../../auth/sasl-exchange.js';
import { parseMechanism, serverMechanismAllowed, serverMechanisms, type ServerAuthState } from '../../sasl/mechanisms.js';
import type { CommandOf } from '../proto/types.js';
import type { ImapConnection } from './connection.js';
import type { CommandResult } from './dispatch.js';
import { bad, no, type ImapError } from './errors.js';

function authState(conn: ImapConnection): ServerAuthState {
  return { protocol: 'imap', tls: conn.tls, certificateMatched: conn.certLogin !== null, cleartextAllowed: conn.cleartextAuthAllowed };
}

/** AUTH= capabilities: none before TLS (then LOGINDISABLED, spec 3.1). */
export function availableMechanisms(conn: ImapConnection): string[] {
  return serverMechanisms(authState(conn));
}

function decodeBase64(s: string): Buffer | null {
  if (s === '=') return Buffer.alloc(0);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) return null;
  return Buffer.from(s, 'base64');
}

/** One continuation: `+ base64`, then the client's line (RFC 9051 6.2.2: `*` cancels). */
async function challenge(conn: ImapConnection, data: Buffer): Promise<SaslAnswer> {
  await conn.send(`+ ${data.toString('base64')}\r\n`);
  const line = await conn.readLine();
  if (line === null) return 'closed';
  const text = line.toString('latin1').trim();
  if (text === '*') return 'cancel';
  if (text === '') return Buffer.alloc(0);
  return decodeBase64(text) ?? 'malformed';
}

/**
 * A failed attempt under the shared policy: the reply waits its delay; refused by the budget, over
 * the per-connection maximum or just over the budget, the tagged reply is followed by BYE and a
 * close (SMTP's 421).
 */
async function failed(conn: ImapConnection, tag: string, reply: ImapError, failure: Pick<AuthFailure, 'code' | 'message'>): Promise<CommandResult> {
  // A connection with a known certificate is never ended by the password budget (spec 3.4).
  const wait = conn.certLogin ? 0 : conn.ctx.auth.retryAfterMs(conn.connInfo().ip);
  const next = await conn.attempts.failed(failure, wait);
  if (!next.close) throw reply;
  await conn.send(`${tag} ${reply.status} ${reply.code ? `[${reply.code}] ` : ''}${reply.message}\r\n`);
  await conn.bye(next.closeText);
  return { taggedSent: true };
}

function failureReply(f: AuthFailure): ImapError {
  // RFC 5530: UNAVAILABLE is a temporary refusal; the text says how long to wait.
  if (f.code === 'LIMIT') return no('UNAVAILABLE', f.message);
  return no(f.code, f.message);
}

async function finishLogin(conn: ImapConnection, identity: AuthIdentity): Promise<CommandResult> {
  await conn.loggedIn(identity);
  return { code: `CAPABILITY ${conn.capabilityList().join(' ')}`, text: 'logged in' };
}

/** A cancelled or garbled exchange: counted on the connection (delays, maximum), not in the budget. */
const EXCHANGE_ERROR = { code: 'AUTHENTICATIONFAILED', message: '' } as const;

export async function handleAuthenticate(conn: ImapConnection, cmd: CommandOf<'AUTHENTICATE'>): Promise<CommandResult> {
  const mech = parseMechanism(cmd.mechanism);
  if (!mech) throw no(null, `unsupported authentication mechanism ${cmd.mechanism}`);
  // Spec 3.1: no mechanism before TLS (unless allowed for loopback clients).
  if (!conn.tls && !conn.cleartextAuthAllowed) throw no('PRIVACYREQUIRED', 'authentication is disabled before STARTTLS');
  if (!serverMechanismAllowed(mech, authState(conn))) throw no(null, `unsupported authentication mechanism ${cmd.mechanism}`);
  let initial: Buffer | null = null;
  if (cmd.initialResponse !== null) {
    initial = decodeBase64(cmd.initialResponse);
    if (!initial) return failed(conn, cmd.tag, bad('invalid base64 in initial response'), EXCHANGE_ERROR);
  }
  const out = await runSaslExchange(mech, initial, { challenge: (d) => challenge(conn, d) }, {
    auth: conn.ctx.auth, conn: conn.connInfo(), cert: conn.certLogin?.identity ?? null,
  });
  switch (out.kind) {
    case 'ok':
      return finishLogin(conn, out.identity);
    case 'closed':
      return { taggedSent: true };
    case 'cancelled':
      return failed(conn, cmd.tag, bad('authentication cancelled'), EXCHANGE_ERROR);
    case 'malformed':
      return failed(conn, cmd.tag, bad(out.message), EXCHANGE_ERROR);
    case 'failed':
      return failed(conn, cmd.tag, failureReply(out.failure), out.failure);
  }
}

export async function handleLogin(conn: ImapConnection, cmd: CommandOf<'LOGIN'>): Promise<CommandResult> {
  // RFC 9051 6.2.3 / spec 3.1: LOGINDISABLED before TLS.
  if (!conn.tls && !conn.cleartextAuthAllowed) throw no('PRIVACYREQUIRED', 'LOGIN is disabled before STARTTLS');
  const r = await conn.ctx.auth.passwordLogin(cmd.username, cmd.password, conn.connInfo(), { mechanism: 'LOGIN', cert: conn.certLogin?.identity ?? null });
  if (!r.ok) return failed(conn, cmd.tag, failureReply(r), r);
  return finishLogin(conn, r.identity);
}

export async function handleStartTls(conn: ImapConnection, cmd: CommandOf<'STARTTLS'>): Promise<CommandResult> {
  if (conn.tls) throw bad('TLS is already active');
  if (conn.opts.implicitTls || !conn.opts.tls) throw bad('STARTTLS not available');
  await conn.send(`${cmd.tag} OK begin TLS negotiation now\r\n`);
  conn.startTls();
  return { taggedSent: true };
}
