import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_MIME_DEPTH } from './limits.js';
import { countLines, parseMessage, splitMultipart } from './mime-tree.js';
import type { MimePart } from './types.js';

const crlf = (s: string): Buffer => Buffer.from(s.replace(/\n/g, '\r\n'), 'latin1');

test('offsets of a simple message: header includes the blank line, body the rest', () => {
  const buf = crlf('Subject: x\nFrom: a@b\n\nbody\n');
  const p = parseMessage(buf);
  assert.equal(p.headerStart, 0);
  assert.equal(buf.toString('latin1', p.headerStart, p.headerEnd), 'Subject: x\r\nFrom: a@b\r\n');
  assert.equal(buf.toString('latin1', p.bodyStart, p.bodyEnd), 'body\r\n');
  assert.equal(p.lines, 1);
  assert.deepEqual([p.type, p.subtype], ['text', 'plain']);
  assert.deepEqual(p.params, [{ name: 'charset', value: 'US-ASCII' }]);
});

test('multipart: delimiter CRLF belongs to the delimiter, preamble and epilogue are ignored', () => {
  const buf = crlf('Content-Type: multipart/mixed; boundary=b\n\npre\n--b\n\none\n--b\nContent-Type: text/html\n\n<b>two</b>\n\n--b--\nepi\n');
  const p = parseMessage(buf);
  assert.equal(p.children?.length, 2);
  const [a, b] = p.children!;
  assert.equal(buf.toString('latin1', a!.bodyStart, a!.bodyEnd), 'one');
  assert.equal(a!.headerStart, a!.headerEnd);
  assert.equal(buf.toString('latin1', b!.bodyStart, b!.bodyEnd), '<b>two</b>\r\n');
  assert.equal(b!.subtype, 'html');
  assert.equal(b!.lines, 1);
});

test('multipart with bare LF line ends and boundary at the very start of the body', () => {
  const buf = Buffer.from('Content-Type: multipart/mixed; boundary="x y"\n\n--x y\n\nA\n--x y\n\nB\n--x y--');
  const p = parseMessage(buf);
  assert.deepEqual(
    p.children!.map((c) => buf.toString('latin1', c.bodyStart, c.bodyEnd)),
    ['A', 'B'],
  );
});

test('a line that starts with the delimiter is a delimiter (RFC 2046 5.1.1, as Dovecot)', () => {
  const buf = crlf('Content-Type: multipart/mixed; boundary=ab\n\n--ab\n\none\n--abc\n\ntwo\n--ab x\n\nthree\n--ab--\n');
  const p = parseMessage(buf);
  assert.deepEqual(
    p.children!.map((c) => buf.toString('latin1', c.bodyStart, c.bodyEnd)),
    ['one', 'two', 'three'],
  );
});

test('a longer boundary declared by a nested multipart belongs to that part', () => {
  const buf = crlf(
    'Content-Type: multipart/mixed; boundary=ab\n\n--ab\nContent-Type: multipart/alternative; boundary="ab-in"\n\n' +
      '--ab-in\n\nx\n--ab-in\n\ny\n--ab-in--\n--ab\n\nlast\n--ab--\n',
  );
  const p = parseMessage(buf);
  assert.equal(p.children!.length, 2);
  assert.deepEqual(
    p.children![0]!.children!.map((c) => buf.toString('latin1', c.bodyStart, c.bodyEnd)),
    ['x', 'y'],
  );
  assert.equal(buf.toString('latin1', p.children![1]!.bodyStart, p.children![1]!.bodyEnd), 'last');
});

test('an outer delimiter ends an inner multipart whose close delimiter is missing', () => {
  const buf = crlf(
    'Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: multipart/alternative; boundary=i\n\n--i\n\ninner\n--o\n\nsecond\n--o--\n',
  );
  const p = parseMessage(buf);
  assert.equal(p.children!.length, 2);
  const inner = p.children![0]!;
  assert.equal(inner.children!.length, 1);
  assert.equal(buf.toString('latin1', inner.children![0]!.bodyStart, inner.children![0]!.bodyEnd), 'inner');
  assert.equal(buf.toString('latin1', p.children![1]!.bodyStart, p.children![1]!.bodyEnd), 'second');
});

