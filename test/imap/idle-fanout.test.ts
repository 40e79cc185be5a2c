// One change reported to many sessions of the same mailbox (src/imap/server/change-fanout.ts): each
// session gets the form it asked for (IMAP4rev1 RECENT, CONDSTORE/QRESYNC UID and MODSEQ, VANISHED),
// the new message's metadata is looked up once per change, and a session that reports the change
// later, after further changes, still sees the current state.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { message, startHarness, type Client, type Harness } from './harness.js';

/** A FETCH line without \\Recent (RFC 3501 2.3.2), for tests where its owner is decided by a race. */
const noRecent = (l: string): string => l.replace(/\\Recent ?/g, '').replace(' )', ')');

describe('imap change fan-out to many sessions', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  async function idle(c: Client): Promise<string> {
    const tag = c.nextTag();
    c.write(`${tag} IDLE\r\n`);
    assert.equal(await c.readLine(), '+ idling');
    return tag;
  }

  async function done(c: Client, tag: string): Promise<string[]> {
    c.write('DONE\r\n');
    const r = await c.reply(tag);
    assert.equal(r.status, 'OK');
    return r.untagged;
  }

  /** Counts store.getMessages calls for one mailbox while `fn` runs. */
  async function countLookups(mailboxName: string, fn: () => Promise<void>): Promise<number> {
    const mb = await h.store.getMailbox(h.accountId, mailboxName);
    assert.ok(mb);
    const store = h.store;
    const original = store.getMessages;
    let n = 0;
    store.getMessages = function (this: typeof store, mailboxId: number, uids: number[]) {
      if (mailboxId === mb.id) n++;
      return original.call(this, mailboxId, uids);
    };
    try {
      await fn();
    } finally {
      store.getMessages = original;
    }
    return n;
  }

  it('sessions in IDLE on one mailbox each get their own EXISTS/FETCH/EXPUNGE form', async () => {
    const a = await h.client();
    await a.ok('CREATE fan');
    await a.ok('CREATE fan-other');
    await a.append('fan', message('one'));
    const plain = await h.client();
    const cs = await h.client();
    await cs.ok('ENABLE CONDSTORE');
    const qr = await h.client();
    await qr.ok('ENABLE QRESYNC');
    const rev2 = await h.client();
    await rev2.ok('ENABLE IMAP4rev2');
    const other = await h.client();
    for (const c of [plain, cs, qr, rev2]) await c.ok('SELECT fan');
    await other.ok('SELECT fan-other');
    const sessions = [plain, cs, qr, rev2, other];
    const tags = await Promise.all(sessions.map(idle));

    const lookups = await countLookups('fan', async () => {
      await a.append('fan', message('two'));
      for (const c of [plain, cs, qr]) {
        assert.equal(await c.readLine(), '* 2 EXISTS');
        // Message 1 is recent for `plain` (first to SELECT); message 2 for the session told first.
        assert.match(await c.readLine(), c === plain ? /^\* [12] RECENT$/ : /^\* [01] RECENT$/);
      }
      // IMAP4rev2 has no RECENT (RFC 9051); the next line is the FETCH below.
      assert.equal(await rev2.readLine(), '* 2 EXISTS');
    });
    // One lookup of the new message for all four sessions, not one each.
    assert.equal(lookups, 1);

    // Which session message 2 is \\Recent for depends on which was told first (tested in recent.test.ts).
    await a.ok('SELECT fan');
    await a.ok('STORE 2 +FLAGS (\\Seen)');
    const modseq = (await h.store.getMessages((await h.store.getMailbox(h.accountId, 'fan'))!.id, [2]))[0]!.modseq;
    assert.equal(noRecent(await plain.readLine()), '* 2 FETCH (FLAGS (\\Seen))');
    assert.equal(noRecent(await rev2.readLine()), '* 2 FETCH (FLAGS (\\Seen))');
    // RFC 7162 3.2.4: with CONDSTORE the untagged FETCH carries UID and MODSEQ.
    assert.equal(noRecent(await cs.readLine()), `* 2 FETCH (UID 2 FLAGS (\\Seen) MODSEQ (${modseq}))`);
    assert.equal(noRecent(await qr.readLine()), `* 2 FETCH (UID 2 FLAGS (\\Seen) MODSEQ (${modseq}))`);

    await a.ok('STORE 1 +FLAGS.SILENT (\\Deleted)');
    for (const c of [plain, cs, qr, rev2]) assert.match(noRecent(await c.readLine()), /^\* 1 FETCH \(.*FLAGS \(\\Deleted\)/);
    await a.ok('EXPUNGE');
    assert.equal(await plain.readLine(), '* 1 EXPUNGE');
    assert.equal(await cs.readLine(), '* 1 EXPUNGE');
    assert.equal(await rev2.readLine(), '* 1 EXPUNGE');
    // RFC 7162 3.2.10: VANISHED once QRESYNC is enabled.
    assert.equal(await qr.readLine(), '* VANISHED 1');

    for (let i = 0; i < sessions.length; i++) assert.deepEqual(await done(sessions[i]!, tags[i]!), []);
    for (const c of [plain, rev2]) assert.deepEqual((await c.ok('FETCH 1:* (UID FLAGS)')).untagged.map(noRecent), ['* 1 FETCH (UID 2 FLAGS (\\Seen))']);
    // With CONDSTORE every FETCH response carries MODSEQ (RFC 7162 3.1.4.1).
    for (const c of [cs, qr]) assert.deepEqual((await c.ok('FETCH 1:* (UID FLAGS)')).untagged.map(noRecent), [`* 1 FETCH (UID 2 FLAGS (\\Seen) MODSEQ (${modseq}))`]);
    for (const c of [a, ...sessions]) c.destroy();
  });

  it('a session that reports an APPEND after a later flag change sees the current flags', async () => {
    const a = await h.client();
    await a.ok('CREATE later');
    await a.append('later', message('one'));
    const idler = await h.client();
    const busy = await h.client();
    await busy.ok('ENABLE CONDSTORE');
    await idler.ok('SELECT later');
    await busy.ok('SELECT later');
    const tag = await idle(idler);
    await a.ok('SELECT later');
    // The idle session reports (and looks up) the new message at once; `busy` only at its next
    // command, after the flag change below.
    const appended = a.nextTag();
    a.write(`${appended} APPEND later (\\Flagged) {${message('two').length}+}\r\n`);
    a.write(message('two'));
    a.write('\r\n');
    assert.equal((await a.reply(appended)).status, 'OK');
    assert.equal(await idler.readLine(), '* 2 EXISTS');
    // Message 1 is recent for idler (first to SELECT); message 2 for whichever of a and idler was told first.
    const recent = await idler.readLine();
    assert.match(recent, /^\* [12] RECENT$/);
    const shown = recent === '* 2 RECENT' ? '(\\Recent)' : '()';
    await a.ok('STORE 2 -FLAGS (\\Flagged)');
    assert.equal(await idler.readLine(), `* 2 FETCH (FLAGS ${shown})`);
    assert.deepEqual(await done(idler, tag), []);

    const r = await busy.ok('NOOP');
    assert.deepEqual(r.untagged, ['* 2 EXISTS', '* 0 RECENT']);
    const mb = await h.store.getMailbox(h.accountId, 'later');
    const modseq = (await h.store.getMessages(mb!.id, [2]))[0]!.modseq;
    const f = await busy.ok('FETCH 2 (FLAGS MODSEQ)');
    assert.deepEqual(f.untagged, [`* 2 FETCH (FLAGS () MODSEQ (${modseq}))`]);
    const g = await idler.ok('FETCH 2 (FLAGS)');
    assert.deepEqual(g.untagged, [`* 2 FETCH (FLAGS ${shown})`]);
    for (const c of [a, idler, busy]) c.destroy();
  });

  it('a session that leaves IDLE before its update ran reports the change at its next command', async () => {
    const a = await h.client();
    await a.ok('CREATE quick');
    const b = await h.client();
    await b.ok('SELECT quick');
    const tag = await idle(b);
    // DONE and the APPEND race; either way the EXISTS is reported exactly once.
    b.write('DONE\r\n');
    await a.append('quick', message('one'));
    const r = await b.reply(tag);
    assert.equal(r.status, 'OK');
    const n = await b.ok('NOOP');
    const all = [...r.untagged, ...n.untagged];
    // b is the only session with the mailbox selected: the new message is recent for it.
    assert.deepEqual(all, ['* 1 EXISTS', '* 1 RECENT']);
    a.destroy();
    b.destroy();
  });
});
