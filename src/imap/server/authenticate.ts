// Authentication: STARTTLS, LOGIN and AUTHENTICATE (RFC 9051 6.2, RFC 4959 SASL-IR).
// The seam for SASL: a mechanism is an object with step(response) (see ImapSaslMechanism); the
// exchange (base64, `+` continuations, `*` abort, SASL-IR `=`) lives in runSaslExchange. Mechanisms
// are looked up in `mechanismFactories`; PLAIN is built on ctx.auth.passwordLogin here, and the
// lead can register SCRAM/CRAM-MD5/EXTERNAL adapters with registerSaslMechanism().
import type { AuthFailureCode, AuthIdentity } from '../../auth/authenticator.js';
import type { Command, CommandOf } from '../proto/types.js';
import type { ImapConnection } from './connection.js';
import type { CommandResult } from './dispatch.js';
import { bad, no } from './errors.js';

export type SaslOutcome =
  | { kind: 'challenge'; data: Buffer }
  /** `data`: additional data with success, sent as a final challenge (RFC 4422 5). */
  | { kind: 'success'; identity: AuthIdentity; data?: Buffer }
  /** `data`: a SCRAM server-final-message with `e=` (RFC 5802 7), sent as a last challenge before the NO. */
  | { kind: 'failure'; code: AuthFailureCode | 'MALFORMED'; message: string; data?: Buffer };

export interface ImapSaslMechanism {
  step(response: Buffer | null): Promise<SaslOutcome>;
}

export interface MechanismFactory {
  /** Whether the mechanism may be offered and used on this connection now. */
  available(conn: ImapConnection): boolean;
  create(conn: ImapConnection): ImapSaslMechanism;
}

/** PLAIN (RFC 4616): [authzid] NUL authcid NUL passwd, verified by the Authenticator. Over TLS only (spec 3.1). */
const plain: MechanismFactory = {
  available: (conn) => conn.tls,
  create: (conn) => {
    let done = false;
    return {
      async step(response) {
        if (done) return { kind: 'failure', code: 'MALFORMED', message: 'exchange over' };
        if (response === null) return { kind: 'challenge', data: Buffer.alloc(0) };
        done = true;
        const fields = response.toString('utf8').split('\0');
        if (fields.length !== 3 || !fields[1] || !fields[2]) return { kind: 'failure', code: 'MALFORMED', message: 'malformed PLAIN message' };
        const r = await conn.ctx.auth.passwordLogin(fields[1], fields[2], conn.connInfo(), fields[0] || undefined);
        return r.ok ? { kind: 'success', identity: r.identity } : { kind: 'failure', code: r.code, message: r.message };
      },
    };
  },
};

const mechanismFactories = new Map<string, MechanismFactory>([['PLAIN', plain]]);

/** Adds or replaces a mechanism (upper-case name), e.g. SCRAM-SHA-256 backed by src/sasl. */
export function registerSaslMechanism(name: string, factory: MechanismFactory): void {
  mechanismFactories.set(name.toUpperCase(), factory);
}

export function availableMechanisms(conn: ImapConnection): string[] {
  return [...mechanismFactories].filter(([, f]) => f.available(conn)).map(([n]) => n);
}

function decodeBase64(s: string): Buffer | null {
  if (s === '=') return Buffer.alloc(0);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) return null;
  return Buffer.from(s, 'base64');
}

/** Runs a SASL exchange; returns the identity, or throws the NO/BAD to answer with. */
export async function runSaslExchange(conn: ImapConnection, mech: ImapSaslMechanism, initialResponse: string | null): Promise<AuthIdentity> {
  let response: Buffer | null = null;
  if (initialResponse !== null) {
    response = decodeBase64(initialResponse);
    if (!response) throw bad('invalid base64 in initial response');
  }
  let outcome = await mech.step(response);
  for (;;) {
    if (outcome.kind === 'failure') {
      if (outcome.code === 'MALFORMED') throw bad(outcome.message);
      if (outcome.data) {
        // RFC 5802 7: the server-error tells the client why (e.g. channel-bindings-dont-match); the
        // client answers (empty or "*") and the NO follows whatever it says, as mox does.
        await conn.send(`+ ${outcome.data.toString('base64')}\r\n`);
        if ((await conn.readLine()) === null) throw no(null, 'connection closed');
      }
      throw no(outcome.code, 'authentication failed');
    }
    const challengeData = outcome.kind === 'challenge' ? outcome.data : outcome.data;
    if (outcome.kind === 'success' && !challengeData) return outcome.identity;
    await conn.send(`+ ${challengeData!.toString('base64')}\r\n`);
    const line = await conn.readLine();
    if (line === null) throw no(null, 'connection closed');
    const text = line.toString('latin1').trim();
    // RFC 9051 6.2.2: "*" cancels the exchange.
    if (text === '*') throw bad('authentication cancelled');
    const resp = text === '' ? Buffer.alloc(0) : decodeBase64(text);
    if (!resp) throw bad('invalid base64 in response');
    if (outcome.kind === 'success') {
      // The client acknowledged the additional data with an empty response.
      if (resp.length) throw bad('expected an empty response');
      return outcome.identity;
    }
    outcome = await mech.step(resp);
  }
}

