import assert from 'node:assert/strict';
import { test } from 'node:test';
import { domainToASCII } from 'node:url';
import { toAsciiDomain } from './ascii-domain.js';

test('the fast path gives what domainToASCII gives', () => {
  const fixed = ['example.com', 'a-b.c', 'localhost', '1.2.3.4', '0x7f.1', 'a.0x10', 'a.b1', 'a.123', 'a.0xg', 'x.09', 'a.b.', 'a.1.',
    '-a.com', 'a..b', '.a', '', 'exam_ple.com', 'xn--bcher-kva.de', 'xn--zz.de', 'bücher.de', 'a b.com', 'a%41.com'];
  for (const d of fixed) assert.equal(toAsciiDomain(d), domainToASCII(d), d);
  const chars = 'abz09-.x_ü';
  let seed = 7;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  for (let i = 0; i < 20_000; i++) {
    let d = rand(4) === 0 ? 'xn--' : '';
    for (let k = rand(12); k > 0; k--) d += chars[rand(chars.length)];
    assert.equal(toAsciiDomain(d), domainToASCII(d), d);
  }
});
