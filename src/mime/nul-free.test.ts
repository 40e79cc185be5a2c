import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMessage } from './mime-tree.js';
import { withoutNul } from './nul-free.js';
import { decodePartContent } from './transfer-decode.js';

const served = (s: string): string => {
  const buf = Buffer.from(s, 'latin1');
  return withoutNul(buf, parseMessage(buf)).toString('latin1');
};

test('withoutNul: a message without NUL is served as stored (the same buffer)', () => {
  const buf = Buffer.from('Subject: x\r\n\r\nbody\r\n');
  assert.equal(withoutNul(buf, parseMessage(buf)), buf);
});

test('withoutNul: parts with NUL become base64 with their encoding field replaced; the rest stays', () => {
  const out = served(
    'Subject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nkept\r\n' +
      '--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding:\r\n quoted-printable\r\nX-After: 1\r\n\r\na=3D\0b\r\n' +
      '--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\nContent-Transfer-Encoding: x-unknown\r\n\r\nraw\0\r\n--b--\r\n',
  );
  assert.ok(!out.includes('\0'));
  const root = parseMessage(Buffer.from(out, 'latin1'));
  const [one, two, three] = root.children!;
  const buf = Buffer.from(out, 'latin1');
  assert.equal(decodePartContent(buf, one!).toString(), 'kept');
  assert.equal(two!.encoding, 'base64');
  assert.match(out, /X-After: 1\r\nContent-Transfer-Encoding: base64\r\n\r\n/);
  assert.equal(decodePartContent(buf, two!).toString('latin1'), 'a=\0b');
  // An unknown encoding cannot be decoded: its bytes as stored are what base64 carries.
  assert.equal(decodePartContent(buf, three!.message!).toString('latin1'), 'raw\0');
});

test('withoutNul: LF-only headers keep LF; a NUL in a header becomes a space; long bodies are wrapped at 76', () => {
  const out = served(`Subject: a\0b\nContent-Transfer-Encoding: binary\n\n${'\0'.repeat(100)}`);
  assert.match(out, /^Subject: a b\nContent-Transfer-Encoding: base64\n\n/);
  const lines = out.split('\n\n')[1]!.split('\r\n');
  assert.equal(lines[0]!.length, 76);
  assert.equal(Buffer.from(lines.join(''), 'base64').length, 100);
});
