// MULTISEARCH (RFC 7377) over a real socket: ESEARCH IN (selected / inboxes / personal / subscribed /
// subtree / subtree-one / mailboxes), one `* ESEARCH (TAG MAILBOX UIDVALIDITY) UID ...` per mailbox
// with a match and none without, result options per mailbox, the RFC example, pipelining, the
// selection left alone, SAVE only for the selected mailbox, the mailbox limit (NO [LIMIT]), bad
// syntax BAD with the session going on, UIDONLY, and python3 imaplib as a real peer.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { message, PASSWORD, startHarness, USER, type Client, type Harness } from './harness.js';

describe('MULTISEARCH (RFC 7377)', () => {
  let h: Harness;
  let c: Client;
  /** UIDVALIDITY per mailbox. */
  const validity = new Map<string, number>();
  const MAILBOXES = ['folder1', 'folder2', 'folder2/banana', 'folder2/peach', 'folder2/peach/pit', 'empty'];

  before(async () => {
    h = await startHarness();
    c = await h.client();
    for (const m of MAILBOXES) await c.ok(`CREATE ${m}`);
    // folder1: UIDs 1..5, 1 3 5 unseen, 2 and 4 about chad.
    for (let i = 1; i <= 5; i++) await c.append('folder1', message(i % 2 === 0 ? `chad ${i}` : `other ${i}`), i % 2 ? '' : '\\Seen');
    // folder2: all seen.
    await c.append('folder2', message('chad in folder2'), '\\Seen');
    // banana: UIDs 1,2 (1 expunged below, so 2 is the only one and sequence number 1).
    await c.append('folder2/banana', message('gone'));
    await c.append('folder2/banana', message('banana'));
    await c.append('folder2/peach', message('peach chad'));
    await c.append('folder2/peach/pit', message('pit'));
    await c.append('INBOX', message('inbox chad'));
    await c.ok('SELECT folder2/banana');
    await c.ok('STORE 1 +FLAGS (\\Deleted)');
    await c.ok('EXPUNGE');
    await c.ok('UNSELECT');
    for (const m of [...MAILBOXES, 'INBOX']) {
      const r = await c.ok(`STATUS ${m} (UIDVALIDITY)`);
      validity.set(m, Number(/UIDVALIDITY (\d+)/.exec(r.untagged[0]!)![1]));
    }
  });
  after(async () => {
    c?.destroy();
    await h?.close();
  });

  const line = (tag: string, mailbox: string, rest: string): string => `* ESEARCH (TAG "${tag}" MAILBOX ${mailbox} UIDVALIDITY ${validity.get(mailbox)}) UID ${rest}`;

  async function esearch(args: string): Promise<{ tag: string; lines: string[] }> {
    const tag = c.nextTag();
    c.write(`${tag} ESEARCH ${args}\r\n`);
    const r = await c.reply(tag);
    assert.equal(r.status, 'OK', `ESEARCH ${args} -> ${r.status} ${r.text}`);
    return { tag, lines: r.untagged };
  }

  it('advertises MULTISEARCH', async () => {
    assert.match((await c.ok('CAPABILITY')).untagged[0]!, /^\* CAPABILITY .* MULTISEARCH( |$)/);
  });

  it('RFC 7377 3 example: mailboxes and subtree in the authenticated state', async () => {
    const { tag, lines } = await esearch('IN (mailboxes "folder1" subtree "folder2") unseen');
    assert.deepEqual(lines, [
      line(tag, 'folder1', 'ALL 1,3,5'),
      // folder2 itself has no unseen message: no response for it.
      line(tag, 'folder2/banana', 'ALL 2'),
      line(tag, 'folder2/peach', 'ALL 1'),
      line(tag, 'folder2/peach/pit', 'ALL 1'),
    ]);
    const two = await esearch('IN (mailboxes "folder1" subtree-one "folder2") subject "chad"');
    assert.deepEqual(two.lines, [line(two.tag, 'folder1', 'ALL 2,4'), line(two.tag, 'folder2', 'ALL 1'), line(two.tag, 'folder2/peach', 'ALL 1')]);
  });

  it('subtree-one stops one level down', async () => {
    const { tag, lines } = await esearch('IN (subtree-one folder2) ALL');
    assert.deepEqual(lines, [line(tag, 'folder2', 'ALL 1'), line(tag, 'folder2/banana', 'ALL 2'), line(tag, 'folder2/peach', 'ALL 1')]);
  });

  it('pipelined searches are told apart by their tags', async () => {
    c.write('p1 ESEARCH IN (mailboxes folder1) UNSEEN\r\np2 ESEARCH IN (mailboxes folder1) SEEN\r\n');
    const r1 = await c.reply('p1');
    const r2 = await c.reply('p2');
    assert.deepEqual(r1.untagged, [line('p1', 'folder1', 'ALL 1,3,5')]);
    assert.deepEqual(r2.untagged, [line('p2', 'folder1', 'ALL 2,4')]);
  });

  it('result options apply per mailbox; no response for a mailbox without a match, even for COUNT', async () => {
    const { tag, lines } = await esearch('IN (mailboxes (folder1 folder2 empty)) RETURN (MIN MAX COUNT) SUBJECT chad');
    assert.deepEqual(lines, [line(tag, 'folder1', 'MIN 2 MAX 4 COUNT 2'), line(tag, 'folder2', 'MIN 1 MAX 1 COUNT 1')]);
    const p = await esearch('IN (mailboxes folder1) RETURN (PARTIAL 2:3) ALL');
    assert.deepEqual(p.lines, [line(p.tag, 'folder1', 'PARTIAL (2:3 2:3)')]);
    const none = await esearch('IN (personal) SUBJECT "no such subject anywhere"');
    assert.deepEqual(none.lines, []);
  });

  it('personal, inboxes and subscribed', async () => {
    const all = await esearch('IN (personal) SUBJECT chad');
    assert.deepEqual(all.lines, [line(all.tag, 'INBOX', 'ALL 1'), line(all.tag, 'folder1', 'ALL 2,4'), line(all.tag, 'folder2', 'ALL 1'), line(all.tag, 'folder2/peach', 'ALL 1')]);
    const inb = await esearch('IN (inboxes) ALL');
    assert.deepEqual(inb.lines, [line(inb.tag, 'INBOX', 'ALL 1')]);
    await c.ok('SUBSCRIBE folder2/peach');
    try {
      const sub = await esearch('IN (subscribed) ALL');
      assert.ok(sub.lines.includes(line(sub.tag, 'folder2/peach', 'ALL 1')), JSON.stringify(sub.lines));
      assert.ok(!sub.lines.some((l) => /folder1|banana/.test(l)), JSON.stringify(sub.lines));
    } finally {
      await c.ok('UNSUBSCRIBE folder2/peach');
    }
    // A mailbox named twice is searched once; one that does not exist is left out.
    const dup = await esearch('IN (mailboxes (folder2 nosuch) subtree-one folder2/peach mailboxes folder2) ALL');
    assert.deepEqual(dup.lines, [line(dup.tag, 'folder2', 'ALL 1'), line(dup.tag, 'folder2/peach', 'ALL 1'), line(dup.tag, 'folder2/peach/pit', 'ALL 1')]);
  });

  it('the selected mailbox: by default and by name, with UIDs; the selection stays', async () => {
    await c.ok('SELECT folder2/banana');
    try {
      const d = await esearch('ALL');
      assert.deepEqual(d.lines, [line(d.tag, 'folder2/banana', 'ALL 2')]);
      const s = await esearch('IN (selected mailboxes folder1) RETURN (COUNT) ALL');
      assert.deepEqual(s.lines, [line(s.tag, 'folder2/banana', 'COUNT 1'), line(s.tag, 'folder1', 'COUNT 5')]);
      // Message numbers in the criteria are each mailbox's own.
      const n = await esearch('IN (selected mailboxes folder1) 1');
      assert.deepEqual(n.lines, [line(n.tag, 'folder2/banana', 'ALL 2'), line(n.tag, 'folder1', 'ALL 1')]);
      // Still folder2/banana selected.
      assert.deepEqual((await c.ok('FETCH 1:* (UID)')).untagged, ['* 1 FETCH (UID 2)']);
      // SAVE with the selected mailbox alone: kept for $.
      assert.deepEqual((await esearch('IN (selected) RETURN (SAVE) ALL')).lines, []);
      assert.deepEqual((await c.ok('UID FETCH $ (UID)')).untagged, ['* 1 FETCH (UID 2)']);
      const bad = await c.bad('ESEARCH IN (selected personal) RETURN (SAVE) ALL');
      assert.match(bad.text, /SAVE/);
    } finally {
      await c.ok('UNSELECT');
    }
    // Without a selected mailbox, "selected" (also by default) is BAD.
    await c.bad('ESEARCH ALL');
    await c.bad('ESEARCH IN (selected) ALL');
    await c.ok('NOOP');
  });

  it('huge sets in the criteria and in the result', async () => {
    const set = Array.from({ length: 3000 }, (_, i) => 2 * i + 1).join(',');
    const { tag, lines } = await esearch(`IN (mailboxes folder1) UID ${set}`);
    assert.deepEqual(lines, [line(tag, 'folder1', 'ALL 1,3,5')]);
    const r = await esearch('IN (personal) UID 1:4294967295 NOT UID 2:4294967295');
    assert.equal(r.lines.length, 5, JSON.stringify(r.lines));
  });

  it('more mailboxes than the limit: NO [LIMIT] before any search', async () => {
    const limits = h.ctx.config.limits!.imap!;
    const old = limits.maxSearchMailboxes;
    limits.maxSearchMailboxes = 3;
    try {
      const r = await c.no('ESEARCH IN (personal) ALL', 'LIMIT');
      assert.deepEqual(r.untagged, []);
      const ok = await esearch('IN (mailboxes (folder1 folder2 empty)) ALL');
      assert.equal(ok.lines.length, 2);
    } finally {
      limits.maxSearchMailboxes = old;
    }
  });

  it('bad syntax is BAD (unknown charset NO [BADCHARSET]); the session goes on', async () => {
    for (const args of [
      'IN (selected-delayed) ALL',
      'IN (bogus) ALL',
      'IN () ALL',
      'IN (mailboxes) ALL',
      'IN (mailboxes ()) ALL',
      'IN (personal (SCOPE)) ALL',
      'IN (personal)',
      'IN (personal) RETURN (BOGUS) ALL',
      'IN (personal) NOSUCHKEY',
      'IN personal ALL',
    ]) {
      await c.bad(`ESEARCH ${args}`);
    }
    await c.bad('UID ESEARCH IN (personal) ALL');
    await c.no('ESEARCH IN (personal) CHARSET X-NOSUCH SUBJECT a', 'BADCHARSET');
    const { lines } = await esearch('IN (mailboxes folder1) ALL');
    assert.equal(lines.length, 1);
  });

  it('with UIDONLY, message numbers in the criteria are BAD [UIDREQUIRED]', async () => {
    const u = await h.client();
    try {
      await u.ok('ENABLE UIDONLY');
      const r = await u.bad('ESEARCH IN (personal) 1:2');
      assert.match(r.text, /^\[UIDREQUIRED\] /);
      const ok = await u.ok('ESEARCH IN (mailboxes folder1) UID 1:2');
      assert.equal(ok.untagged.length, 1);
    } finally {
      u.destroy();
    }
  });

  it('python3 imaplib: ESEARCH through xatom', async () => {
    const script = `
import imaplib, ssl
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
m = imaplib.IMAP4_SSL('127.0.0.1', ${h.tlsPort}, ssl_context=ctx)
m.login('${USER}', '${PASSWORD}')
assert 'MULTISEARCH' in m.capabilities, m.capabilities
typ, dat = m.xatom('ESEARCH', 'IN', '(mailboxes', 'folder1', 'subtree', 'folder2)', 'UNSEEN')
print(typ)
for l in m.response('ESEARCH')[1]:
    print(l.decode())
try:
    m.xatom('ESEARCH', 'IN', '(bogus)', 'ALL')
except imaplib.IMAP4.error as e:
    print('bad', m.state)
m.logout()
`;
    const { stdout } = await promisify(execFile)('python3', ['-c', script], { timeout: 20000 });
    const out = stdout.trim().split('\n');
    assert.equal(out[0], 'OK');
    assert.deepEqual(out.slice(1, 5).map((l) => l.replace(/^\(TAG "\w+" /, '')), [
      `MAILBOX folder1 UIDVALIDITY ${validity.get('folder1')}) UID ALL 1,3,5`,
      `MAILBOX folder2/banana UIDVALIDITY ${validity.get('folder2/banana')}) UID ALL 2`,
      `MAILBOX folder2/peach UIDVALIDITY ${validity.get('folder2/peach')}) UID ALL 1`,
      `MAILBOX folder2/peach/pit UIDVALIDITY ${validity.get('folder2/peach/pit')}) UID ALL 1`,
    ]);
    assert.equal(out[5], 'bad AUTH');
  });
});
