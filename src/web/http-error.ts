// An error answered to the client as JSON: HTTP status, a stable code and a message meant for the
// user, and the request field it is about (so the page can show it next to that field).

import { retryAfterSeconds } from '../auth/attempt-policy.js';

export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    /** With 429: seconds until the client may try again (Retry-After, RFC 9110 10.2.3). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** 429 for a password attempt refused by the failure budget (spec 3.4): how long, in header and text. */
export function tooManyFailures(failure: { message: string; retryAfterMs?: number }): HttpError {
  return new HttpError(429, 'blocked', failure.message, undefined, retryAfterSeconds(failure.retryAfterMs ?? 60_000));
}

/** 503 when password hashing is at its queue limit (auth/hash-pool.ts): busy, not a wrong password. */
export function hashingBusy(): HttpError {
  return new HttpError(503, 'unavailable', 'the server is busy checking passwords; try again in a moment');
}
