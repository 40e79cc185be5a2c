// Two sessions on one mailbox: APPEND, STORE and EXPUNGE in one appear in the other, in IDLE and not.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { message, startHarness, type Harness } from './harness.js';

describe('imap two sessions', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  it('reports changes at the next command, EXPUNGE not during FETCH/STORE/SEARCH', async () => {
    const a = await h.client();
    const b = await h.client();
    await a.ok('CREATE shared');
    await a.append('shared', message('one'));
    await a.ok('SELECT shared');
    await b.ok('SELECT shared');
    await a.append('shared', message('two'));
    let r = await b.ok('NOOP');
    assert.deepEqual(r.untagged, ['* 2 EXISTS', '* 0 RECENT']);
    await a.ok('STORE 1 +FLAGS (\\Deleted)');
    r = await b.ok('NOOP');
    assert.deepEqual(r.untagged, ['* 1 FETCH (FLAGS (\\Deleted))']);
    await a.ok('EXPUNGE');
    // RFC 9051 7.5.1: no EXPUNGE during FETCH (sequence numbers would shift under the client).
    r = await b.ok('FETCH 1:* (FLAGS)');
    assert.ok(!r.untagged.some((l) => l.includes('EXPUNGE')), r.untagged.join('\n'));
    assert.equal(r.untagged.length, 2);
    r = await b.ok('UID FETCH 1:* (FLAGS)');
    assert.ok(r.untagged.includes('* 1 EXPUNGE'), r.untagged.join('\n'));
    r = await b.ok('NOOP');
    assert.deepEqual(r.untagged, []);
    a.destroy();
    b.destroy();
  });

  it('pushes APPEND, STORE and EXPUNGE at once during IDLE', async () => {
    const a = await h.client();
    const b = await h.client();
    await a.ok('CREATE idlebox');
    await a.append('idlebox', message('one'));
    await a.ok('SELECT idlebox');
    await b.ok('SELECT idlebox');
    const tag = b.nextTag();
    b.write(`${tag} IDLE\r\n`);
    assert.equal(await b.readLine(), '+ idling');
    await a.append('idlebox', message('two'));
    assert.equal(await b.readLine(), '* 2 EXISTS');
    // Recent for whichever of a (its APPEND) and b (IDLE) was told first (RFC 3501 2.3.2).
    const recent = await b.readLine();
    assert.match(recent, /^\* [01] RECENT$/);
    await a.ok('STORE 2 +FLAGS (\\Seen)');
    assert.equal(await b.readLine(), recent === '* 1 RECENT' ? '* 2 FETCH (FLAGS (\\Recent \\Seen))' : '* 2 FETCH (FLAGS (\\Seen))');
    await a.ok('STORE 1 +FLAGS.SILENT (\\Deleted)');
    assert.equal(await b.readLine(), '* 1 FETCH (FLAGS (\\Deleted))');
    await a.ok('EXPUNGE');
    assert.equal(await b.readLine(), '* 1 EXPUNGE');
    b.write('DONE\r\n');
    const r = await b.reply(tag);
    assert.equal(r.status, 'OK');
    const f = await b.ok('FETCH 1:* (UID)');
    assert.deepEqual(f.untagged, ['* 1 FETCH (UID 2)']);
    a.destroy();
    b.destroy();
  });

  it('with QRESYNC the other session sees VANISHED, and CONDSTORE adds MODSEQ', async () => {
    const a = await h.client();
    const b = await h.client();
    await a.ok('CREATE qr');
    await a.append('qr', message('one'));
    await a.append('qr', message('two'));
    await a.ok('SELECT qr');
    await b.ok('ENABLE QRESYNC');
    await b.ok('SELECT qr');
    await a.ok('STORE 1 +FLAGS (\\Deleted)');
    await a.ok('EXPUNGE');
    const r = await b.ok('NOOP');
    assert.deepEqual(r.untagged.filter((l) => !l.includes('FETCH')), ['* VANISHED 1']);
    a.destroy();
    b.destroy();
  });
});
