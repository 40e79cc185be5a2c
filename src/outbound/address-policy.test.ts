import assert from 'node:assert/strict';
import { test } from 'node:test';
import { restrictedAddressClass } from './address-policy.js';

test('loopback, link-local, private and other special addresses are classified; public ones are not', () => {
  const cases: [string, string | null][] = [
    ['127.0.0.1', 'loopback'], ['127.255.0.9', 'loopback'], ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'], ['::ffff:7f00:1', 'loopback'], ['0:0:0:0:0:ffff:7f00:0001', 'loopback'],
    ['169.254.169.254', 'link-local'], ['fe80::1', 'link-local'], ['fe80::1%eth0', 'link-local'], ['febf::1', 'link-local'],
    ['10.1.2.3', 'private'], ['172.16.0.1', 'private'], ['172.31.255.255', 'private'], ['192.168.1.1', 'private'],
    ['fd00::5', 'private'], ['fc12::1', 'private'], ['::ffff:10.0.0.1', 'private'], ['fec0::1', 'private'],
    ['100.64.0.1', 'shared'], ['0.0.0.0', 'unspecified'], ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'], ['ff02::1', 'multicast'], ['255.255.255.255', 'reserved'],
    ['8.8.8.8', null], ['172.32.0.1', null], ['172.15.255.255', null], ['100.128.0.1', null], ['192.0.2.1', null],
    ['2001:db8::1', null], ['2a00:1450:4001:81b::200e', null], ['::ffff:8.8.8.8', null], ['fe00::1', null],
  ];
  for (const [ip, want] of cases) assert.equal(restrictedAddressClass(ip), want, ip);
});
