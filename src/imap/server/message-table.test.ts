import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageTable } from './message-table.js';

test('MessageTable: a Map by UID across ranges; values and keys in UID order, size kept', () => {
  const t = new MessageTable<string>();
  const uids = [1, 2, 32767, 32768, 40000, 100_000, 4_294_967_295];
  for (const u of uids) t.set(u, `m${u}`);
  assert.equal(t.size, uids.length);
  assert.deepEqual([...t.keys()], uids);
  assert.deepEqual([...t.values()], uids.map((u) => `m${u}`));
  t.set(40000, 'again');
  assert.equal(t.size, uids.length);
  assert.equal(t.get(40000), 'again');
  assert.equal(t.has(3), false);
  assert.equal(t.get(3), undefined);
  assert.equal(t.delete(3), false);
  assert.equal(t.delete(32768), true);
  assert.equal(t.delete(40000), true);
  assert.equal(t.size, uids.length - 2);
  assert.deepEqual([...t.keys()], [1, 2, 32767, 100_000, 4_294_967_295]);
  // A range emptied and filled again takes its place among the others; within a range, the
  // order is that of insertion (as in a Map).
  t.set(50000, 'x');
  t.set(5, 'y');
  assert.deepEqual([...t.keys()], [1, 2, 32767, 5, 50000, 100_000, 4_294_967_295]);
  assert.equal(t.size, 7);
});
