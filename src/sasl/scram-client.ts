// SCRAM client half (RFC 5802, RFC 7677; spec 3.2 client rules).

import { randomBytes, timingSafeEqual } from 'node:crypto';
import { normalizePassword } from '../auth/password.js';
import { scramHmac, scramKeysFromSaltedPassword, scramSaltedPasswordSync } from '../auth/password-scram.js';
import { MAX_SCRAM_ITERATIONS, MIN_SCRAM_ITERATIONS } from './limits.js';
import { decodeUtf8, escapeSaslname, prepareIdentity } from './saslname.js';
import { parseServerFinal, parseServerFirst, ScramSyntaxError } from './scram-message.js';
import { scramHashOf, type ScramMechanism } from './scram-server.js';
import { SaslClientError, type SaslClient, type SaslClientOptions } from './types.js';

export interface ScramClientOptions {
  /** Fixed client nonce, for test vectors only. */
  clientNonce?: string;
}

function text(buf: Buffer, what: string): string {
  const t = decodeUtf8(buf);
  if (t === null) throw new SaslClientError(`${what} is not UTF-8`);
  return t;
}

export function createScramClient(mech: ScramMechanism, opts: SaslClientOptions, options: ScramClientOptions = {}): SaslClient {
  const hash = scramHashOf(mech);
  const plus = mech.endsWith('-PLUS');
  if (opts.password === undefined) throw new Error(`${mech} needs a password`);
  if (plus && opts.channelBinding === undefined) throw new Error(`${mech} needs channel-binding data (TLS)`);
  const password = normalizePassword(opts.password);
  const username = prepareIdentity(opts.username);
  const authzid = prepareIdentity(opts.authzid ?? '');
  if (username === null || username === '' || authzid === null) throw new Error('invalid characters in user name');

  // RFC 5802 6: "p" for -PLUS; "y" when we could bind but the server offered no -PLUS
  // (lets a server that does support it detect that -PLUS was stripped); else "n".
  const flag = plus
    ? `p=${opts.channelBinding!.type}`
    : opts.channelBinding !== undefined && !opts.serverOffersPlus
      ? 'y'
      : 'n';
  const gs2Header = `${flag},${authzid === '' ? '' : `a=${escapeSaslname(authzid)}`},`;
  const cbindInput = plus ? Buffer.concat([Buffer.from(gs2Header), opts.channelBinding!.data]) : Buffer.from(gs2Header);
  const clientNonce = options.clientNonce ?? randomBytes(18).toString('base64');
  const bare = `n=${escapeSaslname(username)},r=${clientNonce}`;

  let state: 'first' | 'final' | 'verify' | 'done' = 'first';
  let expectedServerSignature: Buffer | undefined;

  return {
    mechanism: mech,
    hasInitialResponse: true,
    get done() {
      return state === 'done';
    },
    step(challengeData: Buffer | null): Buffer {
      switch (state) {
        case 'first':
          // Initial response, or answer to the empty challenge of a server without SASL-IR.
          if (challengeData !== null && challengeData.length > 0) throw new SaslClientError('unexpected challenge before client-first-message');
          state = 'final';
          return Buffer.from(gs2Header + bare, 'utf8');
        case 'final': {
          if (challengeData === null) throw new SaslClientError('expected server-first-message');
          const serverFirstText = text(challengeData, 'server-first-message');
          let sf;
          try {
            sf = parseServerFirst(serverFirstText);
          } catch (e) {
            if (e instanceof ScramSyntaxError) throw new SaslClientError(`bad server-first-message: ${e.message}`);
            throw e;
          }
          if (!sf.nonce.startsWith(clientNonce) || sf.nonce.length === clientNonce.length) {
            throw new SaslClientError('server nonce does not extend ours');
          }
          // RFC 7677 4 / spec 3.2: too few iterations make the stored keys cheap to crack.
          if (sf.iterations < MIN_SCRAM_ITERATIONS) throw new SaslClientError(`server asks for only ${sf.iterations} iterations`);
          if (sf.iterations > MAX_SCRAM_ITERATIONS) throw new SaslClientError(`server asks for ${sf.iterations} iterations`);
          const keys = scramKeysFromSaltedPassword(hash, scramSaltedPasswordSync(hash, password, sf.salt, sf.iterations));
          const withoutProof = `c=${cbindInput.toString('base64')},r=${sf.nonce}`;
          const authMessage = `${bare},${serverFirstText},${withoutProof}`;
          const clientSignature = scramHmac(hash, keys.storedKey, authMessage);
          const proof = Buffer.alloc(clientSignature.length);
          for (let i = 0; i < proof.length; i++) proof[i] = keys.clientKey[i] ^ clientSignature[i];
          expectedServerSignature = scramHmac(hash, keys.serverKey, authMessage);
          state = 'verify';
          return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`, 'utf8');
        }
        case 'verify': {
          if (challengeData === null) throw new SaslClientError('expected server-final-message');
          let sfin;
          try {
            sfin = parseServerFinal(text(challengeData, 'server-final-message'));
          } catch (e) {
            if (e instanceof ScramSyntaxError) throw new SaslClientError(`bad server-final-message: ${e.message}`);
            throw e;
          }
          if ('error' in sfin) throw new SaslClientError(`server refused authentication: ${sfin.error}`, sfin.error);
          const expected = expectedServerSignature!;
          if (sfin.verifier.length !== expected.length || !timingSafeEqual(sfin.verifier, expected)) {
            throw new SaslClientError('bad server signature: the server does not know our credentials (possible MITM)');
          }
          state = 'done';
          return Buffer.alloc(0);
        }
        case 'done':
          throw new SaslClientError('SCRAM exchange already finished');
      }
    },
  };
}
