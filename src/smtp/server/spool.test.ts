import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { MessageSource } from '../../delivery/message-source.js';
import { MEMORY_SPOOL_BUDGET, MEMORY_SPOOL_MAX } from './limits.js';
import { SpoolDir, spoolMemoryInUse, type SpoolFile } from './spool.js';

const dir = mkdtempSync(join(tmpdir(), 'postern-spool-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const spools = new SpoolDir(dir);

async function filled(chunks: Buffer[]): Promise<SpoolFile> {
  const s = spools.create('t');
  for (const c of chunks) await s.write([c.subarray(0, 3), c.subarray(3)]);
  await s.finish();
  return s;
}

test('a small message stays in memory and reads back exactly', async () => {
  const before = spoolMemoryInUse();
  const s = await filled([Buffer.from('Subject: hi\r\n'), Buffer.from('\r\nbody\r\n')]);
  assert.equal(s.onDisk, false);
  assert.equal(existsSync(s.path), false);
  assert.equal(spoolMemoryInUse() - before, s.size);
  assert.equal((await s.read(0, 100)).toString(), 'Subject: hi\r\n\r\nbody\r\n');
  assert.equal((await s.read(9, 2)).toString(), 'hi');
  const src = new MessageSource([Buffer.from('X: 1\r\n'), s.part(0, 11), s.part(11, s.size)]);
  assert.equal((await src.toBuffer()).toString(), 'X: 1\r\nSubject: hi\r\n\r\nbody\r\n');
  await s.remove();
  assert.equal(spoolMemoryInUse(), before);
});

test('a message outgrowing the memory limit moves to a file, content intact', async () => {
  const before = spoolMemoryInUse();
  const part = Buffer.alloc(MEMORY_SPOOL_MAX / 2 + 10, 'a');
  const s = await filled([Buffer.from('Subject: big\r\n\r\n'), part, Buffer.alloc(MEMORY_SPOOL_MAX / 2 + 10, 'b')]);
  assert.equal(s.onDisk, true);
  assert.equal(spoolMemoryInUse(), before, 'memory released when spilled');
  const file = readFileSync(s.path);
  assert.equal(file.length, s.size);
  assert.equal(file.subarray(0, 16).toString(), 'Subject: big\r\n\r\n');
  assert.equal((await s.read(16, 3)).toString(), 'aaa');
  assert.equal((await s.read(s.size - 2, 10)).toString(), 'bb');
  const whole = await new MessageSource([s.part(0, s.size)]).toBuffer();
  assert.deepEqual(whole, file);
  await s.remove();
  assert.equal(existsSync(s.path), false);
});

test('when the shared budget is used up, new data goes to files', async () => {
  const held: SpoolFile[] = [];
  const chunk = Buffer.alloc(MEMORY_SPOOL_MAX - 1, 'm');
  // Fill the budget with in-memory spools.
  while (spoolMemoryInUse() + chunk.length <= MEMORY_SPOOL_BUDGET) held.push(await filled([chunk]));
  held.push(await filled([Buffer.alloc(MEMORY_SPOOL_BUDGET - spoolMemoryInUse(), 'r')]));
  assert.equal(spoolMemoryInUse(), MEMORY_SPOOL_BUDGET);
  assert.ok(held.every((s) => !s.onDisk));
  const over = await filled([Buffer.from('Subject: x\r\n\r\nhello\r\n')]);
  assert.equal(over.onDisk, true, 'no memory left: spooled to a file');
  assert.equal((await over.read(0, 100)).toString(), 'Subject: x\r\n\r\nhello\r\n');
  await over.remove();
  for (const s of held) await s.remove();
  assert.equal(spoolMemoryInUse(), 0);
  const again = await filled([Buffer.from('small')]);
  assert.equal(again.onDisk, false, 'budget available again');
  await again.remove();
});

test('an empty message and a removal before finish', async () => {
  const s = spools.create('t');
  await s.finish();
  assert.equal(s.size, 0);
  assert.equal((await s.read(0, 10)).length, 0);
  const t = spools.create('t');
  await t.write([Buffer.from('partial')]);
  await t.remove();
  assert.equal(spoolMemoryInUse(), 0);
});
