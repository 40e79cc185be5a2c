import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fieldValue, findHeaderEnd, headerBytesToString, headerFields, unfold } from './header-fields.js';
import { getDecodedHeaderValue, getHeaderValue, getHeaderValues } from './header-values.js';
import { parseMessage } from './mime-tree.js';

test('folded fields are joined and unfolded', () => {
  const buf = Buffer.from('Subject: a\r\n  b\r\n\tc\r\nTo: x\r\nsubject: second\r\n\r\nbody');
  const p = parseMessage(buf);
  assert.deepEqual(getHeaderValues(p, buf, 'SUBJECT'), ['a  b\tc', 'second']);
  assert.equal(getHeaderValue(p, buf, 'to'), 'x');
  assert.equal(getHeaderValue(p, buf, 'cc'), null);
});

test('field offsets cover the whole field including continuation lines', () => {
  const buf = Buffer.from('A: 1\r\n 2\r\nB:3\n\n');
  const { headerEnd, bodyStart } = findHeaderEnd(buf, 0, buf.length);
  assert.deepEqual([headerEnd, bodyStart], [14, 15]);
  const f = headerFields(buf, 0, headerEnd);
  assert.deepEqual(
    f.map((x) => [x.name, buf.toString('latin1', x.start, x.end)]),
    [
      ['a', 'A: 1\r\n 2\r\n'],
      ['b', 'B:3\n'],
    ],
  );
  assert.equal(fieldValue(buf, f[0]!), '1 2');
});

test('malformed header lines: no colon, leading continuation, empty name', () => {
  const buf = Buffer.from(' stray\r\nno colon here\r\n: empty\r\nOk: yes\r\n\r\n');
  const f = headerFields(buf, 0, findHeaderEnd(buf, 0, buf.length).headerEnd);
  assert.deepEqual(
    f.map((x) => x.name),
    ['', 'no colon here', '', 'ok'],
  );
});

test('8-bit header bytes: UTF-8 when valid, Latin-1 otherwise', () => {
  assert.equal(headerBytesToString(Buffer.from('Grüße', 'utf8'), 0, 7), 'Grüße');
  assert.equal(headerBytesToString(Buffer.from('Gr\xfc\xdfe', 'latin1'), 0, 5), 'Grüße');
});

test('decoded header values', () => {
  const buf = Buffer.from('Subject: =?utf-8?q?h=C3=A9?=\r\n\r\n');
  assert.equal(getDecodedHeaderValue(parseMessage(buf), buf, 'subject'), 'hé');
  assert.equal(unfold('a\r\n b\n c'), 'a b c');
});
