import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineReader, type LineEvent } from './line-reader.js';

const b = (s: string) => Buffer.from(s, 'latin1');

function drain(r: LineReader): LineEvent[] {
  const out: LineEvent[] = [];
  for (let e = r.next(); e; e = r.next()) out.push(e);
  return out;
}

function lines(evs: LineEvent[]): string[] {
  return evs.map((e) => (e.type === 'line' ? e.line.toString('latin1') : `<overlong ${e.length}>`));
}

test('splits CRLF lines, keeps partial line until complete', () => {
  const r = new LineReader({ maxLineLength: 100 });
  r.push(b('EHLO a\r\nMAIL FROM:<'));
  assert.deepEqual(lines(drain(r)), ['EHLO a']);
  assert.equal(r.buffered, 11);
  r.push(b('x@y>\r'));
  assert.deepEqual(drain(r), []);
  r.push(b('\n'));
  const evs = drain(r);
  assert.deepEqual(lines(evs), ['MAIL FROM:<x@y>']);
  assert.equal(evs[0]!.type === 'line' && evs[0]!.bareLf, false);
});

test('every split point gives the same lines', () => {
  const input = b('A\r\nBB\nC\rD\r\n\r\nE\x00\xff\r\n');
  for (let i = 0; i <= input.length; i++) {
    const r = new LineReader({ maxLineLength: 100 });
    r.push(input.subarray(0, i));
    const evs = drain(r);
    r.push(input.subarray(i));
    evs.push(...drain(r));
    assert.deepEqual(lines(evs), ['A', 'BB', 'C\rD', '', 'E\x00\xff'], `split ${i}`);
  }
});

test('reports bare LF, bare CR, NUL and 8-bit', () => {
  const r = new LineReader({ maxLineLength: 100 });
  r.push(b('a\nb\rc\r\nd\x00\r\n\xc3\xa9\r\nplain\r\n'));
  const evs = drain(r).map((e) => (e.type === 'line' ? [e.bareLf, e.bareCr, e.nul, e.eightBit] : e.type));
  assert.deepEqual(evs, [
    [true, false, false, false],
    [false, true, false, false],
    [false, false, true, false],
    [false, false, false, true],
    [false, false, false, false],
  ]);
});

test('overlong line: one event, rest of line dropped, next line fine', () => {
  const r = new LineReader({ maxLineLength: 10 });
  r.push(b('12345678\r\n'));
  assert.deepEqual(lines(drain(r)), ['12345678']);
  r.push(b('123456789'));
  const ev = drain(r);
  assert.deepEqual(lines(ev), ['<overlong 11>']);
  assert.equal(r.buffered, 0, 'overlong bytes are not kept');
  r.push(b('x'.repeat(10000)));
  assert.deepEqual(drain(r), []);
  assert.equal(r.buffered, 0, 'memory stays bounded while discarding');
  r.push(b('tail\r\nQUIT\r\n'));
  assert.deepEqual(lines(drain(r)), ['QUIT']);
});

test('overlong line arriving complete in one chunk', () => {
  const r = new LineReader({ maxLineLength: 10 });
  r.push(b('123456789\r\nok\r\n'));
  assert.deepEqual(lines(drain(r)), ['<overlong 11>', 'ok']);
});

test('overlong length counts the CRLF, whether the line is complete or not', () => {
  // Reported before the line ends, the length was once the bytes seen: maxLineLength - 1 for
  // maxLineLength - 1 content bytes, though such a line is longer than the limit with its CRLF.
  for (const max of [3, 10, 1000]) {
    for (const extra of [1, 2, 50]) {
      const content = 'x'.repeat(max - 2 + extra);
      for (const tail of ['', '\r', '\r\n', '\n']) {
        const r = new LineReader({ maxLineLength: max });
        r.push(b(content + tail));
        const ev = drain(r);
        assert.equal(ev.length, 1, `max ${max} extra ${extra} tail ${JSON.stringify(tail)}`);
        assert.equal(ev[0]!.type, 'overlong');
        const length = ev[0]!.type === 'overlong' ? ev[0]!.length : 0;
        assert.ok(length > max, `length ${length} for max ${max}, tail ${JSON.stringify(tail)}`);
        assert.equal(length, content.length + 2);
      }
    }
  }
  // Byte by byte, as a slow client sends it: reported once the content passes max - 2.
  const r = new LineReader({ maxLineLength: 10 });
  const got: LineEvent[] = [];
  for (const c of 'abcdefghijklmnop\r\nok\r\n') {
    r.push(b(c));
    got.push(...drain(r));
  }
  assert.deepEqual(lines(got), ['<overlong 11>', 'ok']);
});

test('a line of exactly the limit with CR pending is not overlong yet', () => {
  const r = new LineReader({ maxLineLength: 10 });
  r.push(b('12345678\r'));
  assert.deepEqual(drain(r), []);
  r.push(b('\n'));
  assert.deepEqual(lines(drain(r)), ['12345678']);
});

test('takeBuffered hands pipelined bytes over to another reader', () => {
  const r = new LineReader({ maxLineLength: 100 });
  r.push(b('DATA\r\nSubject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n'));
  assert.deepEqual(lines([r.next()!]), ['DATA']);
  assert.equal(r.takeBuffered().toString(), 'Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n');
  assert.equal(r.buffered, 0);
  assert.equal(r.next(), undefined);
  r.push(b('QUIT\r\n'));
  assert.deepEqual(lines(drain(r)), ['QUIT']);
});

test('setMaxLineLength raises the limit for AUTH exchanges; bad limits throw', () => {
  const r = new LineReader({ maxLineLength: 10 });
  r.setMaxLineLength(100);
  r.push(b('x'.repeat(50) + '\r\n'));
  assert.equal(drain(r)[0]!.type, 'line');
  assert.throws(() => r.setMaxLineLength(2), RangeError);
  assert.throws(() => new LineReader({ maxLineLength: NaN }), RangeError);
});
