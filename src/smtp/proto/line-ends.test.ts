import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { canonicalLineEnds, LineEndCanonicalizer } from './line-ends.js';

function run(chunks: string[]): { out: string; bareCr: number; bareLf: number } {
  const c = new LineEndCanonicalizer();
  const out = [...chunks.map((x) => c.push(Buffer.from(x, 'latin1'))), c.end()].map((b) => b.toString('latin1')).join('');
  return { out, bareCr: c.bareCr, bareLf: c.bareLf };
}

test('CRLF stays; bare CR and bare LF become CRLF, across chunk boundaries too', () => {
  assert.deepEqual(run(['a\r\nb']), { out: 'a\r\nb', bareCr: 0, bareLf: 0 });
  assert.deepEqual(run(['a\rb\nc']), { out: 'a\r\nb\r\nc', bareCr: 1, bareLf: 1 });
  assert.deepEqual(run(['a\r', '\nb']), { out: 'a\r\nb', bareCr: 0, bareLf: 0 });
  assert.deepEqual(run(['a\r', 'b']), { out: 'a\r\nb', bareCr: 1, bareLf: 0 });
  assert.deepEqual(run(['a\r']), { out: 'a\r\n', bareCr: 1, bareLf: 0 });
  assert.deepEqual(run(['a\r', '', '\n']), { out: 'a\r\n', bareCr: 0, bareLf: 0 });
  assert.deepEqual(run(['\n\r\r\n\r']), { out: '\r\n\r\n\r\n\r\n', bareCr: 2, bareLf: 1 });
  assert.deepEqual(run(['x\r.\r', '\nMAIL']), { out: 'x\r\n.\r\nMAIL', bareCr: 1, bareLf: 0 });
});

test('unchanged content is returned without a copy', () => {
  const b = Buffer.from('a\r\nb\r\n');
  assert.equal(new LineEndCanonicalizer().push(b), b);
  assert.equal(canonicalLineEnds(b).data, b);
});

test('fuzz: any split gives the same output; no bare CR or LF is left', () => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom('\r', '\n', '\r\n', 'a', '.'), { maxLength: 30 }), fc.nat(100), (parts, cut) => {
      const msg = parts.join('');
      const c = cut % (msg.length + 1);
      const { out } = run([msg.slice(0, c), msg.slice(c)]);
      assert.equal(out, msg.replace(/\r\n|\r|\n/g, '\r\n'));
      assert.doesNotMatch(out, /\r(?!\n)|(?<!\r)\n/);
    }),
    { numRuns: 2000 },
  );
});
