import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnectionLimiter } from './connection-limiter.js';

test('per address: the limit holds, a release frees one place, releasing twice counts once', () => {
  const l = new ConnectionLimiter({ perIp: 2, perSubnet: 100 });
  const a = l.admit('192.0.2.10');
  const b = l.admit('::ffff:192.0.2.10'); // IPv4-mapped: the same address
  assert.ok(a.ok && b.ok);
  assert.deepEqual(l.admit('192.0.2.10'), { ok: false, over: 'address' });
  assert.ok(l.admit('192.0.2.11').ok, 'another address is not affected');
  if (a.ok) {
    a.release();
    a.release();
  }
  assert.ok(l.admit('192.0.2.10').ok);
  assert.deepEqual(l.admit('192.0.2.10'), { ok: false, over: 'address' });
});

test('per subnet: IPv4 /26 and IPv6 /48 share a budget; an IPv6 /64 is one address', () => {
  const l = new ConnectionLimiter({ perIp: 10, perSubnet: 3 });
  assert.ok(l.admit('198.51.100.1').ok);
  assert.ok(l.admit('198.51.100.2').ok);
  assert.ok(l.admit('198.51.100.63').ok);
  assert.deepEqual(l.admit('198.51.100.5'), { ok: false, over: 'subnet' });
  assert.ok(l.admit('198.51.100.64').ok, 'the next /26');

  const v6 = new ConnectionLimiter({ perIp: 2, perSubnet: 3 });
  assert.ok(v6.admit('2001:db8:1:1::1').ok);
  assert.ok(v6.admit('2001:db8:1:1::2').ok);
  assert.deepEqual(v6.admit('2001:db8:1:1:ffff::9'), { ok: false, over: 'address' }, 'same /64');
  assert.ok(v6.admit('2001:db8:1:2::1').ok, 'another /64 of the same /48');
  assert.deepEqual(v6.admit('2001:db8:1:3::1'), { ok: false, over: 'subnet' });
  assert.ok(v6.admit('2001:db8:2::1').ok, 'another /48');
});

test('loopback clients get only the per-address limit; everything released leaves no state', () => {
  const l = new ConnectionLimiter({ perIp: 2, perSubnet: 1 });
  const held = [];
  for (let i = 1; i <= 10; i++) {
    const a = l.admit(`127.0.0.${i}`);
    assert.ok(a.ok, `127.0.0.${i}`);
    held.push(a);
  }
  const v6a = l.admit('::1');
  const v6b = l.admit('::1');
  assert.ok(v6a.ok && v6b.ok);
  assert.deepEqual(l.admit('::1'), { ok: false, over: 'address' });
  for (const a of [...held, v6a, v6b]) if (a.ok) a.release();
  assert.equal(l.size, 0);
});
