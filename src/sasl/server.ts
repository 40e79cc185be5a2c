// Creates the server half of a mechanism.

import { createCramMd5Server } from './cram-md5.js';
import { createExternalServer } from './external.js';
import { createLoginServer } from './login.js';
import { createPlainServer } from './plain.js';
import { createScramServer } from './scram-server.js';
import type { SaslMechanism, SaslServer, SaslServerContext } from './types.js';

/**
 * A fresh server-side exchange for `mech`. Whether the mechanism may be used on this connection
 * at all (PLAIN/LOGIN only over TLS, LOGIN only in SMTP) is the caller's check, see
 * serverMechanismAllowed() in mechanisms.ts.
 *
 * @example
 *   const sasl = createSaslServer('SCRAM-SHA-256', ctx);
 *   let step = await sasl.step(initialResponse ?? null);
 *   while (step.kind === 'challenge') step = await sasl.step(await sendChallenge(step.data));
 */
export function createSaslServer(mech: SaslMechanism, ctx: SaslServerContext): SaslServer {
  switch (mech) {
    case 'PLAIN':
      return createPlainServer(ctx);
    case 'LOGIN':
      return createLoginServer(ctx);
    case 'CRAM-MD5':
      return createCramMd5Server(ctx);
    case 'EXTERNAL':
      return createExternalServer(ctx);
    case 'SCRAM-SHA-1':
    case 'SCRAM-SHA-256':
    case 'SCRAM-SHA-1-PLUS':
    case 'SCRAM-SHA-256-PLUS':
      return createScramServer(mech, ctx);
  }
}
