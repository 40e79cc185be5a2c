// SORT, THREAD, ESORT and PARTIAL over a real socket (RFC 5256, RFC 5957, RFC 5267): transcripts on a
// small mailbox whose expected orders are worked out by hand in the comments, edge cases (empty
// results, bad syntax answered BAD with the session going on, unknown charsets, UID variants), and a
// few thousand messages some of which have no stored keys yet.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { messageCacheJson } from '../../src/mime/message-cache.js';
import { PASSWORD, startHarness, USER, type Client, type Harness } from './harness.js';

/** APPEND with an explicit INTERNALDATE (ARRIVAL order, and the sent date when Date is unusable). */
async function appendAt(c: Client, mailbox: string, date: string, msg: string): Promise<void> {
  const data = Buffer.from(msg);
  const tag = c.nextTag();
  c.write(`${tag} APPEND ${mailbox} "${date}" {${data.length}}\r\n`);
  assert.match(await c.readLine(), /^\+/);
  c.write(Buffer.concat([data, Buffer.from('\r\n')]));
  const r = await c.reply(tag);
  assert.equal(r.status, 'OK', r.text);
}

// Base subjects: 1 HELLO (reply), 2 HELLO, 3 OTHER (forward), 4 OTHER, 5 HELLO (reply), 6 ZEBRA.
// Sent dates: 4 (Jan 1 09:00 UTC, from -0500) < 2 < 1 < 6 < 3 and 5 (no usable Date: INTERNALDATE).
const FIXTURES = [
  'From: Bob Beta <bob@example.org>\r\nTo: Zed <zed@example.net>\r\nSubject: Re: Hello\r\nDate: Tue, 2 Jan 2024 10:00:00 +0000\r\nMessage-ID: <m2@example.org>\r\nIn-Reply-To: <m1@example.org>\r\n\r\nreply\r\n',
  'From: alice@example.org\r\nTo: yan@example.net\r\nSubject: Hello\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\nMessage-ID: <m1@example.org>\r\n\r\nfirst\r\n',
  'From: "Carl" <carl@example.org>\r\nTo: xavier@example.net\r\nSubject: [list] Fwd: Other (fwd)\r\nMessage-ID: <m3@example.org>\r\n\r\nforwarded, no Date field\r\n',
  'From: =?utf-8?q?=C3=89mile?= <emile@example.org>\r\nTo: Abe <abe@example.net>\r\nCc: dora@example.com\r\nSubject: Other\r\nDate: Mon, 1 Jan 2024 04:00:00 -0500\r\nMessage-ID: <m4@example.org>\r\n\r\nother\r\n',
  'From: dan@example.org\r\nSubject: re: [fwd: hello]\r\nDate: not a date at all\r\nMessage-ID: <m5@example.org>\r\nReferences: <m1@example.org> <m2@example.org>\r\n\r\nthird in the thread\r\n',
  `From: Zack <al@example.org>\r\nTo: mjl@example.org\r\nSubject: Zebra\r\nDate: Wed, 3 Jan 2024 10:00:00 +0000\r\n\r\n${'big body line\r\n'.repeat(400)}`,
];

