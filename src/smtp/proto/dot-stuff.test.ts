import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import fc from 'fast-check';
import { createDotStuffStream, dotStuff, DotStuffer } from './dot-stuff.js';
import { DataReader } from './data-reader.js';

const s = (x: string, convertLf?: boolean) => dotStuff(Buffer.from(x, 'latin1'), { convertLf }).toString('latin1');

test('stuffs leading dots and terminates', () => {
  assert.equal(s('a\r\n.b\r\n..\r\n.\r\n'), 'a\r\n..b\r\n...\r\n..\r\n.\r\n');
  assert.equal(s('.start'), '..start\r\n.\r\n');
  assert.equal(s(''), '.\r\n');
  assert.equal(s('no newline'), 'no newline\r\n.\r\n');
  assert.equal(s('a.b\r\n'), 'a.b\r\n.\r\n');
});

test('LF to CRLF conversion, optional', () => {
  assert.equal(s('a\n.b\nc\r\n'), 'a\r\n..b\r\nc\r\n.\r\n');
  assert.equal(s('a\n.b\n', false), 'a\n..b\n\r\n.\r\n');
  assert.equal(s('a\rb'), 'a\rb\r\n.\r\n');
});

test('chunk boundaries do not matter', () => {
  const input = Buffer.from('x\r\n.\r\n\n.y\r');
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

test('fuzz: DataReader decodes what DotStuffer encodes (CRLF-normalised content)', () => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom('.', '\r\n', '\n', 'a', '\xe9', '..', '\r\n.\r\n'), { maxLength: 40 }), fc.nat(200), (parts, cut) => {
      const msg = parts.join('');
      const enc = dotStuff(Buffer.from(msg, 'latin1'));
      const c = cut % (enc.length + 1);
      const out: Buffer[] = [];
      const r = new DataReader({ sink: (b) => out.push(Buffer.from(b)) });
      const res = r.push(enc.subarray(0, c)) ?? r.push(enc.subarray(c));
      assert.ok(res);
      assert.equal(res.rest.length, 0);
      let expected = msg.replace(/\r?\n/g, '\r\n');
      if (expected !== '' && !expected.endsWith('\r\n')) expected += '\r\n';
      assert.equal(Buffer.concat(out).toString('latin1'), expected);
      assert.equal(res.bareLf, 0);
    }),
    { numRuns: 2000 },
  );
});
