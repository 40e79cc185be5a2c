import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DataReader, type BareLfPolicy, type DataResult } from './data-reader.js';

/** Feeds `chunks` and returns the decoded message and the result (undefined if unfinished). */
function run(chunks: Buffer[], opts: { maxSize?: number; bareLf?: BareLfPolicy; maxLineLength?: number } = {}) {
  const out: Buffer[] = [];
  const r = new DataReader({ ...opts, sink: (b) => out.push(Buffer.from(b)) });
  let result: DataResult | undefined;
  for (const c of chunks) {
    assert.equal(result, undefined, 'no push after the end');
    result = r.push(c);
  }
  return { message: Buffer.concat(out).toString('latin1'), result };
}

const b = (s: string) => Buffer.from(s, 'latin1');

/** Whole-buffer reference decoder with the same rules, line by line (lines end at LF). */
function reference(input: Buffer, convert: boolean): { message: string; rest: string; bareLf: number } | undefined {
  let pos = 0;
  let out = '';
  let bareLf = 0;
  let prevBare = false;
  const s = input.toString('latin1');
  for (;;) {
    const j = s.indexOf('\n', pos);
    if (j < 0) return undefined;
    const raw = s.slice(pos, j);
    if (raw === '.\r' && !prevBare) return { message: out, rest: s.slice(j + 1), bareLf };
    let content = raw;
    if (content.startsWith('.') && raw !== '.' && raw !== '.\r') content = content.slice(1);
    if (content.endsWith('\r')) {
      out += content + '\n';
      prevBare = false;
    } else {
      bareLf++;
      out += content + (convert ? '\r\n' : '\n');
      prevBare = true;
    }
    pos = j + 1;
  }
}

test('plain message, terminator, pipelined rest', () => {
  const { message, result } = run([b('Subject: x\r\n\r\nhello\r\n.\r\nQUIT\r\n')]);
  assert.equal(message, 'Subject: x\r\n\r\nhello\r\n');
  assert.ok(result);
  assert.equal(result.rest.toString(), 'QUIT\r\n');
  assert.equal(result.size, message.length);
  assert.equal(result.exceeded, false);
  assert.equal(result.bareLf, 0);
  assert.equal(result.eightBit, false);
});

test('empty message right after DATA', () => {
  const { message, result } = run([b('.\r\nRSET\r\n')]);
  assert.equal(message, '');
  assert.equal(result?.size, 0);
  assert.equal(result?.rest.toString(), 'RSET\r\n');
});

test('dot-unstuffing, RFC 5321 4.5.2', () => {
  const { message } = run([b('..\r\n...x\r\n.y\r\na.b\r\n.\r\n')]);
  assert.equal(message, '.\r\n..x\r\ny\r\na.b\r\n');
});

test('terminator split at every byte boundary (two and three chunks)', () => {
  const input = b('a\r\n..b\r\n\r\n.\r\nNOOP\r\n');
  const expected = 'a\r\n.b\r\n\r\n';
  for (let i = 0; i <= input.length; i++) {
    for (let j = i; j <= input.length; j++) {
      const out: Buffer[] = [];
      const r = new DataReader({ sink: (x) => out.push(Buffer.from(x)) });
      let res: DataResult | undefined;
      let after = '';
      for (const c of [input.subarray(0, i), input.subarray(i, j), input.subarray(j)]) {
        if (res) after += c.toString();
        else res = r.push(c);
      }
      assert.ok(res, `split ${i}/${j}`);
      assert.equal(Buffer.concat(out).toString(), expected, `split ${i}/${j}`);
      assert.equal(res.rest.toString() + after, 'NOOP\r\n', `split ${i}/${j}`);
    }
  }
});

test('byte-at-a-time feeding', () => {
  const input = b('.a\r\n.\rb\r\nx\n.\n\r\n.\r\nX');
  const out: Buffer[] = [];
  const r = new DataReader({ sink: (x) => out.push(Buffer.from(x)) });
  let res: DataResult | undefined;
  for (let i = 0; i < input.length && !res; i++) res = r.push(input.subarray(i, i + 1));
  assert.ok(res);
  assert.equal(res.rest.toString(), '');
  const ref = reference(input, false)!;
  assert.equal(Buffer.concat(out).toString('latin1'), ref.message);
  assert.equal(ref.rest, 'X');
});

