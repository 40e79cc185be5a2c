// REPLACE and UID REPLACE (RFC 8508) over a real socket: the RFC's examples, replacing into another
// mailbox, VANISHED with QRESYNC, synchronizing, non-synchronizing and binary literals, the quota
// counting only the difference, the errors (TRYCREATE before the continuation, sequence numbers beyond
// the mailbox BAD, unknown UIDs NO, read-only, bad syntax) with the session going on, a message
// expunged by another session meanwhile, and python3 imaplib as a real peer.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, beforeEach, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { message, PASSWORD, startHarness, USER, type Client, type Harness, type Reply } from './harness.js';

/** The RFC 8508 3.2 example message (CRLF line ends). */
const RFC_MESSAGE = [
  'Date: Thu, 1 Jan 2015 00:05:00 -0500 (EST)',
  'From: Fritz Schmidt <fritz.ze@example.org>',
  'Subject: happy new year !!',
  'To: miss.mitzy@example.org',
  'Message-Id: <B238822388-0100000@example.org>',
  'MIME-Version: 1.0',
  'Content-Type: TEXT/PLAIN; CHARSET=US-ASCII',
  '',
  'Just saw the best fireworks show. Wish you were here.',
  '',
].join('\r\n');

/** Sends `<tag> <command> {n}` (or `{n+}` / `~{n}`), waits for `+` when synchronizing, then the data. */
async function withLiteral(c: Client, command: string, data: Buffer | string, kind: 'sync' | 'nonsync' | 'binary' = 'sync'): Promise<Reply & { continued: boolean }> {
  const body = typeof data === 'string' ? Buffer.from(data) : data;
  const tag = c.nextTag();
  const lit = kind === 'nonsync' ? `{${body.length}+}` : kind === 'binary' ? `~{${body.length}}` : `{${body.length}}`;
  c.write(`${tag} ${command} ${lit}\r\n`);
  if (kind === 'nonsync') {
    c.write(Buffer.concat([body, Buffer.from('\r\n')]));
    return { ...(await c.reply(tag)), continued: false };
  }
  const untagged: string[] = [];
  for (;;) {
    const line = await c.readLine();
    if (line.startsWith('+')) break;
    if (line.startsWith(tag + ' ')) {
      const m = /^\S+ (OK|NO|BAD) ?(.*)$/.exec(line)!;
      return { status: m[1] as Reply['status'], text: m[2]!, untagged, continued: false };
    }
    untagged.push(line);
  }
  c.write(Buffer.concat([body, Buffer.from('\r\n')]));
  const r = await c.reply(tag);
  return { ...r, untagged: [...untagged, ...r.untagged], continued: true };
}

