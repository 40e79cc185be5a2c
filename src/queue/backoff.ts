// When to try again after a temporary failure (RFC 5321 4.5.4.1: retry intervals of at least
// 30 minutes are recommended; we start lower and double, like Postfix's 5 min / 4000 s).

import { FIRST_RETRY_DELAY_MS, MAX_RETRY_DELAY_MS } from './limits.js';

export interface RetryPolicy {
  firstDelayMs: number;
  maxDelayMs: number;
  expiryMs: number;
}

/** Delay before the next attempt, given how many attempts failed so far (1 after the first). */
export function retryDelay(failedAttempts: number, p: Pick<RetryPolicy, 'firstDelayMs' | 'maxDelayMs'> = { firstDelayMs: FIRST_RETRY_DELAY_MS, maxDelayMs: MAX_RETRY_DELAY_MS }): number {
  const n = Math.max(1, failedAttempts);
  // 2^(n-1) overflows to Infinity for large n, which min() caps.
  return Math.min(p.maxDelayMs, p.firstDelayMs * 2 ** (n - 1));
}

/**
 * After a temporary failure: the next attempt time, or null when the message has expired. The
 * last attempt is placed at the expiry time itself, so a message gets its full lifetime.
 */
export function nextAttempt(created: Date, now: Date, failedAttempts: number, p: RetryPolicy): Date | null {
  const expires = created.getTime() + p.expiryMs;
  if (now.getTime() >= expires) return null;
  return new Date(Math.min(now.getTime() + retryDelay(failedAttempts, p), expires));
}
