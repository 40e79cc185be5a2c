// NOTIFY with CONTEXT=SEARCH/SORT (RFC 5465 7) over real sockets: RETURN (UPDATE (fetch-att...))
// makes a new message that joins a kept result arrive as EXISTS, then a FETCH with that list, then
// the ESEARCH ADDTO (section 7's order), whether pushed by NOTIFY between commands, in IDLE, or at
// the next command without NOTIFY; NOTIFY's MessageNew list and the UPDATE list go into one FETCH
// per message (5.2); a message that joins by a flag change, or by the session's own APPEND, is not
// fetched; BODY[...] is fetched as BODY.PEEK[...]. Two sessions: one watches, the other changes.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { message, startHarness, type Client, type Harness } from './harness.js';
import { until, silent } from './notify-support.js';

/** A command whose tag the test needs (the ESEARCH updates carry it). */
async function tagged(c: Client, command: string): Promise<{ tag: string; untagged: string[] }> {
  const tag = c.nextTag();
  c.write(`${tag} ${command}\r\n`);
  const r = await c.reply(tag);
  assert.equal(r.status, 'OK', `${command}: ${r.text}`);
  return { tag, untagged: r.untagged };
}

/** Without the RECENT lines an IMAP4rev1 session also gets. */
const noRecent = (lines: string[]): string[] => lines.filter((l) => !/^\* \d+ RECENT$/.test(l));

const boss = (subject: string): string => message(subject, 'see me\r\n').replace(/^From: [^\r]*/m, 'From: Boss <boss@example.com>');
const HEADERS = 'BODY[HEADER.FIELDS (FROM SUBJECT)]';

