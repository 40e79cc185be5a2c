import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeXtext, encodeXtext } from './xtext.js';

test('xtext decode and encode, RFC 3461 4', () => {
  assert.equal(decodeXtext('a+2Bb+3Dc'), 'a+b=c');
  assert.equal(decodeXtext('a+2bb'), 'a+b', 'lower-case hex accepted');
  assert.equal(decodeXtext(''), '');
  assert.equal(decodeXtext('+C3+A9'), 'é');
  for (const bad of ['a=b', 'a b', 'a+', 'a+2', 'a+GG', '+FF', 'é', 'a\x00']) assert.equal(decodeXtext(bad), undefined, JSON.stringify(bad));
  assert.equal(decodeXtext('é@x', true), 'é@x');
  assert.equal(encodeXtext('a+b=c d'), 'a+2Bb+3Dc+20d');
  assert.equal(encodeXtext('é'), '+C3+A9');
  for (const s of ['', 'x', 'a+b=c', 'ünï cödé', '\x01~!']) assert.equal(decodeXtext(encodeXtext(s)), s);
});
