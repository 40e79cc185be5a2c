import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMessage } from './mime-tree.js';
import {
  binarySize,
  decodeBase64,
  decodePartContent,
  decodeQuotedPrintable,
  decodeTransfer,
  UnknownTransferEncodingError,
} from './transfer-decode.js';

const qp = (s: string): string => decodeQuotedPrintable(Buffer.from(s, 'latin1')).toString('latin1');

test('base64: line breaks, garbage and missing padding', () => {
  assert.equal(decodeBase64(Buffer.from('aGVs\r\nbG8=')).toString(), 'hello');
  assert.equal(decodeBase64(Buffer.from('aGVsbG8')).toString(), 'hello');
  assert.equal(decodeBase64(Buffer.from('a G*V s\tbG8=\r\n')).toString(), 'hello');
  assert.equal(decodeBase64(Buffer.from('')).length, 0);
  assert.equal(decodeBase64(Buffer.from('a')).length, 0);
  const random = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 37) & 0xff));
  assert.deepEqual(decodeBase64(Buffer.from(random.toString('base64').replace(/.{76}/g, '$&\r\n'))), random);
});

test('quoted-printable: escapes, soft breaks, trailing white space, malformed "="', () => {
  assert.equal(qp('caf=E9 cr=e8me'), 'caf\xe9 cr\xe8me');
  assert.equal(qp('soft=\r\nbreak=\nhere'), 'softbreakhere');
  assert.equal(qp('trailing   \r\nspace\t\nend'), 'trailing\r\nspace\nend');
  assert.equal(qp('keep =\t \r\nsoft'), 'keep soft');
  assert.equal(qp('bad =ZZ and =4'), 'bad =ZZ and =4');
  assert.equal(qp('end='), 'end');
  assert.equal(qp('=3D=3d'), '==');
});

test('unknown transfer encoding throws a typed error', () => {
  assert.throws(() => decodeTransfer(Buffer.from('x'), 'x-uuencode'), UnknownTransferEncodingError);
  assert.equal(decodeTransfer(Buffer.from('x'), '8bit').toString(), 'x');
  assert.equal(decodeTransfer(Buffer.from('x'), null).toString(), 'x');
});

test('decodePartContent and binarySize of parts', () => {
  const buf = Buffer.from(
    'Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8gd29ybGQ=\r\n--b\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\na=3Db=\r\nc\r\n--b\r\nContent-Transfer-Encoding: x-foo\r\n\r\nzz\r\n--b--\r\n',
  );
  const root = parseMessage(buf);
  const [b64, q, unknown] = root.children!;
  assert.equal(decodePartContent(buf, b64!).toString(), 'hello world');
  assert.equal(binarySize(buf, b64!), 11);
  assert.equal(decodePartContent(buf, q!).toString(), 'a=bc');
  assert.equal(binarySize(buf, q!), 4);
  assert.throws(() => decodePartContent(buf, unknown!), UnknownTransferEncodingError);
  // Composite parts come back unchanged.
  assert.equal(decodePartContent(buf, root).length, root.bodyEnd - root.bodyStart);
  assert.equal(binarySize(buf, root), root.bodyEnd - root.bodyStart);
});

test('base64 size matches the decoded length for every remainder', () => {
  for (let n = 0; n < 10; n++) {
    const data = Buffer.alloc(n, 7).toString('base64').replace(/=/g, '');
    const buf = Buffer.from(`Content-Transfer-Encoding: base64\r\n\r\n${data}`);
    const root = parseMessage(buf);
    assert.equal(binarySize(buf, root), n);
    assert.equal(decodePartContent(buf, root).length, n);
  }
});
