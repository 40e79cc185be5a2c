// ByteLru: the byte bound holds whatever is put in, the least recently used entry goes first, a hit
// counts as a use, and an entry bigger than the per-entry bound is not kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteLru } from './byte-lru.js';

test('hits give the value kept; misses undefined; delete and clear forget', () => {
  const lru = new ByteLru<number, string>(100);
  lru.set(1, 'a', 10);
  lru.set(2, 'b', 10);
  assert.equal(lru.get(1), 'a');
  assert.equal(lru.get(3), undefined);
  lru.delete(1);
  assert.equal(lru.get(1), undefined);
  assert.equal(lru.bytes, 10);
  // Setting a key again replaces its value and its size.
  lru.set(2, 'c', 5);
  assert.equal(lru.get(2), 'c');
  assert.equal(lru.bytes, 5);
  lru.clear();
  assert.equal(lru.size, 0);
  assert.equal(lru.bytes, 0);
  assert.equal(lru.get(2), undefined);
});

test('eviction takes the least recently used first, a hit counting as a use', () => {
  const lru = new ByteLru<number, number>(30, 30);
  lru.set(1, 1, 10);
  lru.set(2, 2, 10);
  lru.set(3, 3, 10);
  lru.get(1); // now 2 is the oldest
  lru.set(4, 4, 10);
  assert.deepEqual([1, 2, 3, 4].map((k) => lru.get(k)), [1, undefined, 3, 4]);
  // One entry worth two evicts the two oldest (after the gets above: 1, then 3).
  lru.set(5, 5, 20);
  assert.deepEqual([1, 3, 4, 5].map((k) => lru.get(k)), [undefined, undefined, 4, 5]);
  assert.equal(lru.bytes, 30);
});

test('the byte bound holds whatever the number and sizes of the entries', () => {
  const max = 64 * 1024;
  const lru = new ByteLru<number, Buffer>(max);
  let seed = 7;
  const rand = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  for (let i = 0; i < 20_000; i++) {
    const bytes = rand(max / 4);
    lru.set(rand(5000), Buffer.alloc(0), bytes);
    if (i % 7 === 0) lru.get(rand(5000));
    assert.ok(lru.bytes <= max, `${lru.bytes} bytes kept at step ${i}`);
  }
  assert.ok(lru.size > 0);
  // An entry above the per-entry bound (an eighth by default) is not kept, and drops its old value.
  lru.set(1, Buffer.alloc(0), 1);
  lru.set(1, Buffer.alloc(0), max / 8 + 1);
  assert.equal(lru.get(1), undefined);
  assert.ok(lru.bytes <= max);
});
