// EXTERNAL (RFC 4422 appendix A): the identity comes from outside SASL, here the TLS client
// certificate. The message is only the requested authorization identity (may be empty).
// The caller decides whether the certificate's account may act as it (spec 2.3).

import { MAX_PLAIN_FIELD } from './limits.js';
import { decodeUtf8, prepareIdentity } from './saslname.js';
import { challenge, EXCHANGE_OVER, failure } from './step.js';
import type { SaslClient, SaslClientOptions, SaslServer, SaslServerContext, SaslStep } from './types.js';

export function createExternalServer(ctx: SaslServerContext): SaslServer {
  let state: 'start' | 'wait' | 'done' = 'start';
  return {
    mechanism: 'EXTERNAL',
    async step(response: Buffer | null): Promise<SaslStep> {
      if (state === 'done') return EXCHANGE_OVER;
      if (!ctx.tls) return (state = 'done'), failure('tls-required', 'EXTERNAL needs a TLS client certificate');
      if (response === null) {
        if (state === 'wait') return (state = 'done'), failure('malformed', 'missing response');
        state = 'wait';
        return challenge(Buffer.alloc(0));
      }
      state = 'done';
      if (response.length > MAX_PLAIN_FIELD) return failure('malformed', 'authorization identity too long');
      const text = decodeUtf8(response);
      const authzid = text === null || text.includes('\0') ? null : prepareIdentity(text);
      if (authzid === null) return failure('malformed', 'invalid authorization identity');
      return { kind: 'success', authcid: '', authzid };
    },
  };
}

export function createExternalClient(opts: Pick<SaslClientOptions, 'authzid'>): SaslClient {
  let done = false;
  return {
    mechanism: 'EXTERNAL',
    hasInitialResponse: true,
    get done() {
      return done;
    },
    step(challengeData: Buffer | null): Buffer {
      if (done) throw new Error('EXTERNAL exchange already finished');
      if (challengeData !== null && challengeData.length > 0) throw new Error('unexpected EXTERNAL challenge');
      done = true;
      return Buffer.from(opts.authzid ?? '', 'utf8');
    },
  };
}
