import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeCharset, decoderFor } from './charset.js';

test('declared charsets, including Windows-1252 high bytes and common non-WHATWG aliases', () => {
  assert.equal(decodeCharset(Buffer.from([0x93, 0x61, 0x94, 0x80]), 'windows-1252'), '“a”€');
  assert.equal(decodeCharset(Buffer.from([0xe9]), 'ISO-8859-1'), 'é');
  assert.equal(decodeCharset(Buffer.from([0xa4]), 'iso-8859-15'), '€');
  assert.equal(decodeCharset(Buffer.from([0xf0, 0xd2]), 'koi8-r'), 'Пр');
  assert.equal(decodeCharset(Buffer.from([0x93, 0xfa]), 'cp932'), '日');
  assert.equal(decodeCharset(Buffer.from('é'), 'utf8'), 'é');
});

test('missing, US-ASCII or unknown charset: UTF-8 when valid, else Windows-1252', () => {
  assert.equal(decodeCharset(Buffer.from('é'), null), 'é');
  assert.equal(decodeCharset(Buffer.from('é'), 'us-ascii'), 'é');
  assert.equal(decodeCharset(Buffer.from([0xe9, 0x80]), 'x-nonsense'), 'é€');
  assert.equal(decoderFor('x-nonsense'), null);
});
