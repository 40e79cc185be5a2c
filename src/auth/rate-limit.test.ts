import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FailureLimiter, subnetKeys } from './rate-limit.js';

test('subnet keys for IPv4 and IPv6', () => {
  assert.deepEqual(subnetKeys('10.1.2.3'), ['a010203/32', 'a010200/26', 'a010000/21']);
  assert.deepEqual(subnetKeys('10.1.2.200'), ['a0102c8/32', 'a0102c0/26', 'a010000/21']);
  const [a, b, c] = subnetKeys('2001:db8:1:2::5');
  assert.equal(a, '2001:db8:1:2/64');
  assert.equal(b, '2001:db8:1/48');
  assert.equal(c, '2001:db8/32');
  assert.equal(subnetKeys('2001:db8:1:2:ffff::1')[0], a, 'same /64');
  assert.equal(subnetKeys('::1')[0], '0:0:0:0/64');
});

test('an address over its budget is blocked, a neighbour is not', () => {
  let now = 1_000_000;
  const l = new FailureLimiter(undefined, () => now);
  for (let i = 0; i < 9; i++) l.fail('127.0.0.1');
  assert.equal(l.blocked('127.0.0.1'), false);
  l.fail('127.0.0.1');
  assert.equal(l.blocked('127.0.0.1'), true);
  assert.equal(l.blocked('127.0.0.2'), false);
  assert.equal(l.blocked('::ffff:127.0.0.1'), true, 'IPv4-mapped IPv6 counts as the IPv4 address');
  now += 61_000;
  assert.equal(l.blocked('127.0.0.1'), false, 'the minute window passed');
  for (let i = 0; i < 40; i++) {
    l.fail('127.0.0.1');
    now += 7_000; // slowly: never 10 in a minute
  }
  assert.equal(l.blocked('127.0.0.1'), true, '50 in a day');
});

test('retryAfterMs says when the address is under every budget again', () => {
  let now = 5_000_000;
  const l = new FailureLimiter([{ ms: 60_000, limits: [3, 100, 300] }], () => now);
  assert.equal(l.retryAfterMs('10.0.0.1'), 0);
  l.fail('10.0.0.1');
  now += 10_000;
  l.fail('10.0.0.1');
  l.fail('10.0.0.1');
  // The first failure leaves the minute window in 50 s; then 2 < 3 remain.
  const wait = l.retryAfterMs('10.0.0.1');
  assert.ok(wait > 49_000 && wait <= 50_001, String(wait));
  now += wait;
  assert.equal(l.blocked('10.0.0.1'), false);
  assert.equal(l.retryAfterMs('10.0.0.1'), 0);
});
