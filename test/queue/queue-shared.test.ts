// The outbound queue with several runners on one data directory (the worker processes of `postern
// serve`), against one sink SMTP server: every recipient is delivered once; the recipients of a
// runner stalled in the middle of a delivery go to another runner once its lease ran out, those of
// a runner killed there at once.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import type { Config } from '../../src/config/types.js';
import { silentLogger } from '../../src/log/logger.js';
import { Queue, type QueueOptions } from '../../src/queue/index.js';
import type { ServerContext } from '../../src/server/context.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { startSinkSmtp, type SinkSmtp } from './sink-smtp.js';

const CHILD = fileURLToPath(new URL('./queue-runner-child.js', import.meta.url));

function runner(store: SqliteStore, dir: string, sink: SinkSmtp, opts: QueueOptions = {}): Queue {
  const config = { dir, hostname: 'mail.example.org', transports: { '*': { host: '127.0.0.1', port: sink.port, tls: 'none', tlsInsecure: true } }, outbound: { allowPrivateAddresses: false } } as unknown as Config;
  const ctx = { store, config, log: silentLogger, shutdown: new AbortController().signal } as unknown as ServerContext;
  return new Queue(ctx, opts);
}

async function enqueue(store: SqliteStore, n: number, rcpts: string[]): Promise<void> {
  const blob = await store.stageBlob(Buffer.from(`From: sender@example.org\r\nSubject: m${n}\r\nMessage-ID: <m${n}@example.org>\r\n\r\nmessage ${n}\r\n`));
  await store.enqueue(null, 'sender@example.org', rcpts, blob);
}

/** Deliveries per "message-subject recipient". */
function deliveries(sink: SinkSmtp): Map<string, number> {
  const count = new Map<string, number>();
  for (const t of sink.accepted) {
    const subject = /^Subject: (\S+)/m.exec(t.data)![1]!;
    for (const to of t.to) count.set(`${subject} ${to}`, (count.get(`${subject} ${to}`) ?? 0) + 1);
  }
  return count;
}

describe('queue runners sharing one store', () => {
  it('two runners on two store instances deliver every recipient of many messages exactly once', { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'postern-queue-shared-'));
    // A receiver that takes a moment per message, so that the runners' deliveries overlap.
    const sink = await startSinkSmtp({ beforeReply: () => new Promise((r) => setTimeout(r, Math.random() * 15)) });
    const a = await SqliteStore.open({ dir, recover: true });
    const b = await SqliteStore.open({ dir });
    try {
      const MESSAGES = 40;
      const rcpts = ['one@a.example', 'two@a.example', 'three@b.example', 'four@c.example'];
      for (let n = 0; n < MESSAGES; n++) await enqueue(n % 2 ? a : b, n, rcpts);
      const qa = runner(a, dir, sink);
      const qb = runner(b, dir, sink);
      await Promise.all([qa.runOnce(), qb.runOnce(), qb.runOnce()]);
      const count = deliveries(sink);
      assert.equal(count.size, MESSAGES * rcpts.length, 'every recipient delivered');
      const twice = [...count].filter(([, c]) => c !== 1);
      assert.deepEqual(twice, [], 'no recipient delivered twice');
      assert.deepEqual(await a.listQueue(), [], 'all done and dropped');
      // Both runners took part (the leases split the work, not one runner alone).
      assert.ok(sink.accepted.length >= MESSAGES * 3);
    } finally {
      await a.close();
      await b.close();
      await sink.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  /** A runner in a child process, in the middle of delivering m<n> to a sink that never answers its data. */
  async function stalledRunner(dir: string, n: number): Promise<{ store: SqliteStore; sink: SinkSmtp; child: ChildProcess; exited: Promise<NodeJS.Signals | null>; release(): void }> {
    let dataSeen: () => void = () => undefined;
    const seen = new Promise<void>((r) => (dataSeen = r));
    let hang = true;
    const sink = await startSinkSmtp({ beforeReply: () => (hang ? (dataSeen(), new Promise<void>(() => undefined)) : Promise.resolve()) });
    const store = await SqliteStore.open({ dir, recover: true });
    await enqueue(store, n, ['one@a.example', 'two@a.example']);
    const child = spawn(process.execPath, [CHILD, dir, String(sink.port), String(LEASE_MS)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_code, signal) => r(signal)));
    await Promise.race([seen, exited.then(() => assert.fail(`child exited before delivering: ${stderr}`))]);
    return { store, sink, child, exited, release: () => (hang = false) };
  }

  const LEASE_MS = 60_000;

  it('a runner that stalls mid-delivery keeps its recipients until its lease expires; then another delivers them once', { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'postern-queue-shared-'));
    const r = await stalledRunner(dir, 1);
    try {
      // Stopped, not dead: its lease must run out before anyone else delivers.
      r.child.kill('SIGSTOP');
      r.release();
      const clock = { now: Date.now() };
      const q = runner(r.store, dir, r.sink, { now: () => new Date(clock.now) });
      await q.runOnce();
      assert.equal(r.sink.accepted.length, 0, 'held by the stalled runner\'s lease: not delivered yet');
      const [m] = await r.store.listQueue();
      assert.deepEqual(m!.recipients.map((x) => [x.state, x.attempts]), [['pending', 0], ['pending', 0]]);

      clock.now += LEASE_MS + 1000;
      await q.runOnce();
      assert.deepEqual([...deliveries(r.sink)], [['m1 one@a.example', 1], ['m1 two@a.example', 1]]);
      assert.deepEqual(await r.store.listQueue(), []);
    } finally {
      r.child.kill('SIGKILL');
      await r.exited;
      await r.store.close();
      await r.sink.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a runner killed mid-delivery: another runner of the host sees it is gone and delivers its recipients at once, once', { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'postern-queue-shared-'));
    const r = await stalledRunner(dir, 2);
    try {
      r.child.kill('SIGKILL');
      assert.equal(await r.exited, 'SIGKILL');
      r.release();
      // The real clock: the dead runner's lease has most of its minute to run.
      await runner(r.store, dir, r.sink).runOnce();
      assert.deepEqual([...deliveries(r.sink)], [['m2 one@a.example', 1], ['m2 two@a.example', 1]]);
      assert.deepEqual(await r.store.listQueue(), []);
    } finally {
      await r.store.close();
      await r.sink.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
