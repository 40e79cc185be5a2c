import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BdatChunkReader, BdatMessage } from './bdat.js';

test('chunk split over reads, rest returned', () => {
  const got: Buffer[] = [];
  const r = new BdatChunkReader(10, (b) => got.push(Buffer.from(b)));
  assert.equal(r.push(Buffer.from('0123')), undefined);
  assert.equal(r.remaining, 6);
  const res = r.push(Buffer.from('456789BDAT 3 LAST\r\n'));
  assert.ok(res);
  assert.equal(res.rest.toString(), 'BDAT 3 LAST\r\n');
  assert.equal(Buffer.concat(got).toString(), '0123456789');
});

test('chunk bytes are taken verbatim: no dot-unstuffing, CRLF.CRLF is data', () => {
  const got: Buffer[] = [];
  const data = '\r\n.\r\n..\n\x00';
  const r = new BdatChunkReader(data.length, (b) => got.push(Buffer.from(b)));
  const res = r.push(Buffer.from(data + 'QUIT\r\n', 'latin1'));
  assert.equal(Buffer.concat(got).toString('latin1'), data);
  assert.equal(res?.rest.toString(), 'QUIT\r\n');
});

test('zero-size chunk completes on an empty push', () => {
  const r = new BdatChunkReader(0, () => assert.fail('no data expected'));
  assert.equal(r.done, true);
  assert.equal(r.push(Buffer.alloc(0))?.rest.length, 0);
});

test('every split point of a chunk gives the same bytes', () => {
  const input = Buffer.from('abcdefghijNOOP\r\n');
  for (let i = 0; i <= input.length; i++) {
    const got: Buffer[] = [];
    const r = new BdatChunkReader(10, (b) => got.push(Buffer.from(b)));
    let res = r.push(input.subarray(0, i));
    let rest = '';
    if (res) rest = res.rest.toString() + input.subarray(i).toString();
    else {
      res = r.push(input.subarray(i));
      assert.ok(res);
      rest = res.rest.toString();
    }
    assert.equal(Buffer.concat(got).toString(), 'abcdefghij');
    assert.equal(rest, 'NOOP\r\n');
  }
});

test('bad sizes throw', () => {
  assert.throws(() => new BdatChunkReader(-1, () => {}), RangeError);
  assert.throws(() => new BdatChunkReader(1.5, () => {}), RangeError);
});

test('message over several chunks: size limit, 8-bit and NUL noticed, LAST enforced', () => {
  const got: Buffer[] = [];
  const m = new BdatMessage({ maxSize: 8, sink: (b) => got.push(Buffer.from(b)) });
  const c1 = m.chunk(5, false);
  assert.ok(c1.push(Buffer.from('hello')));
  assert.equal(m.exceeded, false);
  const c2 = m.chunk(6, true);
  assert.ok(c2.push(Buffer.from([0x20, 0xe9, 0x00, 0x41, 0x42, 0x43])));
  assert.equal(m.size, 11);
  assert.equal(m.exceeded, true);
  assert.equal(m.eightBit, true);
  assert.equal(m.nul, true);
  assert.equal(m.last, true);
  assert.equal(Buffer.concat(got).length, 8);
  assert.throws(() => m.chunk(1, true));
});
