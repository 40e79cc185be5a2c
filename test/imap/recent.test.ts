// \Recent as RFC 3501 2.3.2 defines it, for IMAP4rev1 sessions: exactly one session sees a message
// as recent (the first to select the mailbox read-write after it came, or the one told of it while
// selected); RECENT on SELECT and with new mail, STATUS RECENT, SEARCH RECENT/NEW/OLD, \Recent in
// FLAGS. IMAP4rev2 sessions never see it (RFC 9051). Transcripts over a real socket.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { message, startHarness, type Harness } from './harness.js';

const recentLine = (untagged: string[]): string | undefined => untagged.find((l) => / RECENT$/.test(l));

describe('imap \\Recent (RFC 3501 2.3.2)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  it('the first session to select sees new mail as recent, later ones do not', async () => {
    const writer = await h.client();
    await writer.ok('CREATE r1');
    await writer.append('r1', message('first'));
    await writer.append('r1', message('second'));
    let st = await writer.ok('STATUS r1 (MESSAGES RECENT UNSEEN)');
    assert.deepEqual(st.untagged, ['* STATUS r1 (MESSAGES 2 RECENT 2 UNSEEN 2)']);

    // EXAMINE shows what is recent without taking it.
    const looker = await h.client();
    let r = await looker.ok('EXAMINE r1');
    assert.equal(recentLine(r.untagged), '* 2 RECENT');
    r = await looker.ok('FETCH 1:* (FLAGS)');
    assert.deepEqual(r.untagged, ['* 1 FETCH (FLAGS (\\Recent))', '* 2 FETCH (FLAGS (\\Recent))']);

    const a = await h.client();
    r = await a.ok('SELECT r1');
    assert.equal(recentLine(r.untagged), '* 2 RECENT');
    await a.ok('STORE 1 +FLAGS (\\Seen)');
    r = await a.ok('FETCH 1:* (FLAGS)');
    assert.deepEqual(r.untagged, ['* 1 FETCH (FLAGS (\\Recent \\Seen))', '* 2 FETCH (FLAGS (\\Recent))']);
    assert.deepEqual((await a.ok('SEARCH RECENT')).untagged, ['* SEARCH 1 2']);
    assert.deepEqual((await a.ok('SEARCH NEW')).untagged, ['* SEARCH 2']);
    assert.deepEqual((await a.ok('SEARCH OLD')).untagged, ['* SEARCH']);
    // \Recent cannot be stored away, and FLAGS replacement keeps it (it is session state).
    r = await a.ok('STORE 2 FLAGS (\\Flagged \\Recent)');
    assert.deepEqual(r.untagged, ['* 2 FETCH (FLAGS (\\Recent \\Flagged))']);

    // Claimed: a second session, and STATUS, see nothing recent.
    const b = await h.client();
    r = await b.ok('SELECT r1');
    assert.equal(recentLine(r.untagged), '* 0 RECENT');
    r = await b.ok('FETCH 1:* (FLAGS)');
    assert.deepEqual(r.untagged, ['* 1 FETCH (FLAGS (\\Seen))', '* 2 FETCH (FLAGS (\\Flagged))']);
    assert.deepEqual((await b.ok('SEARCH OLD')).untagged, ['* SEARCH 1 2']);
    st = await writer.ok('STATUS r1 (RECENT)');
    assert.deepEqual(st.untagged, ['* STATUS r1 (RECENT 0)']);

    // New mail while both have it selected: the session told first gets it.
    await writer.append('r1', message('third'));
    r = await a.ok('NOOP');
    assert.deepEqual(r.untagged, ['* 3 EXISTS', '* 3 RECENT']);
    r = await b.ok('NOOP');
    assert.deepEqual(r.untagged, ['* 3 EXISTS', '* 0 RECENT']);
    assert.deepEqual((await a.ok('SEARCH RECENT')).untagged, ['* SEARCH 1 2 3']);
    assert.deepEqual((await b.ok('SEARCH RECENT')).untagged, ['* SEARCH']);
    // Expunged messages leave the recent set.
    await a.ok('STORE 1 +FLAGS (\\Deleted)');
    await a.ok('EXPUNGE');
    assert.deepEqual((await a.ok('SEARCH RECENT')).untagged, ['* SEARCH 1 2']);

    // A new connection later (as after a restart: the claim is in the store): nothing recent.
    for (const c of [a, b]) await c.ok('LOGOUT');
    const later = await h.client();
    r = await later.ok('SELECT r1');
    assert.equal(recentLine(r.untagged), '* 0 RECENT');
    for (const c of [writer, looker, later]) c.destroy();
  });

  it('IMAP4rev2 sessions never see \\Recent (RFC 9051), but their SELECT is the first sight of the mail all the same', async () => {
    const writer = await h.client();
    await writer.ok('CREATE r2');
    await writer.append('r2', message('one'));
    const v2 = await h.client();
    await v2.ok('ENABLE IMAP4rev2');
    let r = await v2.ok('SELECT r2');
    assert.equal(recentLine(r.untagged), undefined);
    r = await v2.ok('FETCH 1 (FLAGS)');
    assert.deepEqual(r.untagged, ['* 1 FETCH (FLAGS ())']);
    // The rev2 session was the first to see it: for a rev1 session it is not recent any more.
    const v1 = await h.client();
    r = await v1.ok('SELECT r2');
    assert.equal(recentLine(r.untagged), '* 0 RECENT');
    for (const c of [writer, v2, v1]) c.destroy();
  });
});
