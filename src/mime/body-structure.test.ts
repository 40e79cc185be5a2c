import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bodyStructure } from './body-structure.js';
import { envelope } from './envelope.js';
import { parseMessage } from './mime-tree.js';

const crlf = (s: string): Buffer => Buffer.from(s.replace(/\n/g, '\r\n'));

test('RFC 9051 7.5.2 shape: text part has lines, BODY has no extension data', () => {
  const buf = crlf('Content-Type: text/plain; charset=US-ASCII\n\nline 1\nline 2\n');
  const root = parseMessage(buf);
  assert.deepEqual(bodyStructure(buf, root, false), ['TEXT', 'PLAIN', ['CHARSET', 'US-ASCII'], null, null, '7BIT', 16, 2]);
  assert.deepEqual(bodyStructure(buf, root, true), [
    'TEXT', 'PLAIN', ['CHARSET', 'US-ASCII'], null, null, '7BIT', 16, 2, null, null, null, null,
  ]);
});

test('non-text basic part has no line count; unknown encodings are passed through', () => {
  const buf = crlf('Content-Type: image/gif\nContent-Transfer-Encoding: X-Custom\n\nGIF');
  assert.deepEqual(bodyStructure(buf, parseMessage(buf), false), ['IMAGE', 'GIF', null, null, null, 'x-custom', 3]);
});

test('message/rfc822: envelope, body and line count; message/global too', () => {
  for (const sub of ['rfc822', 'global']) {
    const buf = crlf(`Content-Type: message/${sub}\n\nSubject: hi\nFrom: a@b\n\nx\n`);
    const bs = bodyStructure(buf, parseMessage(buf), false) as unknown[];
    assert.deepEqual(bs.slice(0, 7), ['MESSAGE', sub.toUpperCase(), null, null, null, '7BIT', 29]);
    assert.deepEqual(bs[7], [null, 'hi', [[null, null, 'a', 'b']], [[null, null, 'a', 'b']], [[null, null, 'a', 'b']], null, null, null, null, null]);
    assert.deepEqual(bs[8], ['TEXT', 'PLAIN', ['CHARSET', 'US-ASCII'], null, null, '7BIT', 3, 1]);
    assert.equal(bs[9], 4);
  }
});

test('multipart extension data: params, disposition, language list, location', () => {
  const buf = crlf(
    'Content-Type: multipart/mixed; boundary=b\nContent-Disposition: inline\nContent-Language: en, de\nContent-Location: loc\n\n--b\n\nx\n--b--\n',
  );
  const bs = bodyStructure(buf, parseMessage(buf), true) as unknown[];
  assert.deepEqual(bs.slice(1), ['MIXED', ['BOUNDARY', 'b'], ['INLINE', null], ['en', 'de'], 'loc']);
});

test('envelope: absent fields NIL, empty fields "", Sender/Reply-To default to From', () => {
  const buf = crlf('From: A <a@b>\nSender:\nSubject:\nTo: c@d\n\n');
  const env = envelope(buf, parseMessage(buf)) as unknown[];
  assert.equal(env[0], null);
  assert.equal(env[1], '');
  assert.deepEqual(env[3], env[2]);
  assert.deepEqual(env[4], env[2]);
  assert.equal(env[6], null);
});

test('envelope uses the first of duplicated fields and keeps folding white space unfolded', () => {
  const buf = crlf('Subject: one\n  two\nSubject: ignored\nMessage-ID: <x@y>\n\n');
  const env = envelope(buf, parseMessage(buf)) as unknown[];
  assert.equal(env[1], 'one  two');
  assert.equal(env[9], '<x@y>');
});
