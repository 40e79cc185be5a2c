// Unit tests of src/imap/server/change-fanout.ts: the shared lookup per change batch, the batched
// output, and the scheduler of IDLE updates.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Change } from '../../src/store/change-feed.js';
import type { MessageMeta, Store } from '../../src/store/types.js';
import { BatchedOutput, FanoutScheduler, storeForBatch } from '../../src/imap/server/change-fanout.js';

function meta(uid: number, flags: string[]): MessageMeta {
  const d = new Date(0);
  return { id: uid, mailboxId: 1, uid, modseq: uid, flags, internalDate: d, saveDate: d, size: 10, fileId: uid, cache: null };
}

function fakeStore(): { store: Store; calls: number[][] } {
  const calls: number[][] = [];
  const store = {
    async getMessages(_mailboxId: number, uids: number[]) {
      calls.push(uids);
      return uids.map((u) => meta(u, ['\\Seen']));
    },
  } as unknown as Store;
  return { store, calls };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('change fan-out', () => {
  it('shares one lookup per batch and mailbox/UIDs, each caller getting its own copy', async () => {
    const { store, calls } = fakeStore();
    const b1: Change[] = [{ kind: 'append', mailboxId: 1, uids: [3], modseq: 3 }];
    const b2: Change[] = [{ kind: 'flags', mailboxId: 1, updates: [] }];
    const s1 = storeForBatch(store, b1);
    assert.equal(storeForBatch(store, b1), s1);
    const [x, y] = await Promise.all([s1.getMessages(1, [3]), storeForBatch(store, b1).getMessages(1, [3])]);
    assert.equal(calls.length, 1);
    assert.deepEqual(x, y);
    assert.notEqual(x, y);
    assert.notEqual(x[0], y[0]);
    x[0]!.flags.push('\\Flagged');
    assert.deepEqual(y[0]!.flags, ['\\Seen']);
    // Other UIDs, another batch, or no batch: a lookup of their own.
    await s1.getMessages(1, [3, 4]);
    await storeForBatch(store, b2).getMessages(1, [3]);
    assert.equal(storeForBatch(store, null), store);
    await store.getMessages(1, [3]);
    assert.equal(calls.length, 4);
  });

  it('does not keep a failed lookup', async () => {
    let n = 0;
    const store = {
      async getMessages(_m: number, uids: number[]) {
        if (n++ === 0) throw new Error('busy');
        return uids.map((u) => meta(u, []));
      },
    } as unknown as Store;
    const s = storeForBatch(store, []);
    await assert.rejects(s.getMessages(1, [1]), /busy/);
    assert.equal((await s.getMessages(1, [1])).length, 1);
  });

  it('batched output writes its lines together', async () => {
    const writes: string[] = [];
    const out = new BatchedOutput(async (d) => void writes.push(d), false, false, false, (f) => `(${f.join(' ')})`);
    await out.untagged('2 EXISTS');
    await out.untagged('0 RECENT');
    assert.deepEqual(writes, []);
    await out.flush();
    await out.flush();
    assert.deepEqual(writes, ['* 2 EXISTS\r\n* 0 RECENT\r\n']);
    // A long run of lines is written in parts, in order.
    writes.length = 0;
    for (let i = 1; i <= 2000; i++) await out.untagged(`${i} FETCH (FLAGS (\\Seen))`);
    await out.flush();
    assert.ok(writes.length > 1);
    const lines = writes.join('').split('\r\n').filter(Boolean);
    assert.equal(lines.length, 2000);
    assert.equal(lines[1999], '* 2000 FETCH (FLAGS (\\Seen))');
  });

  it('scheduler runs jobs in order, a job that waits does not hold up the others', async () => {
    const s = new FanoutScheduler();
    const order: number[] = [];
    let release!: () => void;
    const stuck = new Promise<void>((r) => (release = r));
    let stuckDone!: () => void;
    const stuckOver = new Promise<void>((r) => (stuckDone = r));
    s.schedule(async () => {
      order.push(0);
      await stuck;
      order.push(-1);
      stuckDone();
    });
    let allDone!: () => void;
    const over = new Promise<void>((r) => (allDone = r));
    for (let i = 1; i <= 200; i++) {
      s.schedule(async () => {
        await Promise.resolve();
        order.push(i);
        if (i === 200) allDone();
      });
    }
    // A failing job (sync or async) does not stop the others.
    s.schedule(async () => {
      throw new Error('job failed');
    });
    s.schedule((() => {
      throw new Error('job failed at once');
    }) as never);
    await over;
    assert.deepEqual(order, Array.from({ length: 201 }, (_, i) => i));
    release();
    await stuckOver;
    assert.equal(order.at(-1), -1);
    // Jobs scheduled later run too.
    await tick();
    await new Promise<void>((r) => s.schedule(async () => r()));
  });
});
