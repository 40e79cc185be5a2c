import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FailureLimiter } from '../auth/rate-limit.js';
import type { FailureWindow } from '../auth/limits.js';
import type { Change } from '../store/change-feed.js';
import { ClusterError, LocalBus } from './bus.js';
import { chunkChanges, ClusterChangeFeed } from './change-feed.js';
import { ConnectionCounts, RemoteAdmitter } from './connection-counts.js';
import { serveFailureCopy, SharedFailureLimiter } from './failure-limiter.js';
import { MAX_MESSAGE_BYTES } from './limits.js';
import { MemoryCluster } from './memory-bus.js';
import { BusTicketSecrets, serveTicketSecrets } from './ticket-secrets.js';
import { RotatingTicketSecrets } from '../tls/ticket-keys.js';
import { silentLogger } from '../log/logger.js';

const tick = () => new Promise((r) => setImmediate(r));

test('LocalBus: requests reach this process own handlers; oversized payloads and unknown topics are refused by code', async () => {
  const bus = new LocalBus();
  bus.handle('echo', (p) => ({ got: p }));
  assert.deepEqual(await bus.request('echo', { a: 1 }), { got: { a: 1 } });
  await assert.rejects(bus.request('nobody', {}), (e: unknown) => e instanceof ClusterError && e.code === 'NO_HANDLER');
  await assert.rejects(bus.request('echo', 'x'.repeat(MAX_MESSAGE_BYTES + 1)), (e: unknown) => e instanceof ClusterError && e.code === 'TOO_LARGE');
  assert.throws(() => bus.handle('echo', () => null), /two handlers/);
});

test('change feed: other processes get each batch once per process (one array for all its listeners); subscribeAll only sees its own commits', async () => {
  const mc = new MemoryCluster(3);
  const feeds = mc.buses.map((b) => new ClusterChangeFeed(b));
  const got: Change[][][] = feeds.map(() => []);
  const all: number[] = feeds.map(() => 0);
  feeds.forEach((f, i) => {
    f.subscribe(7, (c) => got[i]!.push(c));
    f.subscribe(7, (c) => got[i]!.push(c));
    f.subscribe(8, () => assert.fail('another account'));
    f.subscribeAll(() => all[i]!++);
  });
  const batch: Change[] = [{ kind: 'append', mailboxId: 1, uids: [1, 2], modseq: 5 }];
  feeds[1]!.publish(7, batch);
  await tick();
  await tick();
  for (const g of got) {
    assert.equal(g.length, 2);
    assert.equal(g[0], g[1], 'one array object per batch per process');
    assert.deepEqual(g[0], batch);
  }
  assert.deepEqual(all, [0, 1, 0], 'junk training sees a change in one process only');
});

test('change feed: a process gets an account\'s batches only while it has listeners of it, from the moment subscribed() resolves', async () => {
  const mc = new MemoryCluster(3);
  const feeds = mc.buses.map((b) => new ClusterChangeFeed(b));
  const batch: Change[] = [{ kind: 'flags', mailboxId: 1, updates: [{ uid: 1, flags: ['\\Seen'], modseq: 3 }] }];
  const delivered: number[] = [0, 0, 0];
  // Counted below the feed: what the bus hands each process, listeners or not.
  mc.buses.forEach((b, i) => b.subscribe('store.changes', () => delivered[i]!++));
  feeds[0]!.publish(7, batch);
  await tick();
  await tick();
  assert.deepEqual(delivered, [0, 0, 0], 'nobody has a session of account 7: nothing crosses');

  const got: Change[][] = [];
  const off = feeds[2]!.subscribe(7, (c) => got.push(c));
  await feeds[2]!.subscribed(7);
  feeds[0]!.publish(7, batch);
  feeds[0]!.publish(8, batch);
  await tick();
  await tick();
  assert.deepEqual(delivered, [0, 0, 1], 'only the process with a listener of account 7, only its batch');
  assert.equal(got.length, 1);

  // A second listener of the same account, then both gone: routed until the last one leaves.
  const off2 = feeds[2]!.subscribe(7, () => undefined);
  off();
  feeds[1]!.publish(7, batch);
  await tick();
  await tick();
  assert.equal(delivered[2], 2);
  off2();
  off2();
  await tick();
  feeds[1]!.publish(7, batch);
  await tick();
  await tick();
  assert.equal(delivered[2], 2, 'no listener left: no longer routed here');
});