describe('NOTIFY with CONTEXT=SEARCH/SORT (RFC 5465 7)', () => {
  let h: Harness;
  let a: Client;
  let b: Client;
  let n = 0;
  before(async () => {
    h = await startHarness();
    a = await h.client();
    b = await h.client();
    // IMAP4rev2: no RECENT lines among the updates.
    await a.ok('ENABLE IMAP4rev2');
  });
  after(async () => {
    a?.destroy();
    b?.destroy();
    await h?.close();
  });
  beforeEach(async () => {
    // A fresh mailbox per test, so that the numbers below are known.
    n++;
    await b.ok(`CREATE Box${n}`);
    assert.equal((await b.append(`Box${n}`, message('old', 'x\r\n'))).status, 'OK');
    await a.ok('NOTIFY NONE');
    await a.ok(`SELECT Box${n}`);
  });

  it("the RFC's example: EXISTS, FETCH with the UPDATE list, then ESEARCH ADDTO; no FETCH for a message that does not join", async () => {
    const r = await tagged(a, `SEARCH RETURN (COUNT UPDATE (UID ${HEADERS.replace('BODY[', 'BODY[')})) FROM "boss"`);
    assert.deepEqual(r.untagged, [`* ESEARCH (TAG "${r.tag}") COUNT 0`]);
    await a.ok('NOTIFY SET (selected (MessageNew MessageExpunge))');
    assert.equal((await b.append(`Box${n}`, message('noise', 'y\r\n'))).status, 'OK');
    assert.deepEqual(await until(a, /EXISTS/), ['* 2 EXISTS']);
    await silent(a);
    assert.equal((await b.append(`Box${n}`, boss('Next meeting'))).status, 'OK');
    const lines = noRecent(await until(a, /ESEARCH/));
    assert.equal(lines.length, 3, lines.join('\n'));
    assert.equal(lines[0], '* 3 EXISTS');
    const fetch = /^\* 3 FETCH \(UID 3 BODY\[HEADER\.FIELDS \(FROM SUBJECT\)\] \{(\d+)\}\r\n([\s\S]*)\)$/.exec(lines[1]!);
    assert.ok(fetch, lines[1]);
    assert.equal(fetch[2], 'From: Boss <boss@example.com>\r\nSubject: Next meeting\r\n\r\n');
    assert.equal(lines[2], `* ESEARCH (TAG "${r.tag}") ADDTO (0 3)`);
    // BODY[...] was fetched as BODY.PEEK[...]: \Seen is not set.
    const f = await a.ok('UID FETCH 3 (FLAGS)');
    assert.ok(!f.untagged.join('\n').includes('\\Seen'), f.untagged.join('\n'));
  });

  it("with NOTIFY's MessageNew list: one FETCH per message with both lists, the others MessageNew's alone, all before the ESEARCH", async () => {
    const r = await tagged(a, `UID SEARCH RETURN (UPDATE (UID ${HEADERS})) FROM "boss"`);
    await a.ok('NOTIFY SET (selected (MessageNew (UID FLAGS) MessageExpunge))');
    // Both in one change batch: an APPEND of two messages.
    const tag = b.nextTag();
    const m1 = message('noise', 'y\r\n');
    const m2 = boss('Budget');
    b.write(`${tag} APPEND Box${n} {${m1.length}+}\r\n${m1} {${m2.length}+}\r\n${m2}\r\n`);
    assert.equal((await b.reply(tag)).status, 'OK');
    // Every new message of the batch is fetched before the ESEARCH, the one that joined nothing
    // with MessageNew's list alone.
    const lines = await until(a, /ESEARCH/);
    const all = noRecent(lines);
    assert.equal(all[0], '* 3 EXISTS');
    const fetches = all.filter((l) => l.includes(' FETCH '));
    assert.equal(fetches.length, 2, all.join('\n'));
    const joined = fetches.find((l) => l.startsWith('* 3 FETCH '))!;
    assert.match(joined, /^\* 3 FETCH \(UID 3 BODY\[HEADER\.FIELDS \(FROM SUBJECT\)\] \{\d+\}\r\nFrom: Boss[\s\S]*FLAGS \([^)]*\)\)$/);
    assert.equal((joined.match(/UID 3/g) ?? []).length, 1, 'UID once');
    assert.match(fetches.find((l) => l.startsWith('* 2 FETCH ')) ?? '', /^\* 2 FETCH \(UID 2 FLAGS \([^)]*\)\)$/);
    // The joined message's FETCH precedes the ESEARCH (section 7).
    assert.ok(all.indexOf(joined) < all.findIndex((l) => l.includes('ESEARCH')));
    assert.equal(lines[lines.length - 1], `* ESEARCH (TAG "${r.tag}") UID ADDTO (0 3)`);
    await silent(a);
  });

  it('a message that joins by a flag change gets ADDTO without the UPDATE FETCH', async () => {
    const r = await tagged(a, `UID SEARCH RETURN (UPDATE (UID ${HEADERS})) FLAGGED`);
    await a.ok('NOTIFY SET (selected (MessageNew MessageExpunge FlagChange))');
    await b.ok(`SELECT Box${n}`);
    await b.ok('UID STORE 1 +FLAGS.SILENT (\\Flagged)');
    const lines = await until(a, /ESEARCH/);
    assert.equal(lines[lines.length - 1], `* ESEARCH (TAG "${r.tag}") UID ADDTO (0 1)`);
    assert.ok(!lines.some((l) => l.includes('HEADER.FIELDS')), lines.join('\n'));
    await silent(a);
    await b.ok('UNSELECT');
  });

  it('without NOTIFY: at the next command, in the same order; and the session\'s own APPEND is not fetched', async () => {
    const r = await tagged(a, `SEARCH RETURN (UPDATE (UID ${HEADERS})) FROM "boss"`);
    assert.equal((await b.append(`Box${n}`, boss('Review'))).status, 'OK');
    const noop = { untagged: noRecent((await a.ok('NOOP')).untagged) };
    assert.equal(noop.untagged.length, 3, noop.untagged.join('\n'));
    assert.equal(noop.untagged[0], '* 2 EXISTS');
    assert.match(noop.untagged[1]!, /^\* 2 FETCH \(UID 2 BODY\[HEADER\.FIELDS \(FROM SUBJECT\)\] \{\d+\}\r\nFrom: Boss <boss@example.com>\r\nSubject: Review\r\n\r\n\)$/);
    assert.equal(noop.untagged[2], `* ESEARCH (TAG "${r.tag}") ADDTO (0 2)`);
    // RFC 5465 5.2: the client knows what it appended itself.
    const own = await a.append(`Box${n}`, boss('Mine'));
    assert.equal(own.status, 'OK');
    assert.ok(!own.untagged.some((l) => l.includes(' FETCH ')), own.untagged.join('\n'));
    assert.ok(own.untagged.includes(`* ESEARCH (TAG "${r.tag}") ADDTO (0 3)`), own.untagged.join('\n'));
  });

  it('in IDLE without NOTIFY, and for SORT: the position in sort order, after the FETCH', async () => {
    // A session that never sent NOTIFY (after NOTIFY NONE nothing is pushed, not even in IDLE).
    const c = await h.client();
    try {
      await c.ok('ENABLE IMAP4rev2');
      await c.ok(`SELECT Box${n}`);
      const r = await tagged(c, 'UID SORT RETURN (UPDATE(UID FLAGS)) (REVERSE SUBJECT) UTF-8 ALL');
      const tag = c.nextTag();
      c.write(`${tag} IDLE\r\n`);
      assert.match(await c.readLine(), /^\+ /);
      assert.equal((await b.append(`Box${n}`, message('zebra', 'z\r\n'))).status, 'OK');
      const lines = await until(c, /ESEARCH/);
      // "zebra" sorts first in reverse subject order: position 1.
      assert.deepEqual(lines, ['* 2 EXISTS', '* 2 FETCH (UID 2 FLAGS ())', `* ESEARCH (TAG "${r.tag}") UID ADDTO (1 2)`]);
      c.write('DONE\r\n');
      await c.reply(tag);
    } finally {
      c.destroy();
    }
  });

  it('an account NOTIFY is hidden from gets BAD for an UPDATE list, plain UPDATE still works', async () => {
    await h.store.setHiddenCapabilities('mjl', ['NOTIFY']);
    const c = await h.client();
    try {
      await c.ok(`SELECT Box${n}`);
      await c.bad('SEARCH RETURN (UPDATE (UID)) ALL');
      await c.ok('SEARCH RETURN (UPDATE) ALL');
    } finally {
      c.destroy();
      await h.store.setHiddenCapabilities('mjl', []);
    }
  });

  it('bad UPDATE lists are BAD, the session goes on', async () => {
    await a.bad('SEARCH RETURN (UPDATE (BOGUS)) ALL');
    await a.bad('SEARCH RETURN (UPDATE (UID) UPDATE (FLAGS)) ALL');
    await a.bad('SEARCH RETURN (UPDATE ()) ALL');
    await a.ok('NOOP');
  });
});
