import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import fc from 'fast-check';
import { createDotStuffStream, dotStuff, DotStuffer } from './dot-stuff.js';
import { DataReader } from './data-reader.js';

const s = (x: string) => dotStuff(Buffer.from(x, 'latin1')).toString('latin1');

test('stuffs leading dots and terminates', () => {
  assert.equal(s('a\r\n.b\r\n..\r\n.\r\n'), 'a\r\n..b\r\n...\r\n..\r\n.\r\n');
  assert.equal(s('.start'), '..start\r\n.\r\n');
  assert.equal(s(''), '.\r\n');
  assert.equal(s('no newline'), 'no newline\r\n.\r\n');
  assert.equal(s('a.b\r\n'), 'a.b\r\n.\r\n');
});

test('bare LF and bare CR become CRLF', () => {
  assert.equal(s('a\n.b\nc\r\n'), 'a\r\n..b\r\nc\r\n.\r\n');
  assert.equal(s('a\rb'), 'a\r\nb\r\n.\r\n');
  assert.equal(s('a\r'), 'a\r\n.\r\n');
  assert.equal(s('\r\r\n\n\r'), '\r\n\r\n\r\n\r\n.\r\n');
});

test('smuggling sequences in the content are stuffed lines, never an end of data', () => {
  // RFC 5321 4.5.2 after canonical line ends: each "." line becomes "..", so the only
  // CRLF "." CRLF in the output is the terminator, and no lone CR or LF is left.
  for (const seq of ['\n.\n', '\r\n.\n', '\n.\r\n', '\r.\r', '\r.\r\n', '\r\n.\r', '\r.\n', '\n.\r']) {
    const out = s(`a${seq}MAIL FROM:<x@ours.example>\r\n`);
    assert.equal(out, 'a\r\n..\r\nMAIL FROM:<x@ours.example>\r\n.\r\n', JSON.stringify(seq));
    assert.equal(out.indexOf('\r\n.\r\n'), out.length - 5);
    assert.doesNotMatch(out, /\r(?!\n)|(?<!\r)\n/);
  }
});

test('chunk boundaries do not matter', () => {
  const input = Buffer.from('x\r\n.\r\n\n.y\r.\r\r\n.z\r');
  const whole = dotStuff(input).toString();
  for (let i = 0; i <= input.length; i++) {
    const st = new DotStuffer();
    const out = Buffer.concat([st.push(input.subarray(0, i)), st.push(input.subarray(i)), st.end()]).toString();
    assert.equal(out, whole, `split ${i}`);
  }
  const st = new DotStuffer();
  st.end();
  assert.throws(() => st.push(Buffer.from('x')));
});

test('Transform stream', async () => {
  const out = await buffer(Readable.from([Buffer.from('a\n'), Buffer.from('.b')]).pipe(createDotStuffStream()));
  assert.equal(out.toString(), 'a\r\n..b\r\n.\r\n');
});

test('fuzz: DataReader decodes what DotStuffer encodes (line ends made canonical)', () => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom('.', '\r\n', '\n', '\r', 'a', '\xe9', '..', '\r\n.\r\n', '\r.\r'), { maxLength: 40 }), fc.nat(200), (parts, cut) => {
      const msg = parts.join('');
      const enc = dotStuff(Buffer.from(msg, 'latin1'));
      const c = cut % (enc.length + 1);
      const out: Buffer[] = [];
      const r = new DataReader({ sink: (b) => out.push(Buffer.from(b)) });
      const res = r.push(enc.subarray(0, c)) ?? r.push(enc.subarray(c));
      assert.ok(res);
      assert.equal(res.rest.length, 0);
      let expected = msg.replace(/\r\n|\r|\n/g, '\r\n');
      if (expected !== '' && !expected.endsWith('\r\n')) expected += '\r\n';
      assert.equal(Buffer.concat(out).toString('latin1'), expected);
      assert.equal(res.bareLf, 0);
      assert.equal(res.bareCr, 0);
    }),
    { numRuns: 2000 },
  );
});