/** Without the data-received hint and the IMAP4rev1 RECENT count (this session does not ENABLE IMAP4rev2). */
/** A REPLACE of message 1 of the selected Drafts that must succeed (the session still works). */
async function replaceStillWorks(c: Client): Promise<void> {
  const r = await withLiteral(c, 'REPLACE 1 Drafts', message('still works'));
  assert.equal(r.status, 'OK', r.text);
  assert.match(r.untagged[0]!, /^\* OK \[APPENDUID /);
}

const withoutDataReceived = (lines: string[]): string[] => lines.filter((l) => l !== '* OK message data received' && !/^\* \d+ RECENT$/.test(l));

describe('REPLACE (RFC 8508)', () => {
  let h: Harness;
  let c: Client;
  before(async () => {
    h = await startHarness();
    c = await h.client();
    // Default mailboxes of a new account; created when missing.
    await c.cmd('CREATE Drafts');
    await c.cmd('CREATE Sent');
  });
  after(async () => {
    c?.destroy();
    await h?.close();
  });

  /** Empties Drafts and fills it with `n` messages; returns their UIDs. */
  async function fillDrafts(n: number): Promise<number[]> {
    await c.ok('UNSELECT').catch(() => undefined);
    await c.ok('SELECT Drafts');
    await c.ok('STORE 1:* +FLAGS.SILENT (\\Deleted)').catch(() => undefined);
    await c.ok('EXPUNGE');
    const uids: number[] = [];
    for (let i = 1; i <= n; i++) {
      const r = await c.append('Drafts', message(`draft ${i}`), '\\Draft');
      uids.push(Number(/APPENDUID \d+ (\d+)/.exec(r.text)![1]));
    }
    await c.ok('NOOP');
    return uids;
  }

  beforeEach(async () => {
    await c.cmd('UNSELECT');
  });

  it('advertises REPLACE', async () => {
    const r = await c.ok('CAPABILITY');
    assert.match(r.untagged[0]!, /^\* CAPABILITY .* REPLACE( |$)/);
  });

  it('RFC 8508 3.2 example: REPLACE 4 Drafts with a synchronizing literal', async () => {
    const uids = await fillDrafts(4);
    const status = await c.ok('STATUS Drafts (UIDVALIDITY UIDNEXT)');
    const [, validity, next] = /UIDVALIDITY (\d+) UIDNEXT (\d+)/.exec(status.untagged[0]!)!;
    const r = await withLiteral(c, 'REPLACE 4 Drafts (\\Seen \\Draft)', RFC_MESSAGE);
    assert.equal(r.status, 'OK', r.text);
    assert.ok(r.continued);
    const lines = withoutDataReceived(r.untagged);
    // APPENDUID first (4.3), then the expunge of message 4 and the new message's EXISTS.
    assert.deepEqual(lines, [`* OK [APPENDUID ${validity} ${next}] replacement message added`, '* 4 EXPUNGE', '* 4 EXISTS']);
    const f = await c.ok('FETCH 1:* (UID FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
    assert.equal(f.untagged.length, 4);
    assert.match(f.untagged[3]!, new RegExp(`^\\* 4 FETCH \\(UID ${next} FLAGS \\((\\\\Recent )?\\\\Seen \\\\Draft\\) .*happy new year`, 's'));
    // The old message is gone, the others untouched.
    assert.equal((await c.ok(`UID SEARCH UID ${uids[3]}`)).untagged[0], '* SEARCH');
    assert.equal((await c.ok('UID SEARCH ALL')).untagged[0], `* SEARCH ${uids.slice(0, 3).join(' ')} ${next}`);
  });

  it('RFC 8508 3.3 example: UID REPLACE, flags not inherited from the replaced message', async () => {
    const uids = await fillDrafts(2);
    await c.ok(`UID STORE ${uids[1]} +FLAGS (\\Flagged $Label1)`);
    const r = await withLiteral(c, `UID REPLACE ${uids[1]} Drafts`, RFC_MESSAGE.replace('Wish you were here.', 'Hopefully next year you can join us.'));
    assert.equal(r.status, 'OK', r.text);
    const m = /^\* OK \[APPENDUID \d+ (\d+)\]/.exec(r.untagged[0]!);
    assert.ok(m, JSON.stringify(r.untagged));
    assert.ok(r.untagged.includes('* 2 EXPUNGE'));
    const f = await c.ok(`UID FETCH ${m[1]} (FLAGS)`);
    assert.match(f.untagged[0]!, /FLAGS \((\\Recent)?\)/);
  });

  it('replaces into another mailbox: the selected one loses the message, the other gains it', async () => {
    const uids = await fillDrafts(3);
    const sent = await c.ok('STATUS Sent (MESSAGES UIDVALIDITY UIDNEXT)');
    const [, count, validity, next] = /MESSAGES (\d+) UIDVALIDITY (\d+) UIDNEXT (\d+)/.exec(sent.untagged[0]!)!;
    const r = await withLiteral(c, `UID REPLACE ${uids[0]} Sent (\\Seen)`, message('sent now'));
    assert.equal(r.status, 'OK', r.text);
    assert.deepEqual(withoutDataReceived(r.untagged), [`* OK [APPENDUID ${validity} ${next}] replacement message added`, '* 1 EXPUNGE']);
    const after = await c.ok('STATUS Sent (MESSAGES)');
    assert.match(after.untagged[0]!, new RegExp(`MESSAGES ${Number(count) + 1}\\)`));
    assert.equal((await c.ok('SEARCH ALL')).untagged[0], '* SEARCH 1 2');
  });

  it('another session sees the expunge and the new message', async () => {
    await fillDrafts(2);
    const other = await h.client();
    try {
      await other.ok('SELECT Drafts');
      const r = await withLiteral(c, 'REPLACE 1 Drafts', message('seen elsewhere'));
      assert.equal(r.status, 'OK', r.text);
      const n = await other.ok('NOOP');
      assert.ok(n.untagged.includes('* 1 EXPUNGE'), JSON.stringify(n.untagged));
      assert.ok(n.untagged.includes('* 2 EXISTS'), JSON.stringify(n.untagged));
    } finally {
      other.destroy();
    }
  });

  it('with QRESYNC enabled the replaced message is reported as VANISHED', async () => {
    const q = await h.client();
    try {
      await q.ok('ENABLE QRESYNC');
      await fillDrafts(2);
      const st = await q.ok('SELECT Drafts');
      assert.ok(st.untagged.some((l) => /EXISTS/.test(l)));
      const uid = Number(/^\* SEARCH (\d+)/.exec((await q.ok('UID SEARCH 1')).untagged[0]!)![1]);
      const r = await withLiteral(q, 'REPLACE 1 Drafts', message('qresync'));
      assert.equal(r.status, 'OK', r.text);
      assert.ok(r.untagged.includes(`* VANISHED ${uid}`), JSON.stringify(r.untagged));
      assert.ok(!r.untagged.some((l) => /EXPUNGE/.test(l)));
    } finally {
      q.destroy();
    }
  });

  it('non-synchronizing and binary literals', async () => {
    await fillDrafts(2);
    const r1 = await withLiteral(c, 'REPLACE 2 Drafts (\\Draft)', message('literal plus'), 'nonsync');
    assert.equal(r1.status, 'OK', r1.text);
    assert.match(r1.untagged[0]!, /^\* OK \[APPENDUID /);
    // literal8 (RFC 3516): a NUL in the body.
    const bin = Buffer.concat([Buffer.from(message('binary', '')), Buffer.from([0x61, 0x00, 0x62, 0x0d, 0x0a])]);
    const r2 = await withLiteral(c, 'REPLACE 1 Drafts', bin, 'binary');
    assert.equal(r2.status, 'OK', r2.text);
    const uid = /APPENDUID \d+ (\d+)/.exec(r2.untagged[0]!)![1];
    const f = await c.ok(`UID FETCH ${uid} (RFC822.SIZE)`);
    assert.match(f.untagged[0]!, new RegExp(`RFC822.SIZE ${bin.length}\\b`));
    // And the UTF8 form (RFC 6855 4).
    const tag = c.nextTag();
    const data = Buffer.from(message('utf8 form'));
    c.write(`${tag} REPLACE 1 Drafts UTF8 (~{${data.length}+}\r\n`);
    c.write(Buffer.concat([data, Buffer.from(')\r\n')]));
    const r3 = await c.reply(tag);
    assert.equal(r3.status, 'OK', r3.text);
  });

  it('a mailbox name sent as a literal', async () => {
    await fillDrafts(1);
    const tag = c.nextTag();
    c.write(`${tag} REPLACE 1 {6}\r\n`);
    assert.match(await c.readLine(), /^\+/);
    const data = Buffer.from(message('named by literal'));
    c.write(`Drafts {${data.length}+}\r\n`);
    c.write(Buffer.concat([data, Buffer.from('\r\n')]));
    const r = await c.reply(tag);
    assert.equal(r.status, 'OK', r.text);
    assert.ok(r.untagged.includes('* 1 EXPUNGE'));
  });

  it('a missing target mailbox is NO [TRYCREATE] before the data, and nothing changes', async () => {
    const uids = await fillDrafts(1);
    const r = await withLiteral(c, 'REPLACE 1 Nowhere', message('x'));
    assert.equal(r.status, 'NO');
    assert.equal(r.continued, false, 'no continuation for a command that fails');
    assert.match(r.text, /^\[TRYCREATE\]/);
    // Non-synchronizing: the data is read and dropped, the session goes on.
    const r2 = await withLiteral(c, `UID REPLACE ${uids[0]} Nowhere`, message('x'), 'nonsync');
    assert.equal(r2.status, 'NO');
    assert.match(r2.text, /^\[TRYCREATE\]/);
    // Over APPENDLIMIT: NO [TOOBIG], no continuation.
    const tag = c.nextTag();
    c.write(`${tag} REPLACE 1 Drafts {200000000}\r\n`);
    assert.match(await c.readLine(), new RegExp(`^${tag} NO \\[TOOBIG\\] `));
    await c.ok('NOOP');
    assert.equal((await c.ok('UID SEARCH ALL')).untagged[0], `* SEARCH ${uids[0]}`);
    await replaceStillWorks(c);
  });

  it('message numbers and UIDs that do not exist', async () => {
    await fillDrafts(2);
    const beyond = await withLiteral(c, 'REPLACE 3 Drafts', message('x'));
    assert.equal(beyond.status, 'BAD', beyond.text);
    assert.equal(beyond.continued, false);
    const nouid = await withLiteral(c, 'UID REPLACE 99999 Drafts', message('x'));
    assert.equal(nouid.status, 'NO', nouid.text);
    assert.equal(nouid.continued, false);
    // Non-synchronizing: still refused, the literal skipped.
    const nouid2 = await withLiteral(c, 'UID REPLACE 99999 Drafts', message('x'), 'nonsync');
    assert.equal(nouid2.status, 'NO', nouid2.text);
    await fillDrafts(0);
    const star = await withLiteral(c, 'REPLACE * Drafts', message('x'));
    assert.equal(star.status, 'BAD', star.text);
    const ustar = await withLiteral(c, 'UID REPLACE * Drafts', message('x'));
    assert.equal(ustar.status, 'NO', ustar.text);
    await fillDrafts(1);
    await replaceStillWorks(c);
  });

  it('not in authenticated state, not on a read-only mailbox', async () => {
    await fillDrafts(1);
    await c.ok('UNSELECT');
    const auth = await withLiteral(c, 'REPLACE 1 Drafts', message('x'));
    assert.equal(auth.status, 'BAD', auth.text);
    assert.equal(auth.continued, false);
    await c.ok('EXAMINE Drafts');
    const ro = await withLiteral(c, 'REPLACE 1 Drafts', message('x'));
    assert.equal(ro.status, 'NO', ro.text);
    assert.match(ro.text, /^\[READ-ONLY\]/);
    await c.ok('SELECT Drafts');
    await replaceStillWorks(c);
  });

  it('bad syntax is BAD and changes nothing; the session goes on', async () => {
    const uids = await fillDrafts(1);
    assert.equal((await withLiteral(c, 'REPLACE 0 Drafts', message('x'))).status, 'BAD');
    assert.equal((await withLiteral(c, 'REPLACE x Drafts', message('x'))).status, 'BAD');
    assert.equal((await withLiteral(c, 'REPLACE 1 Drafts (\\Seen', message('x'))).status, 'BAD');
    assert.equal((await withLiteral(c, 'REPLACE 1 Drafts "not a date"', message('x'))).status, 'BAD');
    assert.equal((await c.bad('REPLACE 1 Drafts')).status, 'BAD');
    assert.equal((await c.bad('REPLACE')).status, 'BAD');
    // Data after the message literal: BAD, nothing replaced.
    const tag = c.nextTag();
    const data = Buffer.from(message('leftover'));
    c.write(`${tag} REPLACE 1 Drafts {${data.length}+}\r\n`);
    c.write(Buffer.concat([data, Buffer.from(' extra\r\n')]));
    assert.equal((await c.reply(tag)).status, 'BAD');
    // Two messages: REPLACE takes one.
    const tag2 = c.nextTag();
    c.write(`${tag2} REPLACE 1 Drafts {1+}\r\nx {1+}\r\ny\r\n`);
    assert.equal((await c.reply(tag2)).status, 'BAD');
    await c.ok('NOOP');
    assert.equal((await c.ok('UID SEARCH ALL')).untagged[0], `* SEARCH ${uids[0]}`);
    await replaceStillWorks(c);
  });

  it('the quota counts only the difference (RFC 8508 3.4)', async () => {
    await fillDrafts(1);
    const big = message('big', 'x'.repeat(4000) + '\r\n');
    const r0 = await withLiteral(c, 'REPLACE 1 Drafts', big);
    assert.equal(r0.status, 'OK', r0.text);
    const q = await c.ok('GETQUOTAROOT Drafts');
    const used = Number(/STORAGE (\d+)/.exec(q.untagged.join(' '))![1]);
    // Room for less than another copy: an APPEND of the same size fails, a REPLACE succeeds.
    await h.store.setQuota('mjl', used * 1024 + 1024);
    try {
      const ap = await c.append('Drafts', big);
      assert.equal(ap.status, 'NO');
      assert.match(ap.text, /^\[OVERQUOTA\]/);
      const r = await withLiteral(c, 'REPLACE 1 Drafts', big.replace('Subject: big', 'Subject: bog'));
      assert.equal(r.status, 'OK', r.text);
      // Growing past the limit is still refused.
      const r2 = await withLiteral(c, 'REPLACE 1 Drafts', message('bigger', 'y'.repeat(8000) + '\r\n'));
      assert.equal(r2.status, 'NO');
      assert.match(r2.text, /^\[OVERQUOTA\]/);
      // The refused REPLACE left the message in place.
      assert.match((await c.ok('FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])')).untagged[0]!, /Subject: bog/);
    } finally {
      await h.store.setQuota('mjl', null);
    }
  });

  it('a message expunged by another session meanwhile: NO [EXPUNGEISSUED], the expunge reported, nothing added', async () => {
    const uids = await fillDrafts(1);
    const before = await c.ok('STATUS Drafts (UIDNEXT)');
    const tag = c.nextTag();
    const data = Buffer.from(message('too late'));
    c.write(`${tag} UID REPLACE ${uids[0]} Drafts {${data.length}}\r\n`);
    assert.match(await c.readLine(), /^\+/);
    const other = await h.client();
    try {
      await other.ok('SELECT Drafts');
      await other.ok(`UID STORE ${uids[0]} +FLAGS.SILENT (\\Deleted)`);
      await other.ok('EXPUNGE');
    } finally {
      other.destroy();
    }
    c.write(Buffer.concat([data, Buffer.from('\r\n')]));
    const r = await c.reply(tag);
    assert.equal(r.status, 'NO', r.text);
    assert.match(r.text, /^\[EXPUNGEISSUED\]/);
    assert.ok(r.untagged.includes('* 1 EXPUNGE'), JSON.stringify(r.untagged));
    assert.equal((await c.ok('STATUS Drafts (MESSAGES)')).untagged[0], '* STATUS Drafts (MESSAGES 0)');
    // No new message was added: UIDNEXT did not move past the failed attempt's message.
    assert.equal((await c.ok('STATUS Drafts (UIDNEXT)')).untagged[0], before.untagged[0]);
  });

  it('python3 imaplib: REPLACE and UID REPLACE with its literal support', async () => {
    await fillDrafts(2);
    await c.ok('UNSELECT');
    const script = `
import imaplib, ssl, re
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
m = imaplib.IMAP4_SSL('127.0.0.1', ${h.tlsPort}, ssl_context=ctx)
m.login('${USER}', '${PASSWORD}')
assert 'REPLACE' in m.capabilities, m.capabilities
m.select('Drafts')
msg = b'From: a@example.org\\r\\nSubject: from python\\r\\n\\r\\nbody\\r\\n'
m.literal = msg
typ, dat = m.xatom('REPLACE', '1', 'Drafts', '(\\\\Seen)')
print('replace', typ, m.response('APPENDUID'))
imaplib.Commands['REPLACE'] = ('SELECTED',)
typ, dat = m.uid('SEARCH', 'ALL')
last = dat[0].split()[-1].decode()
m.literal = msg.replace(b'from python', b'again')
typ, dat = m.uid('REPLACE', last, 'Drafts')
print('uid replace', typ)
m.literal = msg
try:
    m.xatom('REPLACE', '9', 'Drafts')
    print('beyond accepted')
except imaplib.IMAP4.error as e:
    print('beyond BAD', m.state)
m.noop()
typ, dat = m.fetch('1:*', '(BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
print('subjects', sorted(x[1].decode().strip() for x in dat if isinstance(x, tuple)))
m.logout()
`;
    const { stdout } = await promisify(execFile)('python3', ['-c', script], { timeout: 20000 });
    const out = stdout.split('\n');
    assert.match(out[0]!, /^replace OK \('APPENDUID', \[b'\d+ \d+'\]\)$/);
    assert.equal(out[1], 'uid replace OK');
    assert.equal(out[2], 'beyond BAD SELECTED');
    assert.equal(out[3], "subjects ['Subject: again', 'Subject: draft 2']");
  });
});
