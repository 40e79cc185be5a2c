import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCookies, serializeCookie } from './cookies.js';

test('cookies: parsing keeps the first of a name; Set-Cookie is HttpOnly and SameSite=Strict', () => {
  const c = parseCookies('a=1; b="two"; a=3; junk; =x');
  assert.equal(c.get('a'), '1');
  assert.equal(c.get('b'), 'two');
  assert.equal(c.size, 2);
  assert.equal(parseCookies(undefined).size, 0);
  assert.equal(serializeCookie('s', 'v', { secure: true, path: '/', maxAge: 60 }), 's=v; Path=/; HttpOnly; SameSite=Strict; Max-Age=60; Secure');
  assert.equal(serializeCookie('s', '', { secure: false, path: '/', maxAge: 0 }), 's=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0');
});
