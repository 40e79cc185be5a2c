// Disk full (issue 9): the data lives on a small tmpfs (we are root in the test environment), which
// is filled up. Then APPEND must get a NO (OVERQUOTA or a temporary error) and SMTP 452 4.3.1,
// nothing may be corrupted (integrity_check, existing messages readable, no partial files), and once
// space is freed everything works again. Two layouts: only DIR/msg on the small filesystem (message
// files fail), and the whole data directory (the database and spool fail too).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { initDataDir } from '../../src/cli/quickstart.js';
import { ImapClient, ImapClientError } from '../../src/imap/client/index.js';
import { SmtpClient, SmtpClientError } from '../../src/smtp/client/index.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { ADDRESS, PASSWORD, startTestServer, type TestServer } from '../e2e/server-harness.js';

const mounts: string[] = [];
const dirs: string[] = [];

function mountTmpfs(path: string, size: string): void {
  mkdirSync(path, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', path]);
  mounts.push(path);
}

after(() => {
  for (const m of mounts.reverse()) {
    try {
      execFileSync('umount', ['-l', m]);
    } catch {
      // already gone
    }
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Writes a filler file until the filesystem is full; returns its path. */
function fill(dir: string): string {
  const path = join(dir, 'filler');
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(64 * 1024, 0x78);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  }
  // The last few bytes: a smaller chunk may still fit.
  try {
    for (;;) writeSync(fd, chunk.subarray(0, 512));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  return path;
}

function message(n: number, size: number): Buffer {
  return Buffer.concat([Buffer.from(`From: ${ADDRESS}\r\nTo: ${ADDRESS}\r\nSubject: disk ${n}\r\nMessage-ID: <disk-${n}@example.test>\r\n\r\n`), Buffer.alloc(size, `line of message ${n}\r\n`)]);
}

async function imap(s: TestServer): Promise<ImapClient> {
  return ImapClient.connect({ host: '127.0.0.1', port: s.ports.imaps!, tls: 'implicit', insecure: true, auth: { username: ADDRESS, password: PASSWORD } });
}

async function smtpSend(s: TestServer, n: number, size: number): Promise<{ ok: true } | { ok: false; code?: number; enhanced?: string; text: string }> {
  let c: SmtpClient | undefined;
  try {
    c = await SmtpClient.connect({ host: '127.0.0.1', port: s.ports.submission!, tls: 'starttls', insecure: true, auth: { username: ADDRESS, password: PASSWORD }, clientName: 'disk.test' });
    await c.send({ from: ADDRESS, to: [ADDRESS] }, message(n, size));
    return { ok: true };
  } catch (err) {
    if (!(err instanceof SmtpClientError)) throw err;
    return { ok: false, code: err.reply?.code, enhanced: err.reply?.enhanced, text: err.message };
  } finally {
    await c?.quit().catch(() => c?.close());
  }
}

/** integrity_check and files against rows (no partial or orphaned message file). */
async function checkStore(dir: string): Promise<void> {
  const store = await SqliteStore.open({ dir });
  try {
    assert.equal(store.db.pragma('integrity_check', { simple: true }), 'ok');
    const rows = store.db.prepare('SELECT file_id AS id, size FROM messages UNION ALL SELECT file_id, size FROM queue_messages').all() as { id: number; size: number }[];
    const sizes = new Map(rows.map((r) => [r.id, r.size]));
    const files = readdirSync(join(dir, 'msg'), { recursive: true, withFileTypes: true }).filter((d) => d.isFile() && d.name !== 'filler');
    for (const f of files) {
      const size = statSync(join(f.parentPath, f.name)).size;
      assert.ok(sizes.has(Number(f.name)), `orphaned message file ${f.name} (${size} bytes)`);
      assert.equal(size, sizes.get(Number(f.name)), `file ${f.name} size`);
    }
    // Small messages are kept in the database instead of files.
    const inline = store.db.prepare('SELECT file_id AS id, length(data) AS size FROM blob_inline').all() as { id: number; size: number }[];
    for (const b of inline) assert.equal(b.size, sizes.get(b.id), `inline blob ${b.id} size (or orphaned)`);
    assert.equal(files.length + inline.length, sizes.size, 'every row has its content');
  } finally {
    await store.close();
  }
}

async function scenario(layout: 'msg' | 'whole'): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'postern-diskfull-'));
  dirs.push(dir);
  if (layout === 'whole') mountTmpfs(dir, '16m');
  await initDataDir({ dir, address: ADDRESS, hostname: 'localhost', listen: '127.0.0.1', portBase: 0, password: PASSWORD });
  if (layout === 'msg') {
    rmSync(join(dir, 'msg'), { recursive: true, force: true });
    mountTmpfs(join(dir, 'msg'), '8m');
  }
  const s = await startTestServer({ dir, services: ['imaps', 'submission'] });
  let filler: string | null = null;
  try {
    const c = await imap(s);
    await c.select('INBOX');
    const existing = [message(1, 20_000), message(2, 300_000)];
    for (const m of existing) await c.append('INBOX', m);
    assert.deepEqual(await smtpSend(s, 3, 5_000), { ok: true });

    filler = fill(layout === 'msg' ? join(dir, 'msg') : dir);
    // Checks that fail are collected, so that one problem does not hide the others.
    const problems: string[] = [];
    const soft = async (what: string, f: () => unknown): Promise<void> => {
      try {
        await f();
      } catch (err) {
        problems.push(`${what}: ${(err as Error).message.split('\n')[0]}`);
      }
    };

    // Small messages are kept in the database: with only msg/ full, they still go in.
    let extra = 0;
    if (layout === 'msg') {
      await soft('small APPEND with msg/ full', async () => {
        await c.append('INBOX', message(5, 1_000));
        extra++;
      });
    }
    // APPEND: a NO, with OVERQUOTA or another code a client shows; the session goes on.
    for (const size of layout === 'msg' ? [200_000] : [1_000, 200_000]) {
      await soft(`APPEND of ${size} bytes`, async () => {
        await assert.rejects(c.append('INBOX', message(10 + size, size)), (err: unknown) => {
          assert.ok(err instanceof ImapClientError, String(err));
          assert.equal(err.kind, 'no', err.message);
          assert.notEqual(err.code?.name, 'SERVERBUG', `disk full reported as a server bug: ${err.message}`);
          assert.ok(['OVERQUOTA', 'LIMIT', 'UNAVAILABLE'].includes(String(err.code?.name ?? '')), `response code ${err.code?.name}: ${err.message}`);
          return true;
        });
      });
    }
    await c.noop();
    // SMTP: 452 4.3.1 (RFC 3463: mail system full), a temporary failure the sender retries.
    await soft('SMTP on a full disk', async () => {
      const r = await smtpSend(s, 20, 100_000);
      assert.equal(r.ok, false, 'SMTP accepted a message on a full disk');
      if (!r.ok) assert.equal(`${r.code} ${r.enhanced}`, '452 4.3.1', r.text);
    });
    // Reading mail needs no space: a new session logs in and reads.
    await soft('a new IMAP login on a full disk', async () => {
      const c2 = await imap(s);
      await c2.select('INBOX');
      const [m] = await c2.fetch('1', { body: [''] });
      assert.ok(m?.body?.['']?.equals(existing[0]!));
      await c2.logout();
    });
    // Nothing half-written, nothing lost.
    await soft('store after the failures', () => checkStore(dir));
    const box = await c.select('INBOX');
    assert.equal(box.exists, 3 + extra, 'only the messages acknowledged before the disk filled');
    const [m1, m2] = await c.fetch('1:2', { body: [''] });
    assert.ok(m1?.body?.['']?.equals(existing[0]!), 'message 1 readable and intact');
    assert.ok(m2?.body?.['']?.equals(existing[1]!), 'message 2 readable and intact');

    // Space again: everything works, on the same connection and on new ones.
    unlinkSync(filler);
    filler = null;
    await c.append('INBOX', message(30, 100_000));
    assert.deepEqual(await smtpSend(s, 31, 100_000), { ok: true });
    await c.noop();
    assert.equal((await c.select('INBOX')).exists, 5 + extra);
    await c.logout();
    await checkStore(dir);
    assert.deepEqual(problems, [], 'while the disk was full');
  } finally {
    if (filler) unlinkSync(filler);
    await s.stop();
  }
}

describe('disk full', () => {
  it('DIR/msg on an 8 MB tmpfs: APPEND NO, SMTP 452 4.3.1, nothing corrupted, recovers', { timeout: 120_000 }, () => scenario('msg'));
  it('the whole data directory on a 16 MB tmpfs (database and spool too)', { timeout: 120_000 }, () => scenario('whole'));
});
