import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bodyStructure } from './body-structure.js';
import { parseMessage } from './mime-tree.js';
import { binaryPartsAsBase64, withoutNul } from './nul-free.js';
import { decodePartContent } from './transfer-decode.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

test('withoutNul: a message without NUL is served as stored (the same buffer)', () => {
  const buf = b('Subject: x\r\n\r\nbody\r\n');
  assert.equal(withoutNul(buf), buf);
});

test('withoutNul: every NUL becomes 0x80, octet for octet, so the structure and sizes stay those of the stored bytes', () => {
  const stored = b(
    'Subject: a\0b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nkept\r\n' +
      '--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\na=3D\0b\r\nline\r\n--b--\r\n',
  );
  const out = withoutNul(stored);
  assert.notEqual(out, stored);
  assert.equal(out.length, stored.length);
  assert.ok(!out.includes(0));
  assert.equal(out.toString('latin1'), stored.toString('latin1').replaceAll('\0', '\x80'));
  assert.deepEqual(bodyStructure(out, parseMessage(out), true), bodyStructure(stored, parseMessage(stored), true));
  assert.ok(stored.includes(0), 'the stored bytes are left alone');
});

test('binaryPartsAsBase64: binary parts become base64 with their encoding field replaced; the rest stays', () => {
  const out = binaryPartsAsBase64(
    b(
      'Subject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nkept\0\r\n' +
        '--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding:\r\n Binary\r\nX-After: 1\r\n\r\na\0b\xff\r\n' +
        '--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\nContent-Transfer-Encoding: binary\r\n\r\nraw\0\r\n--b--\r\n',
    ),
  ).toString('latin1');
  const buf = b(out);
  const [one, two, three] = parseMessage(buf).children!;
  // Not binary: kept as it is (a NUL there is served as 0x80 by withoutNul).
  assert.equal(decodePartContent(buf, one!).toString('latin1'), 'kept\0');
  assert.equal(two!.encoding, 'base64');
  assert.match(out, /X-After: 1\r\nContent-Transfer-Encoding: base64\r\n\r\nYQBi\/w==\r\n--b/);
  assert.equal(decodePartContent(buf, two!).toString('latin1'), 'a\0b\xff');
  assert.equal(three!.message!.encoding, 'base64');
  assert.equal(decodePartContent(buf, three!.message!).toString('latin1'), 'raw\0');
});

test('binaryPartsAsBase64: no binary part, the same buffer; LF-only headers keep LF; long bodies are wrapped at 76', () => {
  const plain = b('Subject: x\r\n\r\nab\0cd\r\n');
  assert.equal(binaryPartsAsBase64(plain), plain);
  const out = binaryPartsAsBase64(b(`Subject: a\nContent-Transfer-Encoding: binary\n\n${'\0'.repeat(100)}`)).toString('latin1');
  assert.match(out, /^Subject: a\nContent-Transfer-Encoding: base64\n\n/);
  const lines = out.split('\n\n')[1]!.split('\r\n');
  assert.equal(lines[0]!.length, 76);
  assert.equal(Buffer.from(lines.join(''), 'base64').length, 100);
});