test('change feed: big batches go in pieces under the item cap, in order', () => {
  const uids = Array.from({ length: 25_000 }, (_, i) => i + 1);
  const pieces = chunkChanges([{ kind: 'expunge', mailboxId: 1, uids, modseq: 9 }, { kind: 'mailbox-create', mailboxId: 2, name: 'x' }]);
  assert.equal(pieces.length, 3);
  assert.deepEqual(pieces.flatMap((p) => p.flatMap((c) => (c.kind === 'expunge' ? c.uids : []))), uids);
  assert.equal(pieces[2]!.at(-1)!.kind, 'mailbox-create');
});

test('connection counts: one budget for every worker; a dead worker gives its connections back', async () => {
  const mc = new MemoryCluster(3);
  const counts = new ConnectionCounts(mc.buses[0]!);
  const limits = { perIp: 3, perSubnet: 100 };
  const [w1, w2] = [1, 2].map((i) => new RemoteAdmitter(mc.buses[i]!, 'imap 127.0.0.1:143', limits, silentLogger));
  const a = await w1!.admit('192.0.2.1');
  const b = await w2!.admit('192.0.2.1');
  const c = await w2!.admit('192.0.2.1');
  assert.ok(a.ok && b.ok && c.ok);
  assert.deepEqual(await w1!.admit('192.0.2.1'), { ok: false, over: 'address' });
  a.release();
  a.release();
  await tick();
  await tick();
  assert.ok((await w1!.admit('192.0.2.1')).ok, 'a release from worker 1 frees a place');
  assert.equal(counts.size, 3);
  counts.workerGone(2);
  assert.equal(counts.size, 1);
  assert.ok((await w1!.admit('192.0.2.1')).ok);
});

test('failed logins: each process sees the others failures; a late worker starts from the coordinator copy', async () => {
  const windows: FailureWindow[] = [{ ms: 60_000, limits: [3, 100, 300] }];
  const mc = new MemoryCluster(4);
  serveFailureCopy(mc.buses[0]!, windows);
  const w1 = new SharedFailureLimiter(mc.buses[1]!, windows);
  const w2 = new SharedFailureLimiter(mc.buses[2]!, windows);
  w1.fail('198.51.100.7');
  w2.fail('198.51.100.7');
  w1.fail('198.51.100.7');
  await tick();
  assert.ok(w1.blocked('198.51.100.7') && w2.blocked('198.51.100.7'));
  assert.ok(!w2.blocked('198.51.100.8'));
  const late = new SharedFailureLimiter(mc.buses[3]!, windows);
  assert.ok(!late.blocked('198.51.100.7'));
  await late.catchUp();
  assert.ok(late.blocked('198.51.100.7'));
  const plain = new FailureLimiter(windows);
  plain.restore(late.snapshot(10));
  assert.ok(plain.blocked('198.51.100.7'));
});

test('ticket secrets: workers take the coordinator secret and follow its rotation', async () => {
  const mc = new MemoryCluster(2);
  const source = new RotatingTicketSecrets(3_600_000);
  serveTicketSecrets(mc.buses[0]!, source);
  const w = await BusTicketSecrets.fetch(mc.buses[1]!);
  assert.ok(w.current().equals(source.current()));
  const seen: Buffer[] = [];
  w.subscribe((s) => seen.push(s));
  source.rotate();
  await tick();
  assert.equal(seen.length, 1);
  assert.ok(w.current().equals(source.current()));
  source.close();
});
