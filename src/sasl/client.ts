// Creates the client half of a mechanism.

import { createCramMd5Client } from './cram-md5.js';
import { createExternalClient } from './external.js';
import { createLoginClient } from './login.js';
import { createPlainClient } from './plain.js';
import { createScramClient } from './scram-client.js';
import type { SaslClient, SaslClientOptions, SaslMechanism } from './types.js';

/**
 * A fresh client-side exchange. Throws when the options do not fit the mechanism (no
 * password, -PLUS without channel binding).
 *
 * @example
 *   const sasl = createSaslClient('SCRAM-SHA-256', { username, password, channelBinding, serverOffersPlus });
 *   let msg = sasl.hasInitialResponse ? sasl.step(null) : undefined; // send with AUTHENTICATE/AUTH
 *   // for each server challenge: msg = sasl.step(challenge); for SCRAM, also feed the
 *   // server-final-message (sent as a last challenge or with the OK) and check sasl.done.
 */
export function createSaslClient(mech: SaslMechanism, opts: SaslClientOptions): SaslClient {
  switch (mech) {
    case 'PLAIN':
      return createPlainClient(opts);
    case 'LOGIN':
      return createLoginClient(opts);
    case 'CRAM-MD5':
      return createCramMd5Client(opts);
    case 'EXTERNAL':
      return createExternalClient(opts);
    case 'SCRAM-SHA-1':
    case 'SCRAM-SHA-256':
    case 'SCRAM-SHA-1-PLUS':
    case 'SCRAM-SHA-256-PLUS':
      return createScramClient(mech, opts);
  }
}