test('only CRLF . CRLF ends the data (SMTP smuggling)', () => {
  for (const s of ['a\n.\nMAIL FROM:<x@y>\r\n', 'a\r\n.\nb\r\n', 'a\n.\r\nb\r\n', 'a\r.\r\nb\r\n', 'a\r\n.\rb\r\n']) {
    const { message, result } = run([b(s)]);
    assert.equal(result, undefined, JSON.stringify(s));
    assert.ok(message.length > 0);
  }
  const { message, result } = run([b('a\n.\r\nRCPT TO:<v@w>\r\n.\r\n')]);
  assert.equal(message, 'a\n.\r\nRCPT TO:<v@w>\r\n');
  assert.equal(result?.bareLf, 1);
  assert.equal(result?.rest.length, 0);
});

test('bare LF counted, kept or converted', () => {
  const input = b('a\nb\r\nc\nd\r\n.\r\n');
  const kept = run([input], { bareLf: 'keep' });
  assert.equal(kept.message, 'a\nb\r\nc\nd\r\n');
  assert.equal(kept.result?.bareLf, 2);
  const conv = run([input], { bareLf: 'convert' });
  assert.equal(conv.message, 'a\r\nb\r\nc\r\nd\r\n');
  assert.equal(conv.result?.bareLf, 2);
  assert.equal(conv.result?.size, 12);
});

test('bare CR, NUL and 8-bit bytes are reported', () => {
  const { message, result } = run([b('a\rb\r\n\x00\xe9\r\n.\r\n')]);
  assert.equal(message, 'a\rb\r\n\x00\xe9\r\n');
  assert.equal(result?.bareCr, 1);
  assert.equal(result?.nul, 1);
  assert.equal(result?.eightBit, true);
});

test('dot then bare CR at line start drops the stuffing dot', () => {
  const { message, result } = run([b('.\rx\r\n.\r\n')]);
  assert.equal(message, '\rx\r\n');
  assert.equal(result?.bareCr, 1);
});

test('size limit: sink stops at maxSize but the data is read to its end', () => {
  const body = 'x'.repeat(50) + '\r\n';
  const { message, result } = run([b(body.repeat(10)), b('.\r\nQUIT\r\n')], { maxSize: 100 });
  assert.equal(message.length, 100);
  assert.equal(message, body.repeat(10).slice(0, 100));
  assert.ok(result);
  assert.equal(result.exceeded, true);
  assert.equal(result.size, 520);
  assert.equal(result.rest.toString(), 'QUIT\r\n');
});

test('size exactly at the limit is not exceeded', () => {
  const { result } = run([b('abc\r\n.\r\n')], { maxSize: 5 });
  assert.equal(result?.exceeded, false);
  assert.equal(result?.size, 5);
});

test('long lines are counted, not refused', () => {
  const long = 'y'.repeat(1200);
  const { message, result } = run([b(`short\r\n${long}\r\n${'z'.repeat(998)}\r\n.\r\n`)]);
  assert.equal(message.length, 7 + 1202 + 1000);
  assert.equal(result?.maxLineLength, 1200);
  assert.equal(result?.longLines, 1);
});

test('push after end throws', () => {
  const r = new DataReader({ sink: () => {} });
  assert.ok(r.push(b('.\r\n')));
  assert.equal(r.done, true);
  assert.throws(() => r.push(b('x')));
});

test('fuzz: any split of any input decodes like the whole-buffer reference', () => {
  const byte = fc.constantFrom(0x2e, 0x0d, 0x0a, 0x61, 0x00, 0xff);
  fc.assert(
    fc.property(fc.array(byte, { maxLength: 80 }), fc.array(fc.nat(80), { maxLength: 6 }), fc.boolean(), (bytes, cuts, convert) => {
      const input = Buffer.from(bytes);
      const points = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((x, y) => x - y);
      const chunks: Buffer[] = [];
      let prev = 0;
      for (const p of points) {
        chunks.push(input.subarray(prev, p));
        prev = p;
      }
      chunks.push(input.subarray(prev));
      const out: Buffer[] = [];
      const r = new DataReader({ sink: (x) => out.push(Buffer.from(x)), bareLf: convert ? 'convert' : 'keep' });
      let res: DataResult | undefined;
      let rest = '';
      for (const c of chunks) {
        if (res) rest += c.toString('latin1');
        else res = r.push(c);
      }
      const ref = reference(input, convert);
      if (!ref) {
        assert.equal(res, undefined);
        return;
      }
      assert.ok(res);
      assert.equal(Buffer.concat(out).toString('latin1'), ref.message);
      assert.equal(res.rest.toString('latin1') + rest, ref.rest);
      assert.equal(res.bareLf, ref.bareLf);
      assert.equal(res.nul, ref.message.split('\x00').length - 1);
      assert.equal(res.eightBit, /[\x80-\xff]/.test(ref.message));
      assert.equal(res.size, Buffer.byteLength(ref.message, 'latin1'));
    }),
    { numRuns: 3000 },
  );
});
