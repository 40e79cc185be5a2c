// The fast paths for big mailboxes, end to end: FETCH of metadata written in large chunks, SEARCH
// BODY/TEXT with the raw-byte first pass (encoded bodies, charsets, case), and SELECT of the same
// mailbox again reusing the session's view only while nothing changed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NewMessage } from '../../src/store/types.js';
import { message, startHarness, type Harness } from './harness.js';

describe('imap big mailbox paths', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  it('FETCH 1:* (FLAGS) and (UID FLAGS RFC822.SIZE INTERNALDATE) over thousands of messages', async () => {
    const mb = await h.store.createMailbox(h.accountId, 'many');
    const n = 5000;
    const batch: NewMessage[] = [];
    for (let i = 1; i <= n; i++) {
      const buf = Buffer.from(message(`m${i}`));
      batch.push({ blob: await h.store.stageBlob(buf), flags: i % 3 ? ['\\Seen'] : i % 2 ? ['$Label1', '\\Flagged'] : [], internalDate: new Date(Date.UTC(2024, 0, 1) + i * 1000), cache: null });
    }
    await h.store.appendMessages(h.accountId, mb.id, batch);
    const c = await h.client();
    await c.ok('SELECT many');
    let r = await c.ok('FETCH 1:* (FLAGS)');
    assert.equal(r.untagged.length, n);
    // Delivered before this first SELECT: recent for this session (RFC 3501 2.3.2).
    assert.equal(r.untagged[0], '* 1 FETCH (FLAGS (\\Recent \\Seen))');
    assert.equal(r.untagged[2], '* 3 FETCH (FLAGS (\\Recent $Label1 \\Flagged))');
    assert.equal(r.untagged[5], '* 6 FETCH (FLAGS (\\Recent))');
    r = await c.ok('UID FETCH 4990:* (FLAGS RFC822.SIZE INTERNALDATE)');
    assert.equal(r.untagged.length, 11);
    assert.match(r.untagged[0]!, /^\* 4990 FETCH \(UID 4990 FLAGS \(\\Recent \\Seen\) RFC822\.SIZE \d+ INTERNALDATE "01-Jan-2024 01:23:10 \+0000"\)$/);
    // A sparse set: sequence numbers stay right.
    r = await c.ok('UID FETCH 2,4999,7 (UID)');
    assert.deepEqual(r.untagged, ['* 2 FETCH (UID 2)', '* 7 FETCH (UID 7)', '* 4999 FETCH (UID 4999)']);
    // CONDSTORE adds MODSEQ to FLAGS.
    r = await c.ok('FETCH 1 (FLAGS) (CHANGEDSINCE 0)');
    // The command that turns CONDSTORE on is answered with HIGHESTMODSEQ first (RFC 7162 3.1).
    assert.match(r.untagged[0]!, /^\* OK \[HIGHESTMODSEQ \d+\]/);
    assert.match(r.untagged[1]!, /^\* 1 FETCH \(FLAGS \(\\Recent \\Seen\) MODSEQ \(\d+\)\)$/);
    c.destroy();
  });

  it('SEARCH BODY and TEXT: plain, base64, quoted-printable, Latin-1, mixed case, non-ASCII', async () => {
    const c = await h.client();
    await c.ok('CREATE s');
    const b64 = Buffer.from('Der Xylophonist spielt. Grüße').toString('base64');
    await c.append('s', message('plain', 'nothing to see here\r\n')); // 1
    await c.append('s', message('b64', `${b64}\r\n`, 'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n')); // 2
    await c.append('s', message('qp', 'a XYLO=\r\nPHONIST plays caf=E9\r\n', 'Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n')); // 3
    await c.append('s', message('mixed', 'The xyloPHONIST is here\r\n')); // 4
    await c.append('s', Buffer.from(message('latin1', 'un caf\xe9 noir\r\n', 'Content-Type: text/plain; charset=iso-8859-1\r\n'), 'latin1')); // 5
    await c.append('s', message('html', '<p>x&#121;lophonist</p>\r\n', 'Content-Type: text/html\r\n')); // 6
    await c.append('s', message('=?utf-8?q?Xylophonist?=', 'no body match\r\n')); // 7
    await c.ok('SELECT s');
    let r = await c.ok('SEARCH BODY xylophonist');
    assert.deepEqual(r.untagged, ['* SEARCH 2 3 4 6']);
    r = await c.ok('SEARCH BODY XyLoPhOnIsT');
    assert.deepEqual(r.untagged, ['* SEARCH 2 3 4 6']);
    r = await c.ok('SEARCH TEXT xylophonist');
    assert.deepEqual(r.untagged, ['* SEARCH 2 3 4 6 7']);
    r = await c.ok('SEARCH CHARSET UTF-8 BODY {5+}\r\nCAFÉ');
    assert.deepEqual(r.untagged, ['* SEARCH 3 5']);
    r = await c.ok('SEARCH CHARSET UTF-8 BODY {7+}\r\ngrüße');
    assert.deepEqual(r.untagged, ['* SEARCH 2']);
    r = await c.ok('SEARCH BODY "see here"');
    assert.deepEqual(r.untagged, ['* SEARCH 1']);
    r = await c.ok('SEARCH NOT BODY xylophonist');
    assert.deepEqual(r.untagged, ['* SEARCH 1 5 7']);
    c.destroy();
  });

  it('SELECT of the same mailbox again shows changes made in between', async () => {
    const a = await h.client();
    const b = await h.client();
    await a.ok('CREATE again');
    await a.append('again', message('one'));
    await a.append('again', message('two'));
    await a.ok('SELECT again');
    let r = await a.ok('SELECT again');
    assert.ok(r.untagged.includes('* 2 EXISTS'), r.untagged.join('\n'));
    // Another session changes flags and appends; re-SELECT must not reuse the old view.
    await b.ok('SELECT again');
    await b.ok('STORE 1 +FLAGS (\\Flagged)');
    await b.append('again', message('three'));
    r = await a.ok('SELECT again');
    assert.ok(r.untagged.includes('* 3 EXISTS'), r.untagged.join('\n'));
    r = await a.ok('FETCH 1:* (FLAGS)');
    assert.deepEqual(r.untagged, ['* 1 FETCH (FLAGS (\\Flagged))', '* 2 FETCH (FLAGS ())', '* 3 FETCH (FLAGS ())']);
    // Own change, then re-SELECT (EXAMINE: read-only view of the same messages).
    await a.ok('STORE 2 +FLAGS (\\Seen)');
    r = await a.ok('EXAMINE again');
    assert.equal(r.text.startsWith('[READ-ONLY]'), true, r.text);
    r = await a.ok('FETCH 1:* (FLAGS)');
    assert.deepEqual(r.untagged, ['* 1 FETCH (FLAGS (\\Flagged))', '* 2 FETCH (FLAGS (\\Seen))', '* 3 FETCH (FLAGS ())']);
    // Expunged by the other session between two SELECTs.
    await b.ok('STORE 3 +FLAGS (\\Deleted)');
    await b.ok('EXPUNGE');
    r = await a.ok('SELECT again');
    assert.ok(r.untagged.includes('* 2 EXISTS'), r.untagged.join('\n'));
    r = await a.ok('UID FETCH 1:* (UID)');
    assert.deepEqual(r.untagged, ['* 1 FETCH (UID 1)', '* 2 FETCH (UID 2)']);
    a.destroy();
    b.destroy();
  });
});
