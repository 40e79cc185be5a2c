// UIDONLY (RFC 9586) over a real socket: ENABLE UIDONLY, then every command that takes or returns
// message sequence numbers is BAD [UIDREQUIRED] (the session goes on), FETCH responses are UIDFETCH
// (for UID FETCH, UID STORE, flag changes of other sessions, QRESYNC SELECT), expunges are VANISHED,
// SELECT leaves out [UNSEEN n]; an account that hides UIDONLY cannot enable it; python3 imaplib as a
// real peer.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { message, PASSWORD, startHarness, USER, type Client, type Harness } from './harness.js';

describe('UIDONLY (RFC 9586)', () => {
  let h: Harness;
  let c: Client;
  /** UIDs of the messages in Box (1..3 are 2..4: the first message was expunged). */
  let uids: number[];

  before(async () => {
    h = await startHarness();
    const setup = await h.client();
    await setup.ok('CREATE Box');
    await setup.ok('CREATE Other');
    for (let i = 0; i < 4; i++) await setup.append('Box', message(`message ${i}`));
    await setup.ok('SELECT Box');
    await setup.ok('STORE 1 +FLAGS (\\Deleted)');
    await setup.ok('EXPUNGE');
    await setup.ok('STORE 1 +FLAGS (\\Seen)');
    uids = (await setup.ok('UID SEARCH ALL')).untagged[0]!.split(' ').slice(2).map(Number);
    assert.equal(uids.length, 3);
    setup.destroy();
    c = await h.client();
    const r = await c.ok('ENABLE UIDONLY');
    assert.deepEqual(r.untagged, ['* ENABLED UIDONLY']);
  });
  after(async () => {
    c?.destroy();
    await h?.close();
  });

  it('advertises UIDONLY', async () => {
    const r = await c.ok('CAPABILITY');
    assert.match(r.untagged[0]!, /^\* CAPABILITY .* UIDONLY( |$)/);
  });

  it('SELECT leaves out [UNSEEN n], a sequence number', async () => {
    const r = await c.ok('SELECT Box');
    assert.ok(r.untagged.includes('* 3 EXISTS'), JSON.stringify(r.untagged));
    assert.ok(!r.untagged.some((l) => /UNSEEN/.test(l)), JSON.stringify(r.untagged));
  });

  it('commands with message sequence numbers are BAD [UIDREQUIRED]; the session goes on', async () => {
    for (const cmd of [
      'FETCH 1 (FLAGS)',
      'FETCH 1:* (UID)',
      'STORE 1 +FLAGS (\\Flagged)',
      'COPY 1 Other',
      'MOVE 1 Other',
      'SEARCH ALL',
      'SEARCH RETURN (COUNT) ALL',
      'SORT (DATE) UTF-8 ALL',
      'THREAD REFERENCES UTF-8 ALL',
      // RFC 9586 3.5: the sequence-set search key, also in UID commands.
      'UID SEARCH 1:2',
      'UID SEARCH NOT 1',
      'UID SEARCH OR UID 1 2',
      'UID SORT (ARRIVAL) UTF-8 1:*',
      'UID THREAD ORDEREDSUBJECT UTF-8 UNSEEN 1',
    ]) {
      const r = await c.bad(cmd);
      assert.match(r.text, /^\[UIDREQUIRED\] /, `${cmd}: ${r.text}`);
    }
    // REPLACE with a sequence number: refused before the continuation.
    const tag = c.nextTag();
    c.write(`${tag} REPLACE 1 Box {5}\r\n`);
    const line = await c.readLine();
    assert.match(line, new RegExp(`^${tag} BAD \\[UIDREQUIRED\\] `));
    // Nothing was changed.
    const f = await c.ok(`UID FETCH ${uids[0]} (FLAGS)`);
    assert.deepEqual(f.untagged, [`* ${uids[0]} UIDFETCH (FLAGS (\\Seen))`]);
    await c.ok('NOOP');
  });

  it('UID FETCH answers with UIDFETCH: the UID leads, the UID item only when asked for', async () => {
    const r = await c.ok('UID FETCH 1:* (FLAGS)');
    assert.deepEqual(r.untagged, [`* ${uids[0]} UIDFETCH (FLAGS (\\Seen))`, `* ${uids[1]} UIDFETCH (FLAGS ())`, `* ${uids[2]} UIDFETCH (FLAGS ())`]);
    const u = await c.ok(`UID FETCH ${uids[1]} (UID RFC822.SIZE)`);
    assert.match(u.untagged[0]!, new RegExp(`^\\* ${uids[1]} UIDFETCH \\(UID ${uids[1]} RFC822.SIZE \\d+\\)$`));
    // Message content (the other writer).
    const b = await c.ok(`UID FETCH ${uids[2]} (BODY.PEEK[HEADER.FIELDS (SUBJECT)])`);
    assert.match(b.untagged[0]!, new RegExp(`^\\* ${uids[2]} UIDFETCH \\(BODY\\[HEADER.FIELDS \\(SUBJECT\\)\\] \\{\\d+\\}\\r\\nSubject: message 3`));
    // No sequence number anywhere: an empty result is just OK.
    assert.deepEqual((await c.ok('UID FETCH 9999 (FLAGS)')).untagged, []);
    // A huge UID set: only the messages that exist answer.
    const huge = Array.from({ length: 5000 }, (_, i) => 2 * i + 1).concat(uids).join(',');
    const hr = await c.ok(`UID FETCH ${huge} (FLAGS)`);
    assert.deepEqual(hr.untagged.map((l) => Number(/^\* (\d+) UIDFETCH /.exec(l)![1])), uids);
  });

  it('UID SEARCH, UID SORT and UID THREAD work with UID sets', async () => {
    assert.equal((await c.ok(`UID SEARCH UID ${uids[1]}:*`)).untagged[0], `* SEARCH ${uids[1]} ${uids[2]}`);
    assert.equal((await c.ok('UID SEARCH SEEN')).untagged[0], `* SEARCH ${uids[0]}`);
    assert.match((await c.ok('UID SEARCH RETURN (MIN COUNT) UNSEEN')).untagged[0]!, new RegExp(`^\\* ESEARCH \\(TAG "t\\d+"\\) UID MIN ${uids[1]} COUNT 2$`));
    assert.equal((await c.ok('UID SORT (REVERSE ARRIVAL) UTF-8 ALL')).untagged[0], `* SORT ${[...uids].reverse().join(' ')}`);
    // The saved result `$` (RFC 5182) holds UIDs: allowed as a search key.
    await c.ok('UID SEARCH RETURN (SAVE) UNSEEN');
    assert.equal((await c.ok('UID SEARCH $ NOT FLAGGED')).untagged[0], `* SEARCH ${uids[1]} ${uids[2]}`);
  });

  it('UID STORE answers with UIDFETCH', async () => {
    const r = await c.ok(`UID STORE ${uids[1]} +FLAGS (\\Flagged)`);
    assert.deepEqual(r.untagged, [`* ${uids[1]} UIDFETCH (FLAGS (\\Flagged))`]);
    const s = await c.ok(`UID STORE ${uids[1]} -FLAGS.SILENT (\\Flagged)`);
    assert.deepEqual(s.untagged, []);
  });

  it("another session's changes: UIDFETCH for flags, VANISHED for expunges, EXISTS for new mail", async () => {
    const other = await h.client();
    try {
      await other.ok('SELECT Box');
      await other.ok(`UID STORE ${uids[2]} +FLAGS (\\Answered)`);
      const n = await c.ok('NOOP');
      assert.deepEqual(n.untagged, [`* ${uids[2]} UIDFETCH (FLAGS (\\Answered))`]);
      await other.ok(`UID STORE ${uids[1]} +FLAGS (\\Deleted)`);
      await other.ok(`UID EXPUNGE ${uids[1]}`);
      await other.append('Box', message('new one'));
      const n2 = await c.ok('NOOP');
      assert.ok(n2.untagged.includes(`* VANISHED ${uids[1]}`), JSON.stringify(n2.untagged));
      assert.ok(!n2.untagged.some((l) => /EXPUNGE|FETCH \(/.test(l)), JSON.stringify(n2.untagged));
      assert.ok(n2.untagged.includes('* 3 EXISTS'), JSON.stringify(n2.untagged));
      uids = (await c.ok('UID SEARCH ALL')).untagged[0]!.split(' ').slice(2).map(Number);
    } finally {
      other.destroy();
    }
  });

  it('EXPUNGE, UID EXPUNGE and UID MOVE report VANISHED', async () => {
    await c.ok(`UID STORE ${uids[0]} +FLAGS.SILENT (\\Deleted)`);
    assert.deepEqual((await c.ok('EXPUNGE')).untagged, [`* VANISHED ${uids[0]}`]);
    await c.ok(`UID STORE ${uids[1]} +FLAGS.SILENT (\\Deleted)`);
    assert.deepEqual((await c.ok(`UID EXPUNGE ${uids[1]}`)).untagged, [`* VANISHED ${uids[1]}`]);
    const m = await c.ok(`UID MOVE ${uids[2]} Other`);
    assert.equal(m.untagged.length, 2, JSON.stringify(m.untagged));
    assert.match(m.untagged[0]!, /^\* OK \[COPYUID \d+ \d+ \d+\]/);
    assert.equal(m.untagged[1], `* VANISHED ${uids[2]}`);
    assert.deepEqual((await c.ok('UID SEARCH ALL')).untagged, ['* SEARCH']);
  });

  it('UID REPLACE reports the replaced message as VANISHED', async () => {
    await c.ok('SELECT Other');
    const old = Number(/^\* SEARCH (\d+)/.exec((await c.ok('UID SEARCH ALL')).untagged[0]!)![1]);
    const tag = c.nextTag();
    const data = Buffer.from(message('replaced'));
    c.write(`${tag} UID REPLACE ${old} Other {${data.length}+}\r\n`);
    c.write(Buffer.concat([data, Buffer.from('\r\n')]));
    const r = await c.reply(tag);
    assert.equal(r.status, 'OK', r.text);
    const lines = r.untagged.filter((l) => !/RECENT$/.test(l));
    assert.match(lines[0]!, /^\* OK \[APPENDUID \d+ \d+\]/);
    assert.deepEqual(lines.slice(1), [`* VANISHED ${old}`, '* 1 EXISTS']);
    await c.ok('UNSELECT');
  });

  it('QRESYNC sequence match data is BAD [UIDREQUIRED]; QRESYNC without it answers with UIDFETCH', async () => {
    const q = await h.client();
    try {
      await q.ok('ENABLE UIDONLY QRESYNC');
      const sel = await q.ok('SELECT Other');
      const validity = /UIDVALIDITY (\d+)/.exec(sel.untagged.join(' '))![1];
      const uid = Number(/^\* SEARCH (\d+)/.exec((await q.ok('UID SEARCH ALL')).untagged[0]!)![1]);
      await q.ok('UNSELECT');
      const r = await q.bad(`SELECT Other (QRESYNC (${validity} 1 1:* (1 ${uid})))`);
      assert.match(r.text, /^\[UIDREQUIRED\] /);
      const ok = await q.ok(`SELECT Other (QRESYNC (${validity} 1))`);
      assert.ok(ok.untagged.some((l) => new RegExp(`^\\* ${uid} UIDFETCH \\(FLAGS \\([^)]*\\) MODSEQ \\(\\d+\\)\\)$`).test(l)), JSON.stringify(ok.untagged));
    } finally {
      q.destroy();
    }
  });

  it('without ENABLE UIDONLY nothing changes', async () => {
    const plain = await h.client();
    try {
      await plain.ok('SELECT Other');
      assert.match((await plain.ok('FETCH 1 (FLAGS)')).untagged[0]!, /^\* 1 FETCH \(FLAGS/);
    } finally {
      plain.destroy();
    }
  });

  it('an account that hides UIDONLY (Office 365-style workaround) cannot enable it', async () => {
    await h.store.setHiddenCapabilities('mjl', ['UIDONLY']);
    const hid = await h.client();
    try {
      const cap = await hid.ok('CAPABILITY');
      assert.ok(!/ UIDONLY( |$)/.test(cap.untagged[0]!), cap.untagged[0]);
      assert.deepEqual((await hid.ok('ENABLE UIDONLY')).untagged, ['* ENABLED']);
      await hid.ok('SELECT Other');
      assert.match((await hid.ok('FETCH 1 (FLAGS)')).untagged[0]!, /^\* 1 FETCH \(FLAGS/);
    } finally {
      hid.destroy();
      await h.store.setHiddenCapabilities('mjl', []);
    }
    // Shown again: it can be enabled.
    const again = await h.client();
    try {
      assert.deepEqual((await again.ok('ENABLE UIDONLY')).untagged, ['* ENABLED UIDONLY']);
    } finally {
      again.destroy();
    }
  });

  it('python3 imaplib: ENABLE UIDONLY, fetch refused, uid fetch as UIDFETCH', async () => {
    const script = `
import imaplib, ssl
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
m = imaplib.IMAP4_SSL('127.0.0.1', ${h.tlsPort}, ssl_context=ctx)
m.login('${USER}', '${PASSWORD}')
assert 'UIDONLY' in m.capabilities, m.capabilities
typ, dat = m.enable('UIDONLY')
print('enable', typ, m.response('ENABLED'))
m.select('Other')
try:
    m.fetch('1', '(FLAGS)')
    print('fetch accepted')
except imaplib.IMAP4.error as e:
    print('fetch refused', 'UIDREQUIRED' in str(e))
typ, dat = m.uid('FETCH', '1:*', '(FLAGS)')
print('uid fetch', typ, m.response('UIDFETCH')[1][0].decode())
m.logout()
`;
    const { stdout } = await promisify(execFile)('python3', ['-c', script], { timeout: 20000 });
    const out = stdout.split('\n');
    assert.equal(out[0], "enable OK ('ENABLED', [b'UIDONLY'])");
    assert.equal(out[1], 'fetch refused True');
    assert.match(out[2]!, /^uid fetch OK \d+ \(FLAGS \([^)]*\)\)$/);
  });
});
