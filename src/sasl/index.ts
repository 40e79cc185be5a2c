// Public API of the SASL mechanisms.

export type {
  ChannelBinding,
  SaslClient,
  SaslClientOptions,
  SaslFailureReason,
  SaslMechanism,
  SaslServer,
  SaslServerContext,
  SaslStep,
} from './types.js';
export { SASL_MECHANISMS, SaslClientError } from './types.js';
export { createSaslServer } from './server.js';
export { createSaslClient } from './client.js';
export {
  CLIENT_PREFERENCE,
  chooseClientMechanism,
  parseMechanism,
  serverMechanismAllowed,
  serverMechanisms,
  serverOffersPlus,
  type ClientAuthState,
  type ServerAuthState,
} from './mechanisms.js';
export { MAX_SASL_MESSAGE } from './limits.js';
