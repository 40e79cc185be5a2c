// Costs of what processes sharing one store decide in it (docs/storage.md, "Several processes on
// one store"), with two store instances (two database connections) on one data directory, as two
// worker processes have: a \Recent claim (one unsynced write transaction), a web session lookup
// (a read; with its throttled last-use write), a queue lease taken and released, and the reads of
// a small mailbox (as a SELECT or FETCH makes them) with and without a commit of the other store
// before each: SQLite drops a connection's whole page cache when another connection committed
// since its last read, so with several workers most commands start on a cold cache.
// Prints microseconds per operation. Usage: node dist/bench/store-shared.js

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { WEB_SESSION_LIMITS, WebSessions } from '../src/web/web-sessions.js';

async function time(label: string, n: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < Math.min(n, 200); i++) await fn(i);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn(i);
  const us = Number(process.hrtime.bigint() - t0) / 1e3 / n;
  console.log(`${label.padEnd(60)} ${us.toFixed(1).padStart(8)} µs/op  (${n} ops)`);
}

const dir = mkdtempSync(join(tmpdir(), 'postern-bench-shared-'));
const a = await SqliteStore.open({ dir, recover: true });
const b = await SqliteStore.open({ dir });
try {
  const acct = await a.createAccount('alice', 'alice@example.test');
  const inbox = (await a.getMailbox(acct.id, 'INBOX'))!;
  const N = 5000;
  // \Recent: every claim finds one new message (appended before, outside the timing).
  const blobs = await Promise.all(Array.from({ length: 2 * N + 400 }, () => a.stageBlob(Buffer.from('Subject: x\r\n\r\nx\r\n'))));
  for (let i = 0; i < blobs.length; i += 500) {
    await a.appendMessages(acct.id, inbox.id, blobs.slice(i, i + 500).map((blob) => ({ blob, flags: [], internalDate: new Date(), cache: null })));
  }
  let upTo = 1;
  await time('\\Recent claim of one new message, alternating stores', N, (i) => (i % 2 ? a : b).claimRecent(acct.id, inbox.id, ++upTo));
  await time('\\Recent claim with nothing new (no write)', N, () => a.claimRecent(acct.id, inbox.id, upTo));

  let now = Date.now();
  const wa = new WebSessions(a, () => now);
  const wb = new WebSessions(b, () => now);
  const { token } = await wa.create({ accountId: acct.id, accountName: 'alice', address: 'alice@example.test', generation: 1 });
  await time('web session lookup on the other store (read only)', N, () => wb.get(token));
  await time('web session lookup that records its use (a write)', N, () => {
    now += WEB_SESSION_LIMITS.touchAfterMs;
    return wb.get(token);
  });

  const q = await a.enqueue(null, 's@example.org', ['r@example.net'], await a.stageBlob(Buffer.from('Subject: q\r\n\r\nq\r\n')));
  const id = q.recipients[0]!.id;
  const until = new Date(Date.now() + 60_000);
  await time('queue lease of one recipient and its release', N, async (i) => {
    const s = i % 2 ? a : b;
    const got = await s.leaseQueueRecipients([id], 'bench', new Date(), until);
    if (got.length !== 1) throw new Error('lease not taken');
    await s.releaseQueueLeases([id], 'bench');
  });

  // Reads of a 30-message mailbox; only the reads are timed, the other store's write is not.
  const bob = await a.createAccount('bob', 'bob@example.test');
  const bobInbox = (await a.getMailbox(bob.id, 'INBOX'))!;
  const few = await Promise.all(Array.from({ length: 30 }, (_, i) => a.stageBlob(Buffer.from(`Subject: m${i}\r\n\r\nbody ${i}\r\n`))));
  await a.appendMessages(bob.id, bobInbox.id, few.map((blob) => ({ blob, flags: [], internalDate: new Date(), cache: null })));
  const reads = async (label: string, otherWrites: boolean): Promise<void> => {
    let ns = 0n;
    for (let i = 0; i < 2000; i++) {
      if (otherWrites) await b.storeFlags(acct.id, inbox.id, [1], i % 2 ? 'add' : 'remove', ['\\Seen']);
      const t0 = process.hrtime.bigint();
      await a.getMailbox(bob.id, 'INBOX');
      const list = await a.listMessages(bobInbox.id);
      await a.mailboxCounts(bobInbox.id);
      a.inlineBlob(list[i % list.length]!.fileId);
      if (i >= 200) ns += process.hrtime.bigint() - t0;
    }
    console.log(`${label.padEnd(60)} ${(Number(ns) / 1e3 / 1800).toFixed(1).padStart(8)} µs/op  (1800 ops)`);
  };
  await reads('mailbox reads, no other commit since the last', false);
  await reads('mailbox reads after the other store committed', true);
} finally {
  await a.close();
  await b.close();
  rmSync(dir, { recursive: true, force: true });
}
