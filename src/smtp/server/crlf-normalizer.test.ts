import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CrlfNormalizer } from './crlf-normalizer.js';

function run(chunks: string[]): { out: string; converted: number } {
  const n = new CrlfNormalizer();
  const out = chunks.flatMap((c) => n.push(Buffer.from(c, 'latin1'))).map((b) => b.toString('latin1')).join('');
  return { out, converted: n.converted };
}

test('bare LF becomes CRLF, CRLF stays, also across chunk boundaries', () => {
  assert.deepEqual(run(['a\nb\r\nc\n']), { out: 'a\r\nb\r\nc\r\n', converted: 2 });
  assert.deepEqual(run(['a\r', '\nb']), { out: 'a\r\nb', converted: 0 });
  assert.deepEqual(run(['a', '\n', '\n']), { out: 'a\r\n\r\n', converted: 2 });
  assert.deepEqual(run(['\n']), { out: '\r\n', converted: 1 });
  assert.deepEqual(run(['x\r', 'y\n']), { out: 'x\ry\r\n', converted: 1 });
  assert.deepEqual(run(['']), { out: '', converted: 0 });
});

test('bare CRs are counted, also across chunk boundaries and at the end', () => {
  const count = (chunks: string[]) => {
    const n = new CrlfNormalizer();
    const out = chunks.flatMap((c) => n.push(Buffer.from(c, 'latin1'))).map((b) => b.toString('latin1')).join('');
    n.finish();
    return { out, bareCr: n.bareCr };
  };
  assert.deepEqual(count(['a\r.\r\nb']), { out: 'a\r.\r\nb', bareCr: 1 });
  assert.deepEqual(count(['a\r', '\nb\r', 'c']), { out: 'a\r\nb\rc', bareCr: 1 });
  assert.deepEqual(count(['a\r\r\n', '\r']), { out: 'a\r\r\n\r', bareCr: 2 });
  assert.deepEqual(count(['a\r\n']), { out: 'a\r\n', bareCr: 0 });
});
