// SCRAM server half (RFC 5802, RFC 7677; channel binding RFC 5929, RFC 9266; spec 3.2).
//
// Invariants:
// - An unknown user gets a server-first-message of the same shape as a known one (salt and
//   iteration count derived from scramFakeSecret and the name, stable across attempts), and
//   fails at the proof with the same e=invalid-proof: the user name cannot be probed.
// - Gs2 flag "y" is refused: we always offer -PLUS, so "y" means it was stripped on the way.
// - Channel-binding data and proofs are compared in constant time.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { SCRAM_ITERATIONS, SCRAM_SALT_LENGTH, type StoredScram } from '../auth/password.js';
import { SCRAM_HASH_LENGTH, scramH, scramHmac, type ScramHash } from '../auth/password-scram.js';
import { MIN_SCRAM_CLIENT_NONCE } from './limits.js';
import { decodeUtf8, prepareIdentity } from './saslname.js';
import { parseClientFinal, parseClientFirst, ScramSyntaxError, type ClientFirstMessage, type ScramErrorValue } from './scram-message.js';
import { challenge, EXCHANGE_OVER, failure } from './step.js';
import type { SaslFailureReason, SaslServer, SaslServerContext, SaslStep } from './types.js';

export type ScramMechanism = 'SCRAM-SHA-1' | 'SCRAM-SHA-256' | 'SCRAM-SHA-1-PLUS' | 'SCRAM-SHA-256-PLUS';

export function scramHashOf(mech: ScramMechanism): ScramHash {
  return mech.startsWith('SCRAM-SHA-256') ? 'sha256' : 'sha1';
}

export interface ScramServerOptions {
  /** Fixed server nonce part, for test vectors only. */
  serverNonce?: string;
}

function scramFailure(reason: SaslFailureReason, detail: string, saslError: ScramErrorValue, authcid?: string): SaslStep {
  return failure(reason, detail, { saslError, data: Buffer.from(`e=${saslError}`), ...(authcid === undefined ? {} : { authcid }) });
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] ^ b[i];
  return out;
}

interface Pending {
  first: ClientFirstMessage;
  username: string;
  authzid: string;
  serverFirst: string;
  nonce: string;
  stored: { storedKey: Buffer; serverKey: Buffer } | null;
  fakeStoredKey: Buffer;
}