describe('SORT and THREAD transcripts', () => {
  let h: Harness;
  let c: Client;
  before(async () => {
    h = await startHarness();
    c = await h.client();
    await c.ok('CREATE Sort');
    // A first message expunged, so that UIDs (2..7) differ from sequence numbers (1..6).
    await appendAt(c, 'Sort', '04-Jan-2024 23:00:00 +0000', 'Subject: gone\r\n\r\nx\r\n');
    for (let i = 0; i < FIXTURES.length; i++) await appendAt(c, 'Sort', `05-Jan-2024 00:0${i + 1}:00 +0000`, FIXTURES[i]!);
    await c.ok('SELECT Sort');
    await c.ok('STORE 1 +FLAGS (\\Deleted)');
    await c.ok('EXPUNGE');
  });
  after(async () => {
    c?.destroy();
    await h?.close();
  });

  const sort = async (args: string): Promise<string> => {
    const r = await c.ok(args);
    const lines = r.untagged.filter((l) => /^\* (SORT|ESEARCH|THREAD)\b/.test(l));
    assert.equal(lines.length, 1, `${args}: ${JSON.stringify(r.untagged)}`);
    return lines[0]!;
  };

  it('advertises SORT, SORT=DISPLAY, THREAD=ORDEREDSUBJECT, THREAD=REFERENCES, ESORT and CONTEXT=SORT', async () => {
    const caps = (await c.ok('CAPABILITY')).untagged[0]!.split(' ');
    for (const cap of ['SORT', 'SORT=DISPLAY', 'THREAD=ORDEREDSUBJECT', 'THREAD=REFERENCES', 'ESORT', 'CONTEXT=SEARCH', 'CONTEXT=SORT']) assert.ok(caps.includes(cap), cap);
  });

  it('sorts by each key (RFC 5256 3, RFC 5957 2), ties in sequence order', async () => {
    assert.equal(await sort('SORT (DATE) UTF-8 ALL'), '* SORT 4 2 1 6 3 5');
    assert.equal(await sort('SORT (REVERSE DATE) UTF-8 ALL'), '* SORT 5 3 6 1 2 4');
    assert.equal(await sort('SORT (ARRIVAL) US-ASCII ALL'), '* SORT 1 2 3 4 5 6');
    assert.equal(await sort('SORT (REVERSE ARRIVAL) UTF-8 ALL'), '* SORT 6 5 4 3 2 1');
    assert.equal(await sort('SORT (SUBJECT) UTF-8 ALL'), '* SORT 1 2 5 3 4 6');
    // REVERSE turns one key around; equal messages stay in ascending sequence order.
    assert.equal(await sort('SORT (REVERSE SUBJECT) UTF-8 ALL'), '* SORT 6 3 4 1 2 5');
    assert.equal(await sort('SORT (FROM) UTF-8 ALL'), '* SORT 6 2 1 3 5 4');
    // DISPLAYFROM: the display name (encoded words decoded; É sorts with E), else the address.
    assert.equal(await sort('SORT (DISPLAYFROM) UTF-8 ALL'), '* SORT 2 1 3 5 4 6');
    // No To field sorts as the empty string, first.
    assert.equal(await sort('SORT (TO) UTF-8 ALL'), '* SORT 5 4 6 3 2 1');
    assert.equal(await sort('SORT (DISPLAYTO) UTF-8 ALL'), '* SORT 5 4 6 3 2 1');
    assert.equal(await sort('SORT (CC) UTF-8 ALL'), '* SORT 1 2 3 5 6 4');
    assert.match(await sort('SORT (REVERSE SIZE) UTF-8 ALL'), /^\* SORT 6 /);
  });

  it('sorts by several criteria', async () => {
    assert.equal(await sort('SORT (SUBJECT DATE) UTF-8 ALL'), '* SORT 2 1 5 4 3 6');
    assert.equal(await sort('SORT (SUBJECT REVERSE DATE) UTF-8 ALL'), '* SORT 5 1 2 3 4 6');
    assert.equal(await sort('sort (reverse subject reverse date) utf-8 all'), '* SORT 6 3 4 5 1 2');
  });

  it('UID SORT answers UIDs, and search criteria choose the messages', async () => {
    assert.equal(await sort('UID SORT (DATE) UTF-8 ALL'), '* SORT 5 3 2 7 4 6');
    assert.equal(await sort('SORT (DATE) UTF-8 SUBJECT hello'), '* SORT 2 1 5');
    assert.equal(await sort('UID SORT (DATE) UTF-8 OR FROM carl FROM emile'), '* SORT 5 4');
    assert.equal(await sort('SORT (DATE) UTF-8 UID 1:4294967295'), '* SORT 4 2 1 6 3 5');
    // A long sequence set naming every message many times.
    const set = Array.from({ length: 1500 }, (_, i) => (i % 6) + 1).join(',');
    assert.equal(await sort(`SORT (DATE) UTF-8 ${set}`), '* SORT 4 2 1 6 3 5');
    // A search string in a literal, in UTF-8.
    const tag = c.nextTag();
    const needle = Buffer.from('Émil', 'utf8');
    c.write(`${tag} SORT (DATE) UTF-8 FROM {${needle.length}}\r\n`);
    assert.match(await c.readLine(), /^\+/);
    c.write(Buffer.concat([needle, Buffer.from('\r\n')]));
    const r = await c.reply(tag);
    assert.equal(r.status, 'OK');
    assert.deepEqual(r.untagged, ['* SORT 4']);
  });

  it('the command forms of the RFC 5256 examples', async () => {
    // A282: a date-limited SORT; A283: two criteria, one reversed; A284: nothing matches.
    assert.equal(await sort('SORT (SUBJECT) UTF-8 SINCE 5-Jan-2024'), '* SORT 1 2 5 3 4 6');
    assert.equal(await sort('SORT (SUBJECT) UTF-8 SINCE 6-Jan-2024'), '* SORT');
    assert.equal(await sort('SORT (SUBJECT REVERSE DATE) UTF-8 ALL'), '* SORT 5 1 2 3 4 6');
    assert.equal(await sort('SORT (SUBJECT) US-ASCII TEXT "not in mailbox"'), '* SORT');
    assert.equal(await sort('THREAD ORDEREDSUBJECT UTF-8 SINCE 5-Jan-2024'), '* THREAD (4 3)(2 (1)(5))(6)');
    assert.equal(await sort('THREAD ORDEREDSUBJECT UTF-8 TEXT "gewp"'), '* THREAD');
    assert.equal(await sort('UID THREAD REFERENCES US-ASCII TEXT "gewp"'), '* THREAD');
    assert.equal(await sort('UID THREAD REFERENCES US-ASCII TEXT "third in the thread"'), '* THREAD (6)');
  });

  it('empty results', async () => {
    assert.equal(await sort('SORT (DATE) UTF-8 FROM nobody-at-all'), '* SORT');
    assert.equal(await sort('THREAD REFERENCES UTF-8 FROM nobody-at-all'), '* THREAD');
    assert.equal(await sort('SORT RETURN (MIN MAX COUNT ALL) (DATE) UTF-8 FROM nobody-at-all'), `* ESEARCH (TAG "t${lastTag(c)}") COUNT 0`);
  });

  it('unknown charset: NO [BADCHARSET], and the session goes on', async () => {
    let r = await c.no('SORT (DATE) X-NO-SUCH-CHARSET ALL', 'BADCHARSET');
    assert.match(r.text, /^\[BADCHARSET \(UTF-8 US-ASCII\)\]/);
    r = await c.no('THREAD REFERENCES X-NO-SUCH-CHARSET SUBJECT x', 'BADCHARSET');
    await c.ok('NOOP');
  });

  it('bad syntax is BAD and the session goes on', async () => {
    for (const bad of [
      'SORT DATE UTF-8 ALL', 'SORT () UTF-8 ALL', 'SORT (DATE FOO) UTF-8 ALL', 'SORT (REVERSE) UTF-8 ALL',
      'SORT (DATE) UTF-8', 'SORT (DATE)', 'SORT (DATE) UTF-8 NOSUCHKEY', 'SORT RETURN (BOGUS) (DATE) UTF-8 ALL',
      'SORT RETURN (PARTIAL 0:4) (DATE) UTF-8 ALL', 'SORT RETURN (PARTIAL 1) (DATE) UTF-8 ALL', 'SORT (DATE)  UTF-8 ALL',
      `SORT (${Array(21).fill('DATE').join(' ')}) UTF-8 ALL`, 'THREAD FOO UTF-8 ALL', 'THREAD REFERENCES',
      'THREAD REFERENCES UTF-8', 'UID THREAD REFERENCES UTF-8 NOSUCHKEY', 'UID SORT',
    ]) {
      await c.bad(bad);
    }
    await c.ok('NOOP');
    assert.equal(await sort('SORT (DATE) UTF-8 ALL'), '* SORT 4 2 1 6 3 5');
  });

  it('SORT and THREAD need a selected mailbox', async () => {
    const d = await h.client();
    await d.bad('SORT (DATE) UTF-8 ALL');
    await d.bad('THREAD REFERENCES UTF-8 ALL');
    await d.ok('NOOP');
    d.destroy();
  });

  it('THREAD=ORDEREDSUBJECT (RFC 5256 4)', async () => {
    // HELLO: 2 (oldest) with children 1 and 5; OTHER: 4 then 3; ZEBRA: 6. Threads by first date.
    assert.equal(await sort('THREAD ORDEREDSUBJECT UTF-8 ALL'), '* THREAD (4 3)(2 (1)(5))(6)');
    assert.equal(await sort('UID THREAD ORDEREDSUBJECT UTF-8 ALL'), '* THREAD (5 4)(3 (2)(6))(7)');
  });

  it('THREAD=REFERENCES (RFC 5256 4)', async () => {
    // 2 <- 1 <- 5 by In-Reply-To and References; 3 (a forward) joins 4 by subject; 6 alone.
    assert.equal(await sort('THREAD REFERENCES UTF-8 ALL'), '* THREAD (4 3)(2 1 5)(6)');
    assert.equal(await sort('UID THREAD REFERENCES UTF-8 ALL'), '* THREAD (5 4)(3 2 6)(7)');
    // Without message 1 the chain has a gap: 5 still hangs under 2 (its References name both).
    assert.equal(await sort('THREAD REFERENCES UTF-8 NOT 1'), '* THREAD (4 3)(2 5)(6)');
  });

  // RFC 5267 3: "the extended SORT command returns results in an ESEARCH response" (as Dovecot does).
  it('ESORT return options and PARTIAL (RFC 5267 3.2, 4.4)', async () => {
    assert.equal(await sort('SORT RETURN (MIN MAX COUNT) (DATE) UTF-8 ALL'), `* ESEARCH (TAG "t${lastTag(c)}") MIN 4 MAX 5 COUNT 6`);
    assert.equal(await sort('SORT RETURN () (DATE) UTF-8 ALL'), `* ESEARCH (TAG "t${lastTag(c)}") ALL 4,2,1,6,3,5`);
    assert.equal(await sort('SORT RETURN (ALL) (ARRIVAL) UTF-8 ALL'), `* ESEARCH (TAG "t${lastTag(c)}") ALL 1:6`);
    assert.equal(await sort('UID SORT RETURN (MIN ALL) (REVERSE DATE) UTF-8 ALL'), `* ESEARCH (TAG "t${lastTag(c)}") UID MIN 6 ALL 6,4,7,2:3,5`);
    assert.equal(await sort('SORT RETURN (PARTIAL 2:3) (DATE) UTF-8 ALL'), `* ESEARCH (TAG "t${lastTag(c)}") PARTIAL (2:3 2,1)`);
    assert.equal(await sort('SORT RETURN (COUNT PARTIAL 10:20) (DATE) UTF-8 ALL'), `* ESEARCH (TAG "t${lastTag(c)}") COUNT 6 PARTIAL (10:20 NIL)`);
  });

  it('ESEARCH PARTIAL (RFC 5267 4.4): positions in the ascending result', async () => {
    assert.equal((await c.ok('SEARCH RETURN (PARTIAL 2:4) ALL')).untagged[0], `* ESEARCH (TAG "t${lastTag(c)}") PARTIAL (2:4 2:4)`);
    assert.equal((await c.ok('UID SEARCH RETURN (COUNT PARTIAL 5:1) ALL')).untagged[0], `* ESEARCH (TAG "t${lastTag(c)}") UID COUNT 6 PARTIAL (1:5 2:6)`);
    assert.equal((await c.ok('SEARCH RETURN (PARTIAL 7:9) ALL')).untagged[0], `* ESEARCH (TAG "t${lastTag(c)}") PARTIAL (7:9 NIL)`);
    await c.bad('SEARCH RETURN (PARTIAL 1:2 PARTIAL 3:4) ALL');
    await c.bad('SEARCH RETURN (PARTIAL -1:2) ALL');
  });

  it('python3 imaplib: sort() and thread(), UID variants, an unknown charset', async () => {
    const script = `
import imaplib, ssl
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
m = imaplib.IMAP4_SSL('127.0.0.1', ${h.tlsPort}, ssl_context=ctx)
m.login('${USER}', '${PASSWORD}')
m.select('Sort', readonly=True)
print('sort', *m.sort('(REVERSE DATE)', 'UTF-8', 'ALL'))
print('sortsubj', *m.sort('(SUBJECT DATE)', 'US-ASCII', 'NOT', 'FROM', 'zack'))
print('uidsort', *m.uid('SORT', '(DATE)', 'UTF-8', 'ALL'))
print('thread', *m.thread('REFERENCES', 'UTF-8', 'ALL'))
print('ordered', *m.thread('ORDEREDSUBJECT', 'UTF-8', 'ALL'))
print('uidthread', *m.uid('THREAD', 'REFERENCES', 'UTF-8', 'ALL'))
print('badcharset', *m.sort('(DATE)', 'X-UNKNOWN', 'ALL'))
try:
    m.sort('(NOSUCHKEY)', 'UTF-8', 'ALL')
except m.error as e:
    print('bad', e)
print('noop', m.noop()[0])
m.logout()
`;
    const { stdout } = await promisify(execFile)('python3', ['-c', script], { timeout: 20000 });
    assert.match(stdout, /^sort OK \[b'5 3 6 1 2 4'\]$/m);
    assert.match(stdout, /^sortsubj OK \[b'2 1 5 4 3'\]$/m);
    assert.match(stdout, /^uidsort OK \[b'5 3 2 7 4 6'\]$/m);
    assert.match(stdout, /^thread OK \[b'\(4 3\)\(2 1 5\)\(6\)'\]$/m);
    assert.match(stdout, /^ordered OK \[b'\(4 3\)\(2 \(1\)\(5\)\)\(6\)'\]$/m);
    assert.match(stdout, /^uidthread OK \[b'\(5 4\)\(3 2 6\)\(7\)'\]$/m);
    assert.match(stdout, /^badcharset NO \[b'\[BADCHARSET \(UTF-8 US-ASCII\)\]/m);
    assert.match(stdout, /^bad SORT command error: BAD /m);
    assert.match(stdout, /^noop OK$/m);
  });

  it('no EXPUNGE during SORT or THREAD, only during their UID forms (RFC 9051 7.5.1)', async () => {
    const a = await h.client();
    const b = await h.client();
    await a.ok('CREATE Exp');
    for (let i = 0; i < 3; i++) await appendAt(a, 'Exp', `05-Jan-2024 00:0${i}:00 +0000`, `Subject: e${i}\r\n\r\nx\r\n`);
    await a.ok('SELECT Exp');
    await b.ok('SELECT Exp');
    await b.ok('STORE 1 +FLAGS (\\Deleted)');
    await b.ok('EXPUNGE');
    // Sequence numbers in the answers still count the expunged message, which is not reported.
    let r = await a.ok('SORT (ARRIVAL) UTF-8 ALL');
    assert.ok(!r.untagged.some((l) => /EXPUNGE/.test(l)), JSON.stringify(r.untagged));
    r = await a.ok('THREAD ORDEREDSUBJECT UTF-8 ALL');
    assert.ok(!r.untagged.some((l) => /EXPUNGE/.test(l)), JSON.stringify(r.untagged));
    r = await a.ok('UID SORT (ARRIVAL) UTF-8 ALL');
    assert.ok(r.untagged.includes('* 1 EXPUNGE'), JSON.stringify(r.untagged));
    a.destroy();
    b.destroy();
  });

  it('SORT and THREAD again give the same answer, and follow new and expunged messages', async () => {
    const a = await h.client();
    await a.ok('CREATE Again');
    const msg = (id: string, extra = '') => `Subject: t ${id}\r\nMessage-ID: <${id}@x>\r\n${extra}\r\nx\r\n`;
    await appendAt(a, 'Again', '05-Jan-2024 00:01:00 +0000', msg('a'));
    await appendAt(a, 'Again', '05-Jan-2024 00:02:00 +0000', msg('b'));
    await a.ok('SELECT Again');
    const thread = async (cmd: string) => (await a.ok(cmd)).untagged.find((l) => l.startsWith('* THREAD'));
    const sort = async (cmd: string) => (await a.ok(cmd)).untagged.find((l) => l.startsWith('* SORT'));
    assert.equal(await thread('THREAD REFERENCES UTF-8 ALL'), '* THREAD (1)(2)');
    assert.equal(await thread('THREAD REFERENCES UTF-8 ALL'), '* THREAD (1)(2)');
    assert.equal(await sort('SORT (REVERSE ARRIVAL) UTF-8 ALL'), '* SORT 2 1');
    assert.equal(await sort('SORT (REVERSE ARRIVAL) UTF-8 ALL'), '* SORT 2 1');
    await appendAt(a, 'Again', '05-Jan-2024 00:03:00 +0000', msg('c', 'In-Reply-To: <a@x>\r\n'));
    assert.equal(await thread('THREAD REFERENCES UTF-8 ALL'), '* THREAD (1 3)(2)');
    assert.equal(await sort('SORT (REVERSE ARRIVAL) UTF-8 ALL'), '* SORT 3 2 1');
    assert.equal(await sort('SORT (REVERSE ARRIVAL) UTF-8 NOT 2'), '* SORT 3 1');
    await a.ok('STORE 1 +FLAGS (\\Deleted)');
    await a.ok('EXPUNGE');
    assert.equal(await thread('UID THREAD REFERENCES UTF-8 ALL'), '* THREAD (2)(3)');
    assert.equal(await thread('THREAD REFERENCES UTF-8 ALL'), '* THREAD (1)(2)');
    assert.equal(await sort('UID SORT (REVERSE ARRIVAL) UTF-8 ALL'), '* SORT 3 2');
    a.destroy();
  });

  it('SORT RETURN (SAVE) keeps the messages for $ (RFC 5182)', async () => {
    const r = await c.ok('SORT RETURN (SAVE) (DATE) UTF-8 SUBJECT other');
    assert.deepEqual(r.untagged, []);
    assert.deepEqual((await c.ok('UID SEARCH $')).untagged, ['* SEARCH 4 5']);
  });
});

/** The number of the last command's tag (Client numbers them t1, t2, ...). */
function lastTag(c: Client): number {
  return (c as unknown as { n: number }).n;
}

describe('SORT and THREAD over a few thousand messages', () => {
  let h: Harness;
  const COUNT = 3000;
  before(async () => {
    h = await startHarness();
    const mb = (await h.store.getMailbox(h.accountId, 'INBOX'))!;
    const batch = [];
    for (let i = 0; i < COUNT; i++) {
      // Dates out of order, threads of five, subjects shared by many.
      const d = new Date(Date.UTC(2024, 0, 1) + ((i * 7919) % COUNT) * 60_000).toUTCString().replace('GMT', '+0000');
      const parent = i % 5 ? `In-Reply-To: <n${i - 1}@example.org>\r\n` : '';
      const msg = Buffer.from(`From: u${i % 37}@example.org\r\nSubject: ${i % 5 ? 'Re: ' : ''}topic ${Math.floor(i / 5) % 40}\r\nDate: ${d}\r\nMessage-ID: <n${i}@example.org>\r\n${parent}\r\nbody ${i}\r\n`);
      const blob = await h.store.stageBlob(msg);
      // Every third message without a cache, as stored by an older version: keys built on first use.
      batch.push({ blob, flags: [], internalDate: new Date(Date.UTC(2024, 1, 1) + i * 1000), cache: i % 3 ? messageCacheJson(msg) : null });
    }
    await h.store.appendMessages(h.accountId, mb.id, batch);
  });
  after(async () => {
    await h?.close();
  });

  it('SORT by date and by subject, twice (the second from the session\'s keys), and THREAD', async () => {
    const c = await h.client();
    await c.ok('SELECT INBOX');
    const dateOf = (i: number) => ((i * 7919) % COUNT) * 60;
    const byDate = Array.from({ length: COUNT }, (_, i) => i).sort((a, b) => dateOf(a) - dateOf(b) || a - b).map((i) => i + 1);
    for (let round = 0; round < 2; round++) {
      const r = await c.ok('SORT (DATE) UTF-8 ALL');
      assert.equal(r.untagged[0], `* SORT ${byDate.join(' ')}`);
    }
    const subjectOf = (i: number) => `TOPIC ${Math.floor(i / 5) % 40}`;
    const bySubject = Array.from({ length: COUNT }, (_, i) => i)
      .sort((a, b) => (subjectOf(a) < subjectOf(b) ? -1 : subjectOf(a) > subjectOf(b) ? 1 : b - a))
      .map((i) => i + 1);
    const r = await c.ok('SORT (SUBJECT REVERSE ARRIVAL) UTF-8 ALL');
    assert.equal(r.untagged[0], `* SORT ${bySubject.join(' ')}`);
    // Messages without a cache got one, keys included, written back for the next session.
    const stored = await h.store.getMessages((await h.store.getMailbox(h.accountId, 'INBOX'))!.id, [1, 4]);
    for (const m of stored) assert.ok(m.cache && JSON.parse(m.cache).sort.s, `uid ${m.uid} has sort keys`);
    // REFERENCES: threads of five chained messages; threads with one subject merged under a dummy.
    const t = await c.ok('THREAD REFERENCES UTF-8 ALL');
    const chains = new Map<number, number[]>(); // topic -> first message of each chain, by date
    for (let i = 0; i < COUNT; i += 5) {
      const topic = Math.floor(i / 5) % 40;
      chains.set(topic, [...(chains.get(topic) ?? []), i]);
    }
    const groups = [...chains.values()].map((firsts) => firsts.sort((a, b) => dateOf(a) - dateOf(b)));
    groups.sort((a, b) => dateOf(a[0]!) - dateOf(b[0]!));
    const chain = (i: number) => `(${[i, i + 1, i + 2, i + 3, i + 4].map((n) => n + 1).join(' ')})`;
    assert.equal(t.untagged[0], `* THREAD ${groups.map((g) => `(${g.map(chain).join('')})`).join('')}`);
    const o = await c.ok('THREAD ORDEREDSUBJECT UTF-8 ALL');
    assert.match(o.untagged[0]!, /^\* THREAD \(/);
    c.destroy();
  });
});
