// LOGIN (draft-murchison-sasl-login): "Username:" and "Password:" challenges, one answer each.
// SMTP clients may send the user name as initial response (AUTH LOGIN <base64>).

import { checkPassword } from './credential-check.js';
import { MAX_PLAIN_FIELD } from './limits.js';
import { decodeUtf8, prepareIdentity } from './saslname.js';
import { challenge, EXCHANGE_OVER, failure } from './step.js';
import type { SaslClient, SaslClientOptions, SaslServer, SaslServerContext, SaslStep } from './types.js';

export function createLoginServer(ctx: SaslServerContext): SaslServer {
  let state: 'start' | 'username' | 'password' | 'done' = 'start';
  let username = '';
  return {
    mechanism: 'LOGIN',
    async step(response: Buffer | null): Promise<SaslStep> {
      if (state === 'done') return EXCHANGE_OVER;
      if (state === 'start' && response === null) {
        state = 'username';
        return challenge('Username:');
      }
      if (response === null || response.length === 0 || response.length > MAX_PLAIN_FIELD) {
        state = 'done';
        return failure('malformed', 'missing or oversized LOGIN response');
      }
      const text = decodeUtf8(response);
      if (text === null || text.includes('\0')) {
        state = 'done';
        return failure('malformed', 'invalid LOGIN response');
      }
      if (state === 'start' || state === 'username') {
        const prepared = prepareIdentity(text);
        if (prepared === null) return (state = 'done'), failure('malformed', 'invalid characters in user name');
        username = prepared;
        state = 'password';
        return challenge('Password:');
      }
      state = 'done';
      const verdict = await checkPassword(ctx, username, text);
      if (verdict === 'busy') return failure('unavailable', 'password hashing busy', { authcid: username });
      if (verdict !== 'ok') return failure('bad-credentials', 'bad user name or password', { authcid: username });
      return { kind: 'success', authcid: username, authzid: '' };
    },
  };
}

export function createLoginClient(opts: SaslClientOptions): SaslClient {
  if (opts.password === undefined) throw new Error('LOGIN needs a password');
  const password = opts.password;
  let sent = 0;
  return {
    mechanism: 'LOGIN',
    // Not every server takes the user name as initial response; wait for "Username:".
    hasInitialResponse: false,
    get done() {
      return sent === 2;
    },
    step(challengeData: Buffer | null): Buffer {
      if (challengeData === null) throw new Error('LOGIN has no initial response');
      if (sent === 2) throw new Error('LOGIN exchange already finished');
      // The prompts are informational; servers vary ("Username:", "User Name\0"), so go by order.
      sent++;
      return Buffer.from(sent === 1 ? opts.username : password, 'utf8');
    },
  };
}
