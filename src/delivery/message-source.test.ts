import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageSource } from './message-source.js';

test('buffers and file ranges, re-iterable, with prepend', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'postern-src-'));
  try {
    const path = join(dir, 'm');
    writeFileSync(path, '0123456789');
    const src = new MessageSource([Buffer.from('A'), { path, start: 2, end: 5 }, { path, start: 7, end: 7 }, { path, start: 8, end: 10 }]);
    assert.equal(src.size, 6);
    assert.equal((await src.toBuffer()).toString(), 'A23489');
    assert.equal((await src.toBuffer()).toString(), 'A23489');
    const p = src.prepend(Buffer.from('head:'));
    assert.equal(p.size, 11);
    assert.equal((await p.toBuffer()).toString(), 'head:A23489');
    assert.equal(src.prepend(Buffer.alloc(0)), src);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
