import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authAllowedWithoutTls, ConnectionAttempts, refusedMessage } from './attempt-policy.js';
import { DEFAULT_AUTH_LIMITS } from './limits.js';

const FAIL = { code: 'AUTHENTICATIONFAILED', message: 'authentication failed' } as const;

test('per connection: no delay for the first failures, then one step more each, capped; closed at the maximum', async () => {
  const slept: number[] = [];
  const a = new ConnectionAttempts({ ...DEFAULT_AUTH_LIMITS, maxDelayMs: 3500 }, async (ms) => void slept.push(ms));
  const closes: boolean[] = [];
  for (let i = 0; i < 10; i++) closes.push((await a.failed(FAIL, 0)).close);
  // Failures 4..9 wait 1, 2, 3, then the 3.5 s cap; the 10th closes the connection.
  assert.deepEqual(slept, [1000, 2000, 3000, 3500, 3500, 3500, 3500]);
  assert.deepEqual(closes, [false, false, false, false, false, false, false, false, false, true]);
});

test('a budget refusal closes at once without a delay; crossing the budget closes after the delay', async () => {
  const slept: number[] = [];
  const a = new ConnectionAttempts({ ...DEFAULT_AUTH_LIMITS, failuresBeforeDelay: 0 }, async (ms) => void slept.push(ms));
  const refused = await a.failed({ code: 'LIMIT', message: refusedMessage(30_000) }, 30_000);
  assert.deepEqual(refused, { close: true, closeText: 'too many failed logins from your network; try again in 30 seconds' });
  assert.deepEqual(slept, []);
  const crossed = await a.failed(FAIL, 90_500);
  assert.deepEqual(crossed, { close: true, closeText: 'too many failed logins from your network; try again in 91 seconds' });
  assert.deepEqual(slept, [2000]);
  assert.match(refusedMessage(3600_000), /try again in 60 minutes$/);
});

test('authentication without TLS only from loopback, and only with the setting', () => {
  const on = { ...DEFAULT_AUTH_LIMITS, cleartextFromLoopback: true };
  assert.equal(authAllowedWithoutTls(DEFAULT_AUTH_LIMITS, '127.0.0.1'), false);
  assert.equal(authAllowedWithoutTls(on, '127.0.0.1'), true);
  assert.equal(authAllowedWithoutTls(on, '::ffff:127.0.0.9'), true);
  assert.equal(authAllowedWithoutTls(on, '::1'), true);
  assert.equal(authAllowedWithoutTls(on, '192.0.2.1'), false);
  assert.equal(authAllowedWithoutTls(on, '::ffff:192.0.2.1'), false);
});
