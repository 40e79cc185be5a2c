// Crash recovery of message files with several processes writing one store (the workers of
// `postern serve`): recovery run by one process (a restarted worker, the primary) never removes a
// file that a live writer has staged and is about to commit, and does remove the orphans of a
// writer that was killed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { crashMessage } from './crash-message.js';

const CHILD = fileURLToPath(new URL('./blob-writer-child.js', import.meta.url));

/** A writer process and a way to send it a command and wait for its answer line. */
function writer(dir: string): { child: ChildProcessWithoutNullStreams; ask(cmd: string | null): Promise<string> } {
  const child = spawn(process.execPath, [CHILD, dir]);
  let buf = '';
  let stderr = '';
  const waiting: ((line: string) => void)[] = [];
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i; (i = buf.indexOf('\n')) >= 0; buf = buf.slice(i + 1)) waiting.shift()?.(buf.slice(0, i));
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.on('exit', (code, signal) => {
    if (signal !== 'SIGKILL' && code !== 0) for (const w of waiting.splice(0)) w(`exited ${code}: ${stderr}`);
  });
  return {
    child,
    ask(cmd) {
      const answer = new Promise<string>((resolve) => waiting.push(resolve));
      if (cmd !== null) child.stdin.write(`${cmd}\n`);
      return answer;
    },
  };
}

test('recovery by one process leaves another live process\'s staged files, and removes a killed one\'s', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'postern-shared-recovery-'));
  const stores: SqliteStore[] = [];
  const children: ChildProcessWithoutNullStreams[] = [];
  try {
    const primary = await SqliteStore.open({ dir, recover: true });
    stores.push(primary);
    const alice = await primary.createAccount('alice', 'alice@example.test');
    const inbox = (await primary.getMailbox(alice.id, 'INBOX'))!;

    // A worker stages a message: the file is written, its row not committed yet.
    const w1 = writer(dir);
    children.push(w1.child);
    assert.equal(await w1.ask(null), 'ready');
    const f1 = Number((await w1.ask('stage')).split(' ')[1]);
    assert.ok(existsSync(primary.blobPath(f1)));

    // Meanwhile another worker starts (recovery at open) and the primary runs recovery again.
    stores.push(await SqliteStore.open({ dir, recover: true }));
    await primary.recover();
    assert.ok(existsSync(primary.blobPath(f1)), 'a live writer\'s staged file is not an orphan');

    // The worker commits it: the message is whole.
    assert.match(await w1.ask('commit'), /^committed \d+$/);
    const [m] = await primary.listMessages(inbox.id);
    assert.deepEqual(await primary.readBlob(m!.fileId), crashMessage(1));

    // The worker stages another and is killed before it commits: that one is an orphan.
    const f2 = Number((await w1.ask('stage')).split(' ')[1]);
    assert.ok(existsSync(primary.blobPath(f2)));
    const exited = new Promise((r) => w1.child.on('exit', r));
    w1.child.kill('SIGKILL');
    await exited;
    await primary.recover();
    assert.equal(existsSync(primary.blobPath(f2)), false, 'the dead writer\'s uncommitted file is removed');
    assert.ok(existsSync(primary.blobPath(f1)), 'its committed one stays');
    const pids = (primary.db.prepare('SELECT pid FROM blob_blocks').all() as { pid: number }[]).map((r) => r.pid);
    assert.ok(!pids.includes(w1.child.pid!), 'the dead writer\'s blocks are done with');

    // Two store instances in one process: the same holds between them.
    const other = await SqliteStore.open({ dir });
    stores.push(other);
    const staged = await other.stageBlob((async function* () { yield crashMessage(3); })());
    stores.push(await SqliteStore.open({ dir, recover: true }));
    assert.ok(existsSync(other.blobPath(staged.fileId)));
    const r = await other.appendMessages(alice.id, inbox.id, [{ blob: staged, flags: [], internalDate: new Date(), cache: null }]);
    assert.deepEqual(await primary.readBlob((await primary.getMessages(inbox.id, r.uids))[0]!.fileId), crashMessage(3));
  } finally {
    for (const c of children) c.kill('SIGKILL');
    for (const s of stores) await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