export function createScramServer(mech: ScramMechanism, ctx: SaslServerContext, options: ScramServerOptions = {}): SaslServer {
  const hash = scramHashOf(mech);
  const plus = mech.endsWith('-PLUS');
  let state: 'start' | 'wait-first' | 'wait-final' | 'done' = 'start';
  let pending: Pending | undefined;

  /** Deterministic per-user fake values from the server secret. */
  function fake(label: string, username: string, length: number): Buffer {
    return createHmac('sha256', ctx.scramFakeSecret).update(`scram-${label}\0${hash}\0${username}`).digest().subarray(0, length);
  }

  async function clientFirst(msg: Buffer): Promise<SaslStep> {
    const text = decodeUtf8(msg);
    if (text === null) return scramFailure('malformed', 'client-first-message is not UTF-8', 'invalid-encoding');
    let first: ClientFirstMessage;
    try {
      first = parseClientFirst(text);
    } catch (e) {
      if (e instanceof ScramSyntaxError) return scramFailure('malformed', e.message, e.saslError);
      throw e;
    }
    // RFC 5802 6: the gs2 flag must agree with the mechanism and with what we support.
    const { cbind } = first;
    if (plus) {
      if (cbind.flag !== 'p') return scramFailure('malformed', `${mech} without channel binding (flag ${cbind.flag})`, 'other-error');
      if (ctx.channelBinding === undefined) {
        return scramFailure('channel-binding-unavailable', 'no channel-binding data for this connection', 'channel-binding-not-supported');
      }
      if (cbind.cbName !== ctx.channelBinding.type) {
        return scramFailure('channel-binding-unavailable', `channel-binding type ${cbind.cbName} not offered`, 'unsupported-channel-binding-type');
      }
    } else if (cbind.flag === 'p') {
      return scramFailure('malformed', `channel binding requested with ${mech}`, 'other-error');
    } else if (cbind.flag === 'y') {
      return scramFailure('channel-binding-downgrade', 'client saw no -PLUS mechanism: possible downgrade by a MITM', 'server-does-support-channel-binding');
    }
    if (first.nonce.length < MIN_SCRAM_CLIENT_NONCE) return scramFailure('malformed', 'client nonce too short', 'other-error');
    const username = prepareIdentity(first.username);
    const authzid = prepareIdentity(first.authzid);
    if (username === null || authzid === null) return scramFailure('malformed', 'invalid characters in identity', 'invalid-username-encoding');

    const creds = await ctx.lookup(username);
    const storedScram: StoredScram | undefined = creds === null ? undefined : hash === 'sha1' ? creds.scramSha1 : creds.scramSha256;
    let salt: Buffer;
    let iterations: number;
    if (storedScram !== undefined) {
      salt = Buffer.from(storedScram.salt, 'base64');
      iterations = storedScram.iterations;
    } else {
      salt = fake('salt', username, SCRAM_SALT_LENGTH);
      iterations = SCRAM_ITERATIONS[hash];
    }
    const nonce = first.nonce + (options.serverNonce ?? randomBytes(18).toString('base64'));
    const serverFirst = `r=${nonce},s=${salt.toString('base64')},i=${iterations}`;
    pending = {
      first,
      username,
      authzid,
      serverFirst,
      nonce,
      stored:
        storedScram === undefined
          ? null
          : { storedKey: Buffer.from(storedScram.storedKey, 'base64'), serverKey: Buffer.from(storedScram.serverKey, 'base64') },
      fakeStoredKey: fake('stored-key', username, SCRAM_HASH_LENGTH[hash]),
    };
    state = 'wait-final';
    return challenge(serverFirst);
  }

  function clientFinal(msg: Buffer, p: Pending): SaslStep {
    const text = decodeUtf8(msg);
    if (text === null) return scramFailure('malformed', 'client-final-message is not UTF-8', 'invalid-encoding', p.username);
    let final;
    try {
      final = parseClientFinal(text);
    } catch (e) {
      if (e instanceof ScramSyntaxError) return scramFailure('malformed', e.message, e.saslError, p.username);
      throw e;
    }
    // RFC 5802 7: c= is base64(gs2-header [cbind-data]); cbind-data only with "p".
    const gs2 = Buffer.from(p.first.gs2Header, 'utf8');
    const expectedCb = plus ? Buffer.concat([gs2, ctx.channelBinding!.data]) : gs2;
    if (final.channelBinding.length !== expectedCb.length || !timingSafeEqual(final.channelBinding, expectedCb)) {
      return scramFailure('channel-binding-mismatch', 'channel-binding data do not match: possible MITM', 'channel-bindings-dont-match', p.username);
    }
    if (final.nonce !== p.nonce) return scramFailure('malformed', 'nonce does not match', 'other-error', p.username);

    // RFC 5802 3: verify the proof by recovering ClientKey and comparing H(ClientKey) to StoredKey.
    const authMessage = `${p.first.bare},${p.serverFirst},${final.withoutProof}`;
    const storedKey = p.stored?.storedKey ?? p.fakeStoredKey;
    const clientSignature = scramHmac(hash, storedKey, authMessage);
    let ok = false;
    if (final.proof.length === clientSignature.length) {
      const computed = scramH(hash, xor(final.proof, clientSignature));
      ok = timingSafeEqual(computed, storedKey) && p.stored !== null;
    }
    if (!ok || p.stored === null) return scramFailure('bad-credentials', 'bad user name or password', 'invalid-proof', p.username);
    const serverSignature = scramHmac(hash, p.stored.serverKey, authMessage);
    return { kind: 'success', authcid: p.username, authzid: p.authzid, data: Buffer.from(`v=${serverSignature.toString('base64')}`) };
  }

  return {
    mechanism: mech,
    async step(response: Buffer | null): Promise<SaslStep> {
      if (state === 'done') return EXCHANGE_OVER;
      if (plus && !ctx.tls) {
        state = 'done';
        return scramFailure('channel-binding-unavailable', `${mech} needs TLS`, 'channel-binding-not-supported');
      }
      if (state === 'start' && response === null) {
        state = 'wait-first';
        return challenge(Buffer.alloc(0));
      }
      const current = state;
      state = 'done'; // every path below either finishes or sets the next state
      if (response === null) return scramFailure('malformed', 'missing response', 'other-error');
      if (current === 'start' || current === 'wait-first') return clientFirst(response);
      return clientFinal(response, pending!);
    },
  };
}
