// PLAIN (RFC 4616): message = [authzid] NUL authcid NUL passwd, all UTF-8.

import { checkPassword } from './credential-check.js';
import { MAX_PLAIN_FIELD, MAX_SASL_MESSAGE } from './limits.js';
import { decodeUtf8, prepareIdentity } from './saslname.js';
import { challenge, EXCHANGE_OVER, failure } from './step.js';
import type { SaslClient, SaslClientOptions, SaslServer, SaslServerContext, SaslStep } from './types.js';

/** Pure parse of a PLAIN message; null when malformed. */
export function parsePlainMessage(msg: Buffer): { authzid: string; authcid: string; password: string } | null {
  if (msg.length > MAX_SASL_MESSAGE) return null;
  const first = msg.indexOf(0);
  const second = first < 0 ? -1 : msg.indexOf(0, first + 1);
  if (second < 0 || msg.indexOf(0, second + 1) >= 0) return null; // exactly two NULs
  const fields = [msg.subarray(0, first), msg.subarray(first + 1, second), msg.subarray(second + 1)];
  // RFC 4616 2: authcid and passwd are non-empty; each field at most 255 octets.
  if (fields[1].length === 0 || fields[2].length === 0) return null;
  if (fields.some((f) => f.length > MAX_PLAIN_FIELD)) return null;
  const [authzid, authcid, password] = fields.map(decodeUtf8);
  if (authzid === null || authcid === null || password === null) return null;
  return { authzid, authcid, password };
}

export function createPlainServer(ctx: SaslServerContext): SaslServer {
  let state: 'start' | 'wait' | 'done' = 'start';
  return {
    mechanism: 'PLAIN',
    async step(response: Buffer | null): Promise<SaslStep> {
      if (state === 'done') return EXCHANGE_OVER;
      if (response === null) {
        if (state === 'wait') return (state = 'done'), failure('malformed', 'missing response');
        state = 'wait';
        return challenge(Buffer.alloc(0)); // RFC 4616 2: empty challenge when no initial response
      }
      state = 'done';
      const parsed = parsePlainMessage(response);
      if (parsed === null) return failure('malformed', 'malformed PLAIN message');
      const authcid = prepareIdentity(parsed.authcid);
      const authzid = prepareIdentity(parsed.authzid);
      if (authcid === null || authzid === null) return failure('malformed', 'invalid characters in identity');
      const verdict = await checkPassword(ctx, authcid, parsed.password);
      if (verdict === 'busy') return failure('unavailable', 'password hashing busy', { authcid });
      if (verdict !== 'ok') return failure('bad-credentials', 'bad user name or password', { authcid });
      return { kind: 'success', authcid, authzid };
    },
  };
}

export function createPlainClient(opts: SaslClientOptions): SaslClient {
  if (opts.password === undefined) throw new Error('PLAIN needs a password');
  const password = opts.password;
  let done = false;
  return {
    mechanism: 'PLAIN',
    hasInitialResponse: true,
    get done() {
      return done;
    },
    step(challengeData: Buffer | null): Buffer {
      if (done) throw new Error('PLAIN exchange already finished');
      // step(null) is the initial response; an (empty) challenge gets the same message.
      if (challengeData !== null && challengeData.length > 0) throw new Error('unexpected PLAIN challenge');
      done = true;
      return Buffer.concat([
        Buffer.from(opts.authzid ?? '', 'utf8'),
        Buffer.of(0),
        Buffer.from(opts.username, 'utf8'),
        Buffer.of(0),
        Buffer.from(password, 'utf8'),
      ]);
    },
  };
}
