import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scryptSync } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { HASH_THREAD_NICE, HashPool, HashPoolBusyError } from './hash-pool.js';

// N=2^15, r=8 as the stored verifiers: slow enough (~100 ms) that jobs overlap in these tests.
const SLOW = { N: 1 << 15, r: 8, p: 1, keyLength: 32 };
const FAST = { N: 1 << 10, r: 8, p: 1, keyLength: 32 };

test('the pool computes the same scrypt as node:crypto', async () => {
  const pool = new HashPool({ workers: 1 });
  try {
    const pw = Buffer.from('pässword');
    const salt = Buffer.from('0123456789abcdef');
    const got = await pool.scrypt(pw, salt, FAST);
    assert.deepEqual(got, scryptSync(pw, salt, 32, { N: FAST.N, r: 8, p: 1 }));
    assert.equal(pw.toString(), 'pässword', "the caller's buffer is left alone (the worker wipes its own copy)");
  } finally {
    await pool.close();
  }
});

test('over the queue cap a verification is refused at once, the others complete, and the pool takes work again', async () => {
  const pool = new HashPool({ workers: 1, maxQueued: 2 });
  try {
    const salt = Buffer.alloc(16, 1);
    const accepted = [1, 2, 3].map((i) => pool.scrypt(Buffer.from(`pw${i}`), salt, SLOW));
    assert.deepEqual(pool.load, { running: 1, queued: 2 });
    const t = performance.now();
    await assert.rejects(pool.scrypt(Buffer.from('pw4'), salt, SLOW), (err: unknown) => err instanceof HashPoolBusyError && err.code === 'HASH_POOL_BUSY');
    const refusedAfter = performance.now() - t;
    const keys = await Promise.all(accepted);
    const doneAfter = performance.now() - t;
    assert.ok(refusedAfter < doneAfter, 'the refusal did not wait for the queue');
    assert.equal(new Set(keys.map((k) => k.toString('hex'))).size, 3);
    assert.deepEqual(pool.load, { running: 0, queued: 0 });
    assert.equal((await pool.scrypt(Buffer.from('again'), salt, FAST)).length, 32);
  } finally {
    await pool.close();
  }
});

test('with several workers, that many run at once and the cap counts only waiting ones', async () => {
  const pool = new HashPool({ workers: 2, maxQueued: 1 });
  try {
    const salt = Buffer.alloc(16, 2);
    const jobs = [1, 2, 3].map((i) => pool.scrypt(Buffer.from(`pw${i}`), salt, SLOW));
    assert.deepEqual(pool.load, { running: 2, queued: 1 });
    await assert.rejects(pool.scrypt(Buffer.from('pw4'), salt, SLOW), HashPoolBusyError);
    await Promise.all(jobs);
  } finally {
    await pool.close();
  }
});

test('a failed scrypt (bad stored parameters) rejects that job only', async () => {
  const pool = new HashPool({ workers: 1 });
  try {
    await assert.rejects(pool.scrypt(Buffer.from('pw'), Buffer.alloc(16), { N: 3, r: 8, p: 1, keyLength: 32 }), /scrypt failed/);
    assert.equal((await pool.scrypt(Buffer.from('pw'), Buffer.alloc(16), FAST)).length, 32);
  } finally {
    await pool.close();
  }
});

test('close refuses waiting work', async () => {
  const pool = new HashPool({ workers: 1, maxQueued: 4 });
  const salt = Buffer.alloc(16, 3);
  const jobs = [1, 2].map((i) => pool.scrypt(Buffer.from(`pw${i}`), salt, SLOW).then(() => 'done', (err: Error) => err.message));
  await pool.close();
  assert.deepEqual(await Promise.all(jobs), ['hash pool closed', 'hash pool closed']);
  await assert.rejects(pool.scrypt(Buffer.from('late'), salt, FAST), /hash pool closed/);
});

/** Nice values of this process's threads (Linux: field 19 of /proc/self/task/TID/stat). */
function niceOf(tid: string | number): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}
const threadNices = (): number[] => readdirSync('/proc/self/task').map(niceOf);

test('the hashing thread runs at a lower CPU priority than the event loop (Linux)', async (t) => {
  if (process.platform !== 'linux') return t.skip('per-thread nice values are Linux');
  const pool = new HashPool({ workers: 1 });
  try {
    const before = threadNices().filter((n) => n === HASH_THREAD_NICE).length;
    await pool.scrypt(Buffer.from('pw'), Buffer.alloc(16), FAST);
    assert.equal(threadNices().filter((n) => n === HASH_THREAD_NICE).length, before + 1);
    assert.equal(niceOf(process.pid), 0, 'the main thread keeps its priority');
  } finally {
    await pool.close();
  }
});
