// Durability under SIGKILL (spec 10, issue 2): a child appends messages and prints an ack after each
// commit; it is killed at a random moment, many times. After each kill the store must hold every
// acknowledged message intact, no partial message, no orphaned file, counters must not go back, and
// the quota usage must be the sum of the messages' sizes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { crashMessage } from './crash-message.js';

const CHILD = fileURLToPath(new URL('./crash-child.js', import.meta.url));
const ROUNDS = Number(process.env.POSTERN_CRASH_ROUNDS ?? 12);

function runAndKill(dir: string, start: number, killAfterMs: number): Promise<{ acked: Map<number, number>; expunged: Set<number>; lastModseq: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir, String(start)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acked = new Map<number, number>();
    const expunged = new Set<number>();
    let lastModseq = 0;
    let buf = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const [kind, n, a, b] = buf.slice(0, i).split(' ');
        buf = buf.slice(i + 1);
        if (kind === 'ack') {
          acked.set(Number(n), Number(a));
          lastModseq = Math.max(lastModseq, Number(b));
        } else if (kind === 'expunged') {
          expunged.add(Number(n));
          lastModseq = Math.max(lastModseq, Number(a));
        }
        // Start the kill timer at the first ack, so the child is in the middle of its work.
        timer ??= setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`child exited ${code} ${signal}: ${stderr}`));
      resolve({ acked, expunged, lastModseq });
    });
  });
}

function filesOnDisk(dir: string): Set<number> {
  return new Set(
    readdirSync(join(dir, 'msg'), { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => Number(d.name)),
  );
}

test(`SIGKILL during appends, ${ROUNDS} rounds: nothing acknowledged lost, nothing partial, no orphans`, { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'postern-crash-'));
  try {
    const init = await SqliteStore.open({ dir, recover: true });
    await init.createAccount('alice', 'alice@example.test');
    await init.close();
    const everAcked = new Map<number, number>();
    const everExpunged = new Set<number>();
    let next = 1;
    let lastUidNext = 0;
    let lastModseq = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const r = await runAndKill(dir, next, 50 + Math.floor(Math.random() * 400));
      assert.ok(r.acked.size > 0, 'the child acknowledged something before the kill');
      for (const [n, uid] of r.acked) everAcked.set(n, uid);
      for (const n of r.expunged) everExpunged.add(n);
      next = Math.max(...r.acked.keys()) + 2; // n+1 may have been written but not acked

      const s = await SqliteStore.open({ dir, recover: true });
      assert.equal(s.db.pragma('integrity_check', { simple: true }), 'ok');
      const account = (await s.getAccount('alice'))!;
      const inbox = (await s.getMailbox(account.id, 'INBOX'))!;
      const rows = await s.getMessages(inbox.id, (await s.listMessages(inbox.id)).map((m) => m.uid));
      const byN = new Map<number, number>();
      for (const m of rows) {
        const n = (JSON.parse(m.cache!) as { n: number }).n;
        assert.ok(!byN.has(n), `message ${n} is there once`);
        byN.set(n, m.uid);
        const content = await s.readBlob(m.fileId);
        assert.ok(content.equals(crashMessage(n)), `message ${n} is complete`);
        assert.equal(m.size, content.length);
      }
      for (const [n, uid] of everAcked) {
        if (everExpunged.has(n)) assert.ok(!byN.has(n), `expunged message ${n} stays gone`);
        // An expunge that committed but was killed before its ack may have happened or not.
        else if (n % 7 === 0 && !byN.has(n)) continue;
        else assert.equal(byN.get(n), uid, `acknowledged message ${n} is there with its UID`);
      }
      // No orphaned file or inline blob: each belongs to a row, every row has its content.
      const files = filesOnDisk(dir);
      const inline = (s.db.prepare('SELECT file_id AS id FROM blob_inline').all() as { id: number }[]).map((r) => r.id);
      assert.deepEqual([...files, ...inline].sort((a, b) => a - b), rows.map((m) => m.fileId).sort((a, b) => a - b));
      // The quota usage changed in the same transactions as the rows: it is their sum after a kill.
      assert.equal((await s.getQuota(account.id)).used, rows.reduce((n, m) => n + m.size, 0), 'quota usage matches the messages');
      assert.ok(inbox.uidNext >= lastUidNext, 'UIDNEXT never goes back');
      assert.ok(inbox.highestModseq >= Math.max(lastModseq, r.lastModseq), 'HIGHESTMODSEQ never goes back');
      lastUidNext = inbox.uidNext;
      lastModseq = inbox.highestModseq;
      await s.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