/**
 * A failed attempt: after 3 on this connection each further one is answered 1 s (config
 * authFailureDelayMs) later than the previous (spec 3.4); over the failed-auth limit the tagged NO
 * is followed by BYE and a close, like SMTP's 421.
 */
async function failed(conn: ImapConnection, tag: string, err: unknown): Promise<CommandResult> {
  conn.authFailures++;
  const over = conn.authFailures - 3;
  const step = conn.ctx.config.authFailureDelayMs ?? 1000;
  if (over > 0 && step > 0) await new Promise((r) => setTimeout(r, Math.min(over * step, 15_000)));
  if (conn.ctx.auth.isBlocked(conn.connInfo().ip)) {
    await conn.send(`${tag} NO [AUTHENTICATIONFAILED] authentication failed\r\n`);
    await conn.bye('too many auth failures');
    return { taggedSent: true };
  }
  throw err;
}

async function finishLogin(conn: ImapConnection, identity: AuthIdentity): Promise<CommandResult> {
  conn.loggedIn(identity);
  return { code: `CAPABILITY ${conn.capabilityList().join(' ')}`, text: 'logged in' };
}

export async function handleAuthenticate(conn: ImapConnection, cmd: CommandOf<'AUTHENTICATE'>): Promise<CommandResult> {
  const factory = mechanismFactories.get(cmd.mechanism);
  if (cmd.mechanism === 'EXTERNAL' && conn.certLogin === null) {
    // Spec 2.3: without TLS, or without a certificate whose key we know, EXTERNAL fails like a
    // bad credential (not "unsupported"), and counts as a failed attempt.
    const r = await conn.ctx.auth.saslFinish('EXTERNAL', { kind: 'success', authcid: '', authzid: '' }, conn.connInfo(), null);
    return failed(conn, cmd.tag, no(r.ok ? 'AUTHENTICATIONFAILED' : r.code, 'authentication failed'));
  }
  if (!factory || !factory.available(conn)) {
    if (factory && !conn.tls) throw no('PRIVACYREQUIRED', `${cmd.mechanism} needs TLS; use STARTTLS first`);
    throw no(null, `unsupported authentication mechanism ${cmd.mechanism}`);
  }
  try {
    const identity = await runSaslExchange(conn, factory.create(conn), cmd.initialResponse);
    return await finishLogin(conn, identity);
  } catch (err) {
    return failed(conn, cmd.tag, err);
  }
}

export async function handleLogin(conn: ImapConnection, cmd: CommandOf<'LOGIN'>): Promise<CommandResult> {
  // RFC 9051 6.2.3 / spec 3.1: LOGINDISABLED before TLS.
  if (!conn.tls) throw no('PRIVACYREQUIRED', 'LOGIN is disabled before STARTTLS');
  const r = await conn.ctx.auth.passwordLogin(cmd.username, cmd.password, conn.connInfo(), undefined, conn.certLogin?.identity ?? null);
  if (!r.ok) return failed(conn, cmd.tag, no(r.code, 'authentication failed'));
  return finishLogin(conn, r.identity);
}

export async function handleStartTls(conn: ImapConnection, cmd: CommandOf<'STARTTLS'>): Promise<CommandResult> {
  if (conn.tls) throw bad('TLS is already active');
  if (conn.opts.implicitTls || !conn.opts.tls) throw bad('STARTTLS not available');
  await conn.send(`${cmd.tag} OK begin TLS negotiation now\r\n`);
  conn.startTls();
  return { taggedSent: true };
}
