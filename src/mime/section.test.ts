import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMessage } from './mime-tree.js';
import { getSection, partial, resolvePart } from './section.js';

const crlf = (s: string): Buffer => Buffer.from(s.replace(/\n/g, '\r\n'));

// The RFC 9051 6.4.5 example hierarchy, abridged: 1 text, 2 application, 3 message/rfc822
// (3.1 text, 3.2 multipart: 3.2.1, 3.2.2), 4 multipart (4.1 image, 4.2 message/rfc822 with 4.2.1 text).
const msg = crlf(`Subject: top
Content-Type: multipart/mixed; boundary=o

--o
Content-Type: text/plain

part1
--o
Content-Type: application/octet-stream

part2
--o
Content-Type: message/rfc822

Subject: inner3
Content-Type: multipart/mixed; boundary=i3

--i3
Content-Type: text/plain

p3.1
--i3
Content-Type: multipart/alternative; boundary=a3

--a3

p3.2.1
--a3
Content-Type: text/html

p3.2.2
--a3--
--i3--
--o
Content-Type: multipart/mixed; boundary=m4

--m4
Content-Type: image/gif

p4.1
--m4
Content-Type: message/rfc822

Subject: inner4.2
X-Other: y

p4.2.1
--m4--
--o--
`);
const root = parseMessage(msg);
const s = (part: number[], text?: 'HEADER' | 'TEXT' | 'MIME' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT', fields?: string[]): string =>
  getSection(msg, root, { part, text, fields }).toString();

test('numeric parts across multiparts and message/rfc822', () => {
  assert.equal(s([1]), 'part1');
  assert.equal(s([2]), 'part2');
  assert.equal(s([3, 1]), 'p3.1');
  assert.equal(s([3, 2, 1]), 'p3.2.1');
  assert.equal(s([3, 2, 2]), 'p3.2.2');
  assert.equal(s([4, 1]), 'p4.1');
  assert.equal(s([4, 2, 1]), 'p4.2.1');
  assert.ok(s([3]).startsWith('Subject: inner3\r\n'));
});

test('HEADER, TEXT and HEADER.FIELDS of message/rfc822 parts; MIME of any part', () => {
  assert.equal(s([3], 'HEADER'), 'Subject: inner3\r\nContent-Type: multipart/mixed; boundary=i3\r\n\r\n');
  assert.ok(s([3], 'TEXT').startsWith('--i3\r\n'));
  assert.equal(s([4, 2], 'HEADER.FIELDS', ['x-other']), 'X-Other: y\r\n\r\n');
  assert.equal(s([4, 2], 'HEADER.FIELDS.NOT', ['X-OTHER']), 'Subject: inner4.2\r\n\r\n');
  assert.equal(s([4, 2], 'TEXT'), 'p4.2.1');
  assert.equal(s([1], 'MIME'), 'Content-Type: text/plain\r\n\r\n');
  assert.equal(s([3, 2, 1], 'MIME'), '\r\n');
  assert.equal(s([], 'HEADER'), 'Subject: top\r\nContent-Type: multipart/mixed; boundary=o\r\n\r\n');
  assert.equal(s([], 'HEADER.FIELDS', ['SUBJECT', 'nothing']), 'Subject: top\r\n\r\n');
  assert.equal(s([], 'HEADER.FIELDS', ['nothing']), '\r\n');
  assert.equal(getSection(msg, root, { part: [] }), msg);
});

test('nonexistent parts and invalid section texts give an empty buffer', () => {
  assert.equal(s([9]), '');
  assert.equal(s([1, 1]), '');
  assert.equal(s([0]), '');
  assert.equal(s([3, 5]), '');
  assert.equal(s([1], 'HEADER'), ''); // not a message/rfc822 part
  assert.equal(s([], 'MIME'), '');
  assert.equal(resolvePart(root, [4, 2, 2]), null);
});

test('non-multipart message: part 1 is the body, 1.MIME the header', () => {
  const buf = crlf('Subject: x\nContent-Type: text/plain\n\nbody\n');
  const r = parseMessage(buf);
  assert.equal(getSection(buf, r, { part: [1] }).toString(), 'body\r\n');
  assert.equal(getSection(buf, r, { part: [], text: 'TEXT' }).toString(), 'body\r\n');
  assert.equal(getSection(buf, r, { part: [2] }).length, 0);
  assert.equal(getSection(buf, r, { part: [1, 1] }).length, 0);
});

test('HEADER.FIELDS keeps folding and adds a line end to a header cut off at the end', () => {
  const buf = Buffer.from('Subject: a\r\n b\r\nTo: x');
  const r = parseMessage(buf);
  assert.equal(getSection(buf, r, { part: [], text: 'HEADER.FIELDS', fields: ['to', 'subject'] }).toString(), 'Subject: a\r\n b\r\nTo: x\r\n\r\n');
});

test('partial', () => {
  const b = Buffer.from('0123456789');
  assert.equal(partial(b, 2, 3).toString(), '234');
  assert.equal(partial(b, 8, 100).toString(), '89');
  assert.equal(partial(b, 10, 1).length, 0);
  assert.equal(partial(b, 4).toString(), '456789');
});
