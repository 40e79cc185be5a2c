import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAddress, parseAddressList, parseAddressListFully, type AddressEntry } from './address.js';
import { addresses } from './envelope.js';

const mb = (name: string | null, local: string, domain: string | null, route: string | null = null): AddressEntry => ({
  name,
  route,
  local,
  domain,
});

test('display names, quoted strings, angle addresses', () => {
  assert.deepEqual(parseAddressList('"Doe, John" <john@example.com>, Jane  Roe <jane@x.org>, bare@y.net'), [
    mb('Doe, John', 'john', 'example.com'),
    mb('Jane Roe', 'jane', 'x.org'),
    mb(null, 'bare', 'y.net'),
  ]);
  assert.deepEqual(parseAddressList('"a \\"q\\" b" <q@x>'), [mb('a "q" b', 'q', 'x')]);
});

test('comments: ignored, or used as the name of a bare address', () => {
  assert.deepEqual(parseAddressList('john@x.org (John Smith)'), [mb('John Smith', 'john', 'x.org')]);
  assert.deepEqual(parseAddressList('John (the man) <john@x.org> (trailing)'), [mb('John', 'john', 'x.org')]);
  assert.deepEqual(parseAddressList('john(c)@x(d).org'), [mb('d', 'john', 'x.org')]);
});

test('groups, including empty ones and groups followed by more addresses', () => {
  assert.deepEqual(parseAddressList('undisclosed-recipients:;'), [{ group: 'undisclosed-recipients', members: [] }]);
  assert.deepEqual(parseAddressList('Team: a@b.c, "B" <b@c.d>; , e@f.g'), [
    { group: 'Team', members: [mb(null, 'a', 'b.c'), mb('B', 'b', 'c.d')] },
    mb(null, 'e', 'f.g'),
  ]);
  assert.deepEqual(parseAddressList('Open: a@b.c'), [{ group: 'Open', members: [mb(null, 'a', 'b.c')] }]);
});

test('obsolete route syntax and domain literals', () => {
  assert.deepEqual(parseAddressList('<@r1.example,@r2.example:user@host.example>'), [
    mb(null, 'user', 'host.example', '@r1.example,@r2.example'),
  ]);
  assert.deepEqual(parseAddressList('x@[192.0.2.1]'), [mb(null, 'x', '[192.0.2.1]')]);
  assert.deepEqual(parseAddressList('john . doe @ example . com'), [mb(null, 'john.doe', 'example.com')]);
});

test('garbage: missing @, unclosed brackets, stray specials, empty elements', () => {
  assert.deepEqual(parseAddressList('nodomain'), [mb(null, 'nodomain', null)]);
  assert.deepEqual(parseAddressList('a <b@c, d@e'), [mb('a', 'b', 'c'), mb(null, 'd', 'e')]);
  assert.deepEqual(parseAddressList(',,, a@b ,, ;'), [mb(null, 'a', 'b')]);
  assert.deepEqual(parseAddressList('> a@b'), [mb(null, 'a', 'b')]);
  assert.deepEqual(parseAddressList(''), []);
  assert.deepEqual(parseAddressList('"unterminated <x@y>'), [mb(null, '"unterminated <x@y>', null)]);
  assert.deepEqual(parseAddressList('<>'), [mb(null, '', null)]);
  assert.equal(formatAddress(mb(null, 'a', 'b') as never), 'a@b');
});

test('IMAP address structures: groups, placeholders for missing parts, NIL for no addresses', () => {
  assert.deepEqual(addresses('G: a@b;'), [
    [null, null, 'G', null],
    [null, null, 'a', 'b'],
    [null, null, null, null],
  ]);
  assert.deepEqual(addresses('x'), [[null, null, 'x', 'MISSING_DOMAIN']]);
  assert.deepEqual(addresses('<@h>'), [[null, null, 'MISSING_MAILBOX', 'h']]);
  assert.equal(addresses(''), null);
  assert.equal(addresses(undefined), null);
  // Encoded words stay raw in ENVELOPE.
  assert.deepEqual(addresses('=?utf-8?q?J=C3=BC?= <j@x>'), [['=?utf-8?q?J=C3=BC?=', null, 'j', 'x']]);
});

test('hostile address headers stay linear', () => {
  const t = Date.now();
  assert.equal(parseAddressList('<' + '@a,'.repeat(50000) + ':x@y>').length, 1);
  assert.equal(parseAddressList('a@b, '.repeat(50000)).length, 50000);
  assert.equal(parseAddressList('G: '.repeat(20000)).length, 1);
  parseAddressList('('.repeat(50000) + '"'.repeat(50000) + '<'.repeat(50000));
  assert.ok(Date.now() - t < 30_000, `took ${Date.now() - t} ms`);
});

test('one plain mailbox: the shortcut gives what the full parser gives', () => {
  let x = 5322;
  const rand = () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const pieces = ['a', 'b.c', 'Zoë', '"', '"Q N"', '""', '\\', ' ', '  ', '\t', '\r\n ', '<', '>', '@', '@', 'x.org', ',', ';', ':', '(', ')', '[1.2.3.4]', '.', '-'];
  const shapes = [
    () => `${pick()}@${pick()}`,
    () => `<${pick()}@${pick()}>`,
    () => `"${pick()}${pick()}" <${pick()}@${pick()}>`,
    () => `${pick()} ${pick()}\t<${pick()}@${pick()}> `,
    () => Array.from({ length: 1 + Math.floor(rand() * 8) }, pick).join(''),
  ];
  function pick(): string {
    return pieces[Math.floor(rand() * pieces.length)]!;
  }
  for (let n = 0; n < 20000; n++) {
    const v = shapes[Math.floor(rand() * shapes.length)]!();
    assert.deepEqual(parseAddressList(v), parseAddressListFully(v), JSON.stringify(v));
  }
  assert.deepEqual(parseAddressList(' "Sender 5"  <sender5@example.org>'), [{ name: 'Sender 5', route: null, local: 'sender5', domain: 'example.org' }]);
  assert.deepEqual(parseAddressList('"" <a@b>'), [{ name: null, route: null, local: 'a', domain: 'b' }]);
});
