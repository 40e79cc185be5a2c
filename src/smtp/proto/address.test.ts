import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AddressError,
  formatLocalPart,
  formatMailbox,
  mailboxKey,
  normalizeDomain,
  parseAddressLiteral,
  parseForwardPathAt,
  parseMailbox,
  parseReversePathAt,
  validateDomain,
  type AddressErrorReason,
} from './address.js';

function fails(fn: () => unknown, reason: AddressErrorReason): void {
  assert.throws(fn, (e: unknown) => e instanceof AddressError && e.reason === reason);
}

test('dot-atom and quoted local parts', () => {
  assert.deepEqual(parseMailbox('a.b+tag@example.org'), { localPart: 'a.b+tag', domain: 'example.org', literal: undefined, utf8: false });
  assert.equal(parseMailbox("!#$%&'*+-/=?^_`{|}~@x.y").localPart, "!#$%&'*+-/=?^_`{|}~");
  assert.equal(parseMailbox('"a b"@x.y').localPart, 'a b');
  assert.equal(parseMailbox('"a\\"b\\\\"@x.y').localPart, 'a"b\\');
  assert.equal(parseMailbox('"ab"@x.y').localPart, 'ab', 'quoted dot-string equals the unquoted one');
  assert.equal(parseMailbox('""@x.y').localPart, '');
  for (const bad of ['.a@x.y', 'a.@x.y', 'a..b@x.y', '@x.y', 'a@', 'a', 'a b@x.y', '"a@x.y', '"a"b@x.y', 'a@x.y.', 'a@.x.y', 'a@x..y', 'a@-x.y', 'a@x-.y', 'a@x_y.z', '"a\x01"@x.y', '"\\\x7f"@x.y', 'a(b)@x.y', 'a@b@c']) {
    fails(() => parseMailbox(bad), 'syntax');
  }
});

test('length limits: local part 64, label 63, domain 255, path 256', () => {
  assert.equal(parseMailbox(`${'a'.repeat(64)}@x.y`).localPart.length, 64);
  fails(() => parseMailbox(`${'a'.repeat(65)}@x.y`), 'too-long');
  assert.equal(parseMailbox(`${'a'.repeat(65)}@x.y`, { maxLocalPart: 200 }).localPart.length, 65);
  fails(() => parseMailbox(`a@${'b'.repeat(64)}.y`), 'too-long');
  const dom = Array.from({ length: 4 }, () => 'd'.repeat(50)).join('.') + '.' + 'e'.repeat(51);
  assert.equal(dom.length, 255);
  validateDomain(dom);
  fails(() => validateDomain(dom + 'e'), 'too-long');
  const path = `<${'a'.repeat(60)}@${Array.from({ length: 4 }, () => 'd'.repeat(47)).join('.')}.bbbb>`;
  assert.ok(path.length > 256);
  fails(() => parseReversePathAt(path, 0), 'too-long');
});

test('UTF-8 needs SMTPUTF8 and IDN domains normalise to A-labels', () => {
  fails(() => parseMailbox('pelé@example.org'), 'utf8');
  fails(() => parseMailbox('a@bücher.example'), 'utf8');
  fails(() => parseMailbox('"ü"@x.y'), 'utf8');
  const m = parseMailbox('pelé@Bücher.Example', { smtputf8: true });
  assert.equal(m.utf8, true);
  assert.equal(normalizeDomain(m.domain), 'xn--bcher-kva.example');
  assert.equal(mailboxKey(m), 'pelé@xn--bcher-kva.example');
  assert.equal(normalizeDomain('Example.ORG'), 'example.org');
  // Local part length counts octets: 32 two-byte characters is 64, 33 is too long.
  parseMailbox(`${'é'.repeat(32)}@x.y`, { smtputf8: true });
  fails(() => parseMailbox(`${'é'.repeat(33)}@x.y`, { smtputf8: true }), 'too-long');
});

test('address literals', () => {
  assert.deepEqual(parseAddressLiteral('[192.0.2.1]'), { kind: 'ipv4', address: '192.0.2.1' });
  assert.deepEqual(parseAddressLiteral('[010.0.0.1]'), { kind: 'ipv4', address: '10.0.0.1' });
  assert.deepEqual(parseAddressLiteral('[IPv6:2001:DB8::1]'), { kind: 'ipv6', address: '2001:db8::1' });
  assert.deepEqual(parseAddressLiteral('[IPv6:::ffff:192.0.2.1]'), { kind: 'ipv6', address: '::ffff:192.0.2.1' });
  assert.deepEqual(parseAddressLiteral('[x-tag:abc]'), { kind: 'general', tag: 'x-tag', address: 'abc' });
  for (const bad of ['192.0.2.1', '[256.0.0.1]', '[1.2.3]', '[1.2.3.4.5]', '[IPv6:1::2::3]', '[IPv6:fe80::1%eth0]', '[IPv6:gggg::1]', '[]', '[:x]', '[tag:a[b]', '[1.2.3.a]']) {
    fails(() => parseAddressLiteral(bad), 'syntax');
  }
  const m = parseMailbox('postmaster@[192.0.2.1]');
  assert.deepEqual(m.literal, { kind: 'ipv4', address: '192.0.2.1' });
  assert.equal(normalizeDomain('[IPv6:2001:DB8::1]'), '[ipv6:2001:db8::1]');
});

test('paths: null, postmaster, source route, end index', () => {
  assert.deepEqual(parseReversePathAt('<> SIZE=1', 0), { path: null, end: 2 });
  assert.deepEqual(parseForwardPathAt('<POSTMASTER> x', 0), { path: { kind: 'postmaster' }, end: 12 });
  const r = parseForwardPathAt('<@a.b,@[1.2.3.4]:u@v.w> NOTIFY=NEVER', 0);
  assert.equal(r.end, 23);
  assert.equal(r.path.kind === 'mailbox' && r.path.mailbox.domain, 'v.w');
  const q = parseReversePathAt('<"a>b"@x.y>', 0);
  assert.equal(q.path?.localPart, 'a>b');
  for (const bad of ['u@v.w', '<u@v.w', '<@a.b:>', '<@a.b u@v.w>', '<@:u@v.w>', '<u@v.w >', '< u@v.w>']) {
    fails(() => parseReversePathAt(bad, 0), 'syntax');
  }
});

test('formatting re-quotes only when needed', () => {
  assert.equal(formatLocalPart('a.b'), 'a.b');
  assert.equal(formatLocalPart('a b'), '"a b"');
  assert.equal(formatLocalPart('a..b'), '"a..b"');
  assert.equal(formatLocalPart('.a'), '".a"');
  assert.equal(formatLocalPart('a"b\\'), '"a\\"b\\\\"');
  assert.equal(formatLocalPart(''), '""');
  assert.equal(formatLocalPart('pelé'), 'pelé');
  assert.equal(formatMailbox(parseMailbox('"a b"@x.y')), '"a b"@x.y');
  for (const s of ['"a b"@x.y', 'a.b@x.y', '"a\\\\b"@x.y', '"a..b"@[1.2.3.4]']) {
    assert.equal(formatMailbox(parseMailbox(formatMailbox(parseMailbox(s)))), formatMailbox(parseMailbox(s)));
  }
});
