// MessageLoader with the process's parsed caches (message-cache-lru.ts): file ids are per store, so
// two stores open in one process (tests, tools) each get their own messages' caches for the same id;
// a cache built on first use is kept for the next loader without reading the row or the content.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { messageCacheJson } from '../../mime/message-cache.js';
import { SqliteStore } from '../../store/sqlite/sqlite-store.js';
import { ViewMessage } from './mailbox-view.js';
import { MessageLoader } from './message-loader.js';

const body = (subject: string): Buffer =>
  Buffer.from(`From: a@example.org\r\nSubject: ${subject}\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\nhi\r\n`);

/** A store with one message stored with or without its cache, and the view entry of it. */
async function storeWith(dir: string, subject: string, withCache: boolean): Promise<{ s: SqliteStore; mailboxId: number; m: ViewMessage }> {
  const s = await SqliteStore.open({ dir, recover: true });
  const a = await s.createAccount('alice', 'alice@example.test');
  const inbox = (await s.getMailbox(a.id, 'INBOX'))!;
  const b = body(subject);
  const r = await s.appendMessages(a.id, inbox.id, [{ blob: await s.stageBlob(b), flags: [], internalDate: new Date(), cache: withCache ? messageCacheJson(b) : null }]);
  const [meta] = await s.getMessages(inbox.id, r.uids);
  const m = new ViewMessage(meta!.uid, meta!.flags, meta!.modseq, meta!.internalDate.getTime(), meta!.saveDate.getTime(), meta!.size, meta!.fileId, meta!.id);
  return { s, mailboxId: inbox.id, m };
}

test('two stores in one process: the same file id, each store its own parsed cache', async () => {
  const dirs = [mkdtempSync(join(tmpdir(), 'postern-loader-')), mkdtempSync(join(tmpdir(), 'postern-loader-'))];
  const one = await storeWith(dirs[0]!, 'first store', true);
  const two = await storeWith(dirs[1]!, 'second store', true);
  try {
    assert.equal(one.m.fileId, two.m.fileId);
    for (let round = 0; round < 2; round++) {
      for (const [x, subject] of [[one, 'first store'], [two, 'second store']] as const) {
        const loader = new MessageLoader(x.s, x.mailboxId);
        await loader.prefetch([x.m]);
        assert.match(JSON.stringify((await loader.cache(x.m)).envelope), new RegExp(subject));
      }
    }
  } finally {
    await one.s.close();
    await two.s.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
});

test('a cache built on first use serves the next loader without a row or content read', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'postern-loader-'));
  const { s, mailboxId, m } = await storeWith(dir, 'built later', false);
  try {
    const first = new MessageLoader(s, mailboxId);
    await first.prefetch([m]);
    const built = await first.cache(m);
    assert.match(JSON.stringify(built.envelope), /built later/);
    let reads = 0;
    s.getMessages = async () => {
      reads++;
      return [];
    };
    s.readBlob = async () => {
      reads++;
      return Buffer.alloc(0);
    };
    const next = new MessageLoader(s, mailboxId);
    await next.prefetch([m]);
    assert.equal(await next.cache(m), built);
    assert.equal(reads, 0);
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
