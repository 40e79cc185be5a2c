// Message contents through the store's async read interface, end to end: a content whose file is
// gone answers NO [SERVERBUG] (lost data) or NO [EXPUNGEISSUED] (expunged by another session) and
// the session goes on; BINARY[]<partial> and BINARY.SIZE[] of a big message file (range reads).
// And SELECT of a big mailbox, loaded in pages: changes committed between the pages are neither
// lost nor doubled, and other sessions are answered while the pages are read.
import assert from 'node:assert/strict';
import { unlinkSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { LOAD_PAGE } from '../../src/imap/server/mailbox-view.js';
import type { NewMessage } from '../../src/store/types.js';
import { message, startHarness, type Harness } from './harness.js';

describe('imap store reads', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  /** A message big enough to be a file (not kept in the database), its bytes varying by offset. */
  function bigMessage(subject: string, kib: number): Buffer {
    const lines: string[] = [];
    for (let i = 0; lines.join('').length < kib * 1024; i++) lines.push(`line ${i} of ${subject} ${'abcdefghij'.repeat(5)}\r\n`);
    return Buffer.from(message(subject, lines.join('')));
  }

  it('a message file gone while its row exists is NO [SERVERBUG]; the session goes on', async () => {
    const c = await h.client();
    await c.ok('CREATE lost');
    const big = bigMessage('lost', 100);
    await c.append('lost', message('small one'));
    await c.append('lost', big);
    await c.append('lost', message('small two'));
    const mb = (await h.store.getMailbox(h.accountId, 'lost'))!;
    const [m] = await h.store.getMessages(mb.id, [2]);
    unlinkSync(h.store.blobPath(m!.fileId));
    await c.ok('SELECT lost');
    let r = await c.no('FETCH 2 (BODY.PEEK[])', 'SERVERBUG');
    assert.match(r.text, /internal error; reference/);
    // A range read of the same file fails the same way.
    r = await c.no('FETCH 2 (BINARY.PEEK[]<0.100>)', 'SERVERBUG');
    r = await c.ok('FETCH 1,3 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
    assert.equal(r.untagged.length, 2);
    await c.ok('NOOP');
    c.destroy();
  });

  it('a message expunged by another session after the view was loaded is NO [EXPUNGEISSUED]', async () => {
    const a = await h.client();
    const b = await h.client();
    await a.ok('CREATE gone');
    await a.append('gone', bigMessage('gone', 100));
    await a.ok('SELECT gone');
    await b.ok('SELECT gone');
    await b.ok('STORE 1 +FLAGS (\\Deleted)');
    await b.ok('EXPUNGE');
    // FETCH may not report the EXPUNGE (RFC 9051 7.5.1): the message is still 1 for session a.
    await a.no('FETCH 1 (BODY.PEEK[])', 'EXPUNGEISSUED');
    await a.no('FETCH 1 (BINARY.PEEK[]<10.20>)', 'EXPUNGEISSUED');
    const r = await a.ok('NOOP');
    assert.deepEqual(r.untagged, ['* 1 EXPUNGE']);
    a.destroy();
    b.destroy();
  });

  it('BINARY[]<partial> and BINARY.SIZE[] of a big message file are the stored bytes', async () => {
    const c = await h.client();
    await c.ok('CREATE ranges');
    const big = bigMessage('ranges', 150);
    await c.append('ranges', big);
    await c.ok('SELECT ranges');
    let r = await c.ok('FETCH 1 (BINARY.SIZE[])');
    assert.deepEqual(r.untagged, [`* 1 FETCH (BINARY.SIZE[] ${big.length})`]);
    for (const [start, count] of [[0, 50], [123_457, 40_000], [big.length - 10, 100], [big.length + 5, 10]] as const) {
      r = await c.ok(`FETCH 1 (BINARY.PEEK[]<${start}.${count}>)`);
      const want = big.subarray(Math.min(start, big.length), Math.min(big.length, start + count));
      assert.equal(r.untagged.length, 1);
      assert.equal(r.untagged[0], `* 1 FETCH (BINARY[]<${start}> {${want.length}}\r\n${want.toString('latin1')})`);
    }
    // BODY[] and BINARY[] of the whole message agree with what was appended.
    r = await c.ok('FETCH 1 (BINARY.PEEK[])');
    assert.equal(r.untagged[0], `* 1 FETCH (BINARY[] {${big.length}}\r\n${big.toString('latin1')})`);
    c.destroy();
  });

  /** `count` small messages put into a new mailbox through the store, as delivery would. */
  async function bigMailbox(name: string, count: number): Promise<number> {
    const mb = await h.store.createMailbox(h.accountId, name);
    for (let i = 0; i < count; i += 1000) {
      const batch: NewMessage[] = [];
      for (let j = i; j < Math.min(count, i + 1000); j++) {
        batch.push({ blob: await h.store.stageBlob(Buffer.from(message(`m${j + 1}`))), flags: j % 2 ? ['\\Seen'] : [], internalDate: new Date(), cache: null });
      }
      await h.store.appendMessages(h.accountId, mb.id, batch);
    }
    return mb.id;
  }

  it('changes committed while SELECT reads its pages are reported once, and none is lost', async () => {
    const pages = 4;
    const n = LOAD_PAGE * pages;
    const mbId = await bigMailbox('paged', n);
    const other = await h.client();
    await other.ok('SELECT paged');
    // Between the first and second page: flag changes and expunges of messages on the page read
    // and on pages not read yet, and a new message.
    const store = h.store;
    const page = store.messageSummaryPage.bind(store);
    let calls = 0;
    const early = 10;
    const late = LOAD_PAGE * 3 + 10;
    store.messageSummaryPage = async (...args) => {
      const got = await page(...args);
      if (++calls === 1) {
        await store.storeFlags(h.accountId, mbId, [early, late], 'add', ['\\Flagged']);
        await store.expunge(h.accountId, mbId, [early + 1, late + 1]);
        await store.appendMessages(h.accountId, mbId, [{ blob: await store.stageBlob(Buffer.from(message('during'))), flags: ['$new'], internalDate: new Date(), cache: null }]);
      }
      return got;
    };
    const c = await h.client();
    let r;
    try {
      r = await c.ok('SELECT paged');
    } finally {
      store.messageSummaryPage = page;
    }
    assert.ok(calls >= pages, `read in ${calls} pages`);
    // The view as loaded: the later expunge was not read, the earlier one is reported at once.
    assert.ok(r.untagged.includes(`* ${n - 1} EXISTS`), r.untagged.join('\n'));
    assert.ok(r.untagged.includes(`* ${early + 1} EXPUNGE`), r.untagged.join('\n'));
    assert.deepEqual(r.untagged.filter((l) => l.includes('FETCH')), [`* ${early} FETCH (FLAGS (\\Seen \\Flagged))`]);
    assert.ok(r.untagged.includes(`* ${n - 1} EXISTS`) && r.untagged.at(-2) === `* ${n - 1} EXISTS`, r.untagged.slice(-4).join('\n'));
    // Now exactly what the store holds: every UID once, flags as committed.
    const want = (await store.listMessages(mbId)).map((m) => `${m.uid} ${m.flags.filter((f) => f !== '\\Seen').join(' ')}`);
    r = await c.ok('UID FETCH 1:* (FLAGS)');
    const got = r.untagged.map((l) => {
      const m = /^\* \d+ FETCH \(UID (\d+) FLAGS \(([^)]*)\)\)$/.exec(l);
      assert.ok(m, l);
      return `${m[1]} ${m[2]!.split(' ').filter((f) => f && f !== '\\Seen' && f !== '\\Recent').join(' ')}`;
    });
    assert.equal(got.length, want.length);
    assert.deepEqual(got, want);
    assert.equal(new Set(got.map((g) => g.split(' ')[0])).size, got.length);
    // And the other session, which was not loading, agrees.
    r = await other.ok('NOOP');
    r = await other.ok('FETCH 1:* (UID)');
    assert.equal(r.untagged.length, want.length);
    c.destroy();
    other.destroy();
  });

  it('another session is answered while SELECT of a big mailbox reads its pages', async () => {
    const pages = 15;
    await bigMailbox('slow', LOAD_PAGE * pages);
    const a = await h.client();
    const b = await h.client();
    await b.ok('SELECT INBOX');
    const order: string[] = [];
    const store = h.store;
    const page = store.messageSummaryPage.bind(store);
    let calls = 0;
    // As soon as the first page is read, b sends NOOP.
    store.messageSummaryPage = async (...args) => {
      if (++calls === 1) b.write('n1 NOOP\r\n');
      return page(...args);
    };
    try {
      const ta = a.nextTag();
      a.write(`${ta} SELECT slow\r\n`);
      await Promise.all([a.reply(ta, 60_000).then(() => order.push('select')), b.reply('n1', 60_000).then(() => order.push('noop'))]);
    } finally {
      store.messageSummaryPage = page;
    }
    assert.ok(calls >= pages);
    assert.deepEqual(order, ['noop', 'select']);
    a.destroy();
    b.destroy();
  });
});
