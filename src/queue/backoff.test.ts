import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextAttempt, retryDelay } from './backoff.js';
import { FIRST_RETRY_DELAY_MS, MAX_RETRY_DELAY_MS, QUEUE_EXPIRY_MS } from './limits.js';

const MIN = 60_000;
const policy = { firstDelayMs: FIRST_RETRY_DELAY_MS, maxDelayMs: MAX_RETRY_DELAY_MS, expiryMs: QUEUE_EXPIRY_MS };

describe('retry schedule', () => {
  it('doubles from 7.5 minutes and stops growing at 16 hours', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8, 9, 50, 5000].map((n) => retryDelay(n) / MIN);
    assert.deepEqual(delays, [7.5, 15, 30, 60, 120, 240, 480, 960, 960, 960, 960]);
  });

  it('schedules the last attempt at the expiry time, then gives up', () => {
    const created = new Date('2025-01-01T00:00:00Z');
    const nearEnd = new Date(created.getTime() + QUEUE_EXPIRY_MS - 3600_000);
    assert.equal(nextAttempt(created, nearEnd, 9, policy)?.getTime(), created.getTime() + QUEUE_EXPIRY_MS);
    assert.equal(nextAttempt(created, new Date(created.getTime() + QUEUE_EXPIRY_MS), 10, policy), null);
    const early = new Date(created.getTime() + 60_000);
    assert.equal(nextAttempt(created, early, 1, policy)?.getTime(), early.getTime() + 7.5 * MIN);
  });
});
