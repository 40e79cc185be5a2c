// Parsed message caches kept by the process (src/imap/server/message-cache-lru.ts): a FETCH of
// ENVELOPE and BODYSTRUCTURE of messages another session fetched before reads neither the store's
// rows nor the contents again, whether their cache was stored with them or built on first use; the
// answers are the same.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { messageCacheJson } from '../../src/mime/message-cache.js';
import { message, startHarness, type Harness } from './harness.js';

describe('imap parsed message caches shared by the sessions of a process', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  it('a second session FETCHes ENVELOPE BODYSTRUCTURE without store reads', async () => {
    const mb = await h.store.createMailbox(h.accountId, 'shared');
    const bodies = [0, 1, 2, 3].map((i) => Buffer.from(message(`cached ${i}`, `body ${i}\r\n`)));
    // Two stored with their cache (as APPEND and delivery do), two without (built on first use).
    const msgs = await Promise.all(bodies.map(async (b, i) => ({ blob: await h.store.stageBlob(b), flags: [], internalDate: new Date(), cache: i < 2 ? messageCacheJson(b) : null })));
    await h.store.appendMessages(h.accountId, mb.id, msgs);

    const counts = { rows: 0, contents: 0 };
    const getMessages = h.store.getMessages.bind(h.store);
    const readBlob = h.store.readBlob.bind(h.store);
    h.store.getMessages = async (mailboxId, uids) => {
      counts.rows += uids.length;
      return getMessages(mailboxId, uids);
    };
    h.store.readBlob = async (fileId, size) => {
      counts.contents++;
      return readBlob(fileId, size);
    };
    try {
      const a = await h.client();
      await a.ok('SELECT shared');
      counts.rows = counts.contents = 0;
      const first = await a.ok('FETCH 1:* (ENVELOPE BODYSTRUCTURE)');
      assert.equal(first.untagged.length, 4);
      assert.match(first.untagged[3]!, /"cached 3"/);
      assert.deepEqual(counts, { rows: 4, contents: 2 });

      const b = await h.client();
      await b.ok('EXAMINE shared');
      counts.rows = counts.contents = 0;
      const second = await b.ok('FETCH 1:* (ENVELOPE BODYSTRUCTURE)');
      assert.deepEqual(second.untagged, first.untagged);
      assert.deepEqual(counts, { rows: 0, contents: 0 });
      a.destroy();
      b.destroy();
    } finally {
      h.store.getMessages = getMessages;
      h.store.readBlob = readBlob;
    }
  });

  it('FETCH BODY.PEEK[] takes the stored cache: no parse, no write of the cache again', async () => {
    const mb = await h.store.createMailbox(h.accountId, 'bodies');
    const bodies = [0, 1, 2].map((i) => Buffer.from(message(`body fetch ${i}`, `text ${i}\r\n`)));
    const msgs = await Promise.all(bodies.map(async (b) => ({ blob: await h.store.stageBlob(b), flags: [], internalDate: new Date(), cache: messageCacheJson(b) })));
    await h.store.appendMessages(h.accountId, mb.id, msgs);
    let writes = 0;
    const setMessageCache = h.store.setMessageCache.bind(h.store);
    h.store.setMessageCache = async (id, cache) => {
      writes++;
      return setMessageCache(id, cache);
    };
    try {
      const a = await h.client();
      await a.ok('SELECT bodies');
      const r = await a.ok('FETCH 1:3 (BODY.PEEK[] BODY.PEEK[1] RFC822.HEADER)');
      assert.equal(r.untagged.length, 3);
      await a.ok('FETCH 2 (BINARY.PEEK[1])');
      assert.equal(writes, 0, 'caches stored with the messages are not rebuilt and written back');
      a.destroy();
    } finally {
      h.store.setMessageCache = setMessageCache;
    }
  });

  it('a message APPENDed in this process is FETCHed without reading its row again', async () => {
    await h.store.createMailbox(h.accountId, 'appended');
    const counts = { rows: 0 };
    const getMessages = h.store.getMessages.bind(h.store);
    h.store.getMessages = async (mailboxId, uids) => {
      counts.rows += uids.length;
      return getMessages(mailboxId, uids);
    };
    try {
      const a = await h.client();
      await a.ok('SELECT appended');
      const body = message('appended here', 'text\r\n');
      await a.ok(`APPEND appended {${Buffer.byteLength(body)}+}\r\n${body}`);
      await a.ok('NOOP');
      counts.rows = 0;
      const r = await a.ok('FETCH 1 (ENVELOPE BODYSTRUCTURE)');
      assert.match(r.untagged[0]!, /"appended here"/);
      assert.equal(counts.rows, 0);
      a.destroy();
    } finally {
      h.store.getMessages = getMessages;
    }
  });
});