test('message/rfc822 has an encapsulated tree with offsets into the same buffer', () => {
  const buf = crlf('Content-Type: message/rfc822\n\nSubject: inner\nContent-Type: text/html\n\n<p>x</p>\n');
  const p = parseMessage(buf);
  assert.ok(p.message);
  assert.equal(p.message.subtype, 'html');
  assert.equal(buf.toString('latin1', p.message.bodyStart, p.message.bodyEnd), '<p>x</p>\r\n');
  assert.equal(p.lines, 4);
});

test('missing headers, header without blank line, empty input', () => {
  const empty = parseMessage(Buffer.alloc(0));
  assert.deepEqual([empty.headerEnd, empty.bodyStart, empty.bodyEnd, empty.lines], [0, 0, 0, 0]);
  const noBlank = parseMessage(Buffer.from('Subject: x\r\nFrom: y'));
  assert.equal(noBlank.headerEnd, noBlank.bodyEnd);
  assert.equal(noBlank.bodyStart, noBlank.bodyEnd);
  const onlyBody = parseMessage(Buffer.from('\r\nhello'));
  assert.equal(onlyBody.bodyStart, 2);
});

test('Content-Type: case, comments, quoted params, invalid values default to text/plain', () => {
  const p = parseMessage(crlf('Content-Type: TEXT/HTML (comment); CHARSET="UTF-8"; ;x=1\n\n'));
  assert.deepEqual([p.type, p.subtype], ['text', 'html']);
  assert.deepEqual(p.params, [
    { name: 'charset', value: 'UTF-8' },
    { name: 'x', value: '1' },
  ]);
  for (const bad of ['text', '/plain', 'te xt/plain', '']) {
    const q = parseMessage(crlf(`Content-Type: ${bad}\n\n`));
    assert.deepEqual([q.type, q.subtype], ['text', 'plain'], bad);
  }
});

test('multipart without boundary is treated as text/plain', () => {
  const p = parseMessage(crlf('Content-Type: multipart/mixed\n\n--x\n\nfoo\n'));
  assert.deepEqual([p.type, p.subtype, p.children], ['text', 'plain', undefined]);
});

test('Content-Disposition, Language, Location, MD5, ID, Description are recorded', () => {
  const p = parseMessage(
    crlf(
      'Content-Disposition: Attachment; filename="a b.txt"\nContent-Language: en, (x) de\nContent-Location: x.txt\nContent-MD5: abc=\nContent-ID: <id@x>\nContent-Description: desc\nContent-Transfer-Encoding: Base64 (c)\n\n',
    ),
  );
  assert.equal(p.disposition, 'attachment');
  assert.deepEqual(p.dispositionParams, [{ name: 'filename', value: 'a b.txt' }]);
  assert.deepEqual(p.language, ['en', 'de']);
  assert.equal(p.location, 'x.txt');
  assert.equal(p.md5, 'abc=');
  assert.equal(p.id, '<id@x>');
  assert.equal(p.description, 'desc');
  assert.equal(p.encoding, 'base64');
});

test('very deep nesting is capped and does not recurse without limit', () => {
  const depth = 1000;
  let s = '';
  for (let i = 0; i < depth; i++) s += `Content-Type: multipart/mixed; boundary=b${i}\r\n\r\n--b${i}\r\n`;
  s += '\r\nleaf\r\n';
  const buf = Buffer.from(s);
  const root = parseMessage(buf);
  let d = 0;
  let node: MimePart | undefined = root;
  while (node?.children?.length) {
    node = node.children[0];
    d++;
  }
  assert.equal(d, MAX_MIME_DEPTH);
  const nested = 'Content-Type: message/rfc822\r\n\r\n'.repeat(depth) + 'x';
  let m: MimePart | undefined = parseMessage(Buffer.from(nested));
  let md = 0;
  while (m?.message) {
    m = m.message;
    md++;
  }
  assert.equal(md, MAX_MIME_DEPTH);
});

