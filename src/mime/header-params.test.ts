import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseParamValue, stripComments } from './header-params.js';
import { combineRfc2231 } from './rfc2231.js';

test('quoted values, escapes, semicolons inside quotes, stray separators', () => {
  assert.deepEqual(parseParamValue('attachment; filename="a\\"b;c.txt";; size=3'), {
    value: 'attachment',
    params: [
      { name: 'filename', value: 'a"b;c.txt' },
      { name: 'size', value: '3' },
    ],
  });
  assert.deepEqual(parseParamValue('x/y; NAME = unquoted value.pdf ; broken; ="v"').params, [
    { name: 'name', value: 'unquoted value.pdf' },
  ]);
  assert.deepEqual(parseParamValue('x/y; a="unterminated').params, [{ name: 'a', value: 'unterminated' }]);
  assert.deepEqual(parseParamValue('').params, []);
  // Without a backslash or without any quote (the short ways): the same answers.
  assert.deepEqual(parseParamValue('x/y; a="q;uoted" ; b="c"tail; c="open').params, [
    { name: 'a', value: 'q;uoted' },
    { name: 'b', value: 'c' },
    { name: 'c', value: 'open' },
  ]);
  assert.deepEqual(parseParamValue('text/plain; charset=utf-8;format=flowed'), {
    value: 'text/plain',
    params: [
      { name: 'charset', value: 'utf-8' },
      { name: 'format', value: 'flowed' },
    ],
  });
});

test('comments are removed outside quoted strings', () => {
  assert.equal(stripComments('text/plain (a (nested) comment); x="(kept)"').trim(), 'text/plain  ; x="(kept)"');
  assert.equal(stripComments('a (unclosed'), 'a ');
});

test('RFC 2231 continuations are joined in numeric order', () => {
  assert.deepEqual(parseParamValue('x/y; n*1="world"; n*0="hello "').params, [{ name: 'n', value: 'hello world' }]);
  assert.deepEqual(
    parseParamValue('x/y; n*0=a; n*10=c; n*2=b').params,
    [{ name: 'n', value: 'abc' }],
  );
});

test('RFC 2231 charset and language with percent-encoding, mixed sections', () => {
  assert.deepEqual(parseParamValue("attachment; filename*=iso-8859-1'fr'r%E9sum%E9.txt").params, [
    { name: 'filename', value: 'résumé.txt', extended: true, raw: "iso-8859-1'fr'r%E9sum%E9.txt" },
  ]);
  // `raw` keeps the encoded form (for BODYSTRUCTURE); an unencoded section is percent-encoded into it.
  assert.deepEqual(
    parseParamValue("a; filename*0*=utf-8''%E2%82; filename*1*=%AC; filename*2=\" plain%20\"").params,
    [{ name: 'filename', value: '€ plain%20', extended: true, raw: "utf-8''%E2%82%AC%20plain%2520" }],
  );
  // An RFC 2231 value wins over a plain one of the same name.
  assert.deepEqual(parseParamValue("a; filename=old.txt; filename*=utf-8''new.txt").params, [
    { name: 'filename', value: 'new.txt', extended: true, raw: "utf-8''new.txt" },
  ]);
});

test('broken RFC 2231: unknown charset, missing quotes, bad percent escapes', () => {
  assert.deepEqual(combineRfc2231([{ name: 'f*', value: "x-unknown-cs''%C3%A9" }]), [
    { name: 'f', value: 'é', extended: true, raw: "x-unknown-cs''%C3%A9" },
  ]);
  assert.deepEqual(combineRfc2231([{ name: 'f*', value: '%ZZ%41' }]), [{ name: 'f', value: '%ZZA', extended: true, raw: '%ZZ%41' }]);
  assert.deepEqual(combineRfc2231([{ name: 'f*0', value: 'a' }, { name: 'f*0', value: 'dup' }]), [
    { name: 'f', value: 'a' },
  ]);
});
