// Constructors for SaslStep values, so every mechanism builds them the same way.

import type { SaslFailureReason, SaslStep } from './types.js';

export function challenge(data: Buffer | string): SaslStep {
  return { kind: 'challenge', data: typeof data === 'string' ? Buffer.from(data, 'utf8') : data };
}

export function failure(
  reason: SaslFailureReason,
  detail: string,
  extra: { authcid?: string; saslError?: string; data?: Buffer } = {},
): SaslStep {
  return { kind: 'failure', reason, detail, ...extra };
}

/** Steps after the exchange ended are a caller bug; answer with a failure rather than throw. */
export const EXCHANGE_OVER: SaslStep = Object.freeze({ kind: 'failure', reason: 'malformed', detail: 'exchange already finished' });