test('10,000 header fields and a 50 MB single base64 line parse in linear time', () => {
  const headers = Array.from({ length: 10000 }, (_, i) => `X-H${i}: v${i}\r\n`).join('');
  let t = Date.now();
  const p = parseMessage(Buffer.from(headers + 'Content-Type: text/plain; charset=utf-8\r\n\r\nbody'));
  assert.deepEqual(p.params, [{ name: 'charset', value: 'utf-8' }]);
  assert.ok(Date.now() - t < 30_000);

  const big = Buffer.alloc(50 * 1024 * 1024, 'A');
  const head = Buffer.from(
    'Content-Type: multipart/mixed; boundary=z\r\n\r\n--z\r\nContent-Transfer-Encoding: base64\r\nContent-Type: application/octet-stream\r\n\r\n',
  );
  const buf = Buffer.concat([head, big, Buffer.from('\r\n--z--\r\n')]);
  t = Date.now();
  const q = parseMessage(buf);
  assert.equal(q.children![0]!.bodyEnd - q.children![0]!.bodyStart, big.length);
  assert.ok(Date.now() - t < 30_000, `took ${Date.now() - t} ms`);
});

test('many sibling parts with a missing inner boundary stay linear', () => {
  const part = '--o\r\nContent-Type: multipart/mixed; boundary=never\r\n\r\n' + 'x'.repeat(100) + '\r\n';
  const buf = Buffer.from('Content-Type: multipart/mixed; boundary=o\r\n\r\n' + part.repeat(20000) + '--o--\r\n');
  const t = Date.now();
  const p = parseMessage(buf);
  assert.equal(p.children!.length, 20000);
  assert.ok(Date.now() - t < 30_000);
});

test('splitMultipart and countLines', () => {
  const buf = Buffer.from('--b\r\n\r\nx\r\n--b--');
  assert.deepEqual(splitMultipart(buf, 0, buf.length, 'b'), [[5, 8]]);
  assert.deepEqual(splitMultipart(buf, 0, buf.length, 'nope'), []);
  // Line breaks only: a last line without one (a part before its delimiter's CRLF) is not counted.
  assert.equal(countLines(Buffer.from('a\nb\nc'), 0, 5), 2);
  assert.equal(countLines(Buffer.from('a\r\nb\r\n'), 0, 6), 2);
  assert.equal(countLines(Buffer.from(''), 0, 0), 0);
});

test('multipart/digest parts default to message/rfc822', () => {
  const p = parseMessage(crlf('Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: a\n\nA\n--d--\n'));
  assert.deepEqual([p.children![0]!.type, p.children![0]!.subtype], ['message', 'rfc822']);
  assert.ok(p.children![0]!.message);
});

test('many header lines without a colon before a large body stay linear', () => {
  const buf = Buffer.concat([
    Buffer.from('no colon on this line\r\n'.repeat(20000) + '\r\n'),
    Buffer.alloc(20 * 1024 * 1024, 'x'),
    Buffer.from(':'),
  ]);
  const t = Date.now();
  const p = parseMessage(buf);
  assert.equal(p.bodyEnd - p.bodyStart, 20 * 1024 * 1024 + 1);
  assert.ok(Date.now() - t < 30_000, `took ${Date.now() - t} ms`);
});

test('many body parts whose first line is not a header (so a broken header, empty body) stay linear', () => {
  const part = '--o\r\n' + 'y'.repeat(50) + '\r\n';
  const buf = Buffer.from('Content-Type: multipart/mixed; boundary=o\r\n\r\n' + part.repeat(20000) + '--o--\r\n' + 'z'.repeat(5_000_000) + ':');
  const t = Date.now();
  const p = parseMessage(buf);
  assert.equal(p.children!.length, 20000);
  assert.equal(p.children![0]!.headerEnd - p.children![0]!.headerStart, 50);
  assert.equal(p.children![0]!.bodyEnd - p.children![0]!.bodyStart, 0);
  assert.ok(Date.now() - t < 30_000, `took ${Date.now() - t} ms`);
});
