import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeEncodedWords } from './encoded-word.js';

test('B and Q encodings in several charsets', () => {
  assert.equal(decodeEncodedWords('=?ISO-8859-1?Q?Andr=E9?= Pirard'), 'André Pirard');
  assert.equal(decodeEncodedWords('=?utf-8?b?5bGx55Sw?='), '山田');
  assert.equal(decodeEncodedWords('=?KOI8-R?B?8NLJ18XU?='), 'Привет');
  assert.equal(decodeEncodedWords('=?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?='), 'テスト');
  assert.equal(decodeEncodedWords('=?windows-1252?Q?=93q=94?='), '“q”');
  assert.equal(decodeEncodedWords('=?iso-8859-2?Q?=B3?='), 'ł');
  assert.equal(decodeEncodedWords('=?gb18030?B?1tDOxA==?='), '中文');
  assert.equal(decodeEncodedWords('=?big5?B?pKSk5Q==?='), '中文');
  assert.equal(decodeEncodedWords('=?shift_jis?B?k/qWe4zq?='), '日本語');
  assert.equal(decodeEncodedWords('=?windows-1251?Q?=CF=F0=E8?='), 'При');
  assert.equal(decodeEncodedWords('=?utf-8*en?Q?lang_tag?='), 'lang tag');
});

test('white space between adjacent encoded words is dropped, other text kept (RFC 2047 6.2)', () => {
  assert.equal(decodeEncodedWords('=?utf-8?q?a?= =?utf-8?q?b?='), 'ab');
  assert.equal(decodeEncodedWords('=?utf-8?q?a?=\r\n =?utf-8?q?b?='), 'ab');
  assert.equal(decodeEncodedWords('=?utf-8?q?a?= x =?utf-8?q?b?='), 'a x b');
  assert.equal(decodeEncodedWords('pre =?utf-8?q?a?= post'), 'pre a post');
  assert.equal(decodeEncodedWords('=?utf-8?q?a_b?='), 'a b');
});

test('a multi-byte character split over two words is joined before decoding', () => {
  // "é" is C3 A9 in UTF-8, split over two words.
  assert.equal(decodeEncodedWords('=?utf-8?Q?caf=C3?= =?utf-8?Q?=A9?='), 'café');
  assert.equal(decodeEncodedWords('=?utf-8?B?w6lt?= =?utf-8?Q?ile?='), 'émile');
});

test('bad encoded words are left as they are', () => {
  for (const s of [
    '=?bogus-charset?Q?x?=',
    '=?utf-8?X?abc?=',
    '=?utf-8?B?!!!?=',
    '=?utf-8?Q?=ZZ?=',
    '=?utf-8?B?A?=',
    '=?utf-8?q?unterminated',
    '=??Q?x?=',
    'plain text',
  ]) {
    assert.equal(decodeEncodedWords(s), s, s);
  }
  assert.equal(decodeEncodedWords('=?bogus?Q?x?= =?utf-8?q?y?='), '=?bogus?Q?x?= y');
});

test('thousands of adjacent encoded words decode in linear time', () => {
  const s = '=?utf-8?B?w6k=?= '.repeat(20000);
  const t = Date.now();
  assert.equal(decodeEncodedWords(s), 'é'.repeat(20000) + ' ');
  assert.ok(Date.now() - t < 30_000);
});
