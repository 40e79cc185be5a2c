// APPEND CATENATE (RFC 4469) over a real socket: the RFC's example transcript (a draft rebuilt from
// parts of earlier messages and new text), relative and absolute URLs, MULTIAPPEND and REPLACE with
// CATENATE, literal8 TEXT and binary parts, the errors (BADURL for every unusable URL, another
// account's mailboxes included, answered before the next literal's continuation; TOOBIG; OVERQUOTA;
// bad syntax BAD) with the session going on, and python3 imaplib as a peer.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { deriveCredentials } from '../../src/auth/password.js';
import { appendUid, runPython, sendPieces } from './catenate-support.js';
import { message, PASSWORD, startHarness, USER, type Client, type Harness } from './harness.js';

const BOUNDARY = '------------030308070208000400050907';

/** The draft of RFC 4469 5's example: text, and a part that is itself a message. */
const DRAFT = [
  'Subject: Weekly report',
  'From: mjl@example.org',
  'MIME-Version: 1.0',
  `Content-Type: multipart/mixed; boundary="${BOUNDARY}"`,
  '',
  `--${BOUNDARY}`,
  'Content-Type: text/plain; charset=us-ascii',
  '',
  'Status: all good.',
  `--${BOUNDARY}`,
  'Content-Type: application/octet-stream',
  'Content-Transfer-Encoding: base64',
  '',
  'AAECAwQF',
  `--${BOUNDARY}--`,
  '',
].join('\r\n');

/** The message whose attachment the new draft takes. */
const FORWARDED = [
  'Subject: Numbers',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary=x',
  '',
  '--x',
  'Content-Type: text/plain',
  '',
  'see attached',
  '--x',
  'Content-Type: text/csv',
  '',
  'a,b\r\n1,2',
  '--x--',
  '',
].join('\r\n');

/** What BODY.PEEK[section] gives for `uid` in the selected mailbox. */
async function section(c: Client, uid: number, s: string): Promise<string> {
  const r = await c.ok(`UID FETCH ${uid} (BODY.PEEK[${s}])`);
  const line = r.untagged.find((l) => l.includes('FETCH'))!;
  const m = /BODY\[[^\]]*\] (?:\{(\d+)\}\r\n([\s\S]*)\)$|"((?:[^"\\]|\\.)*)"\)$|NIL\))/.exec(line);
  assert.ok(m, line);
  return m[2] !== undefined ? m[2].slice(0, Number(m[1])) : (m[3] ?? '');
}

describe('CATENATE (RFC 4469)', () => {
  let h: Harness;
  let c: Client;
  let validity: number;
  let draftUid: number;
  let fwdUid: number;
  before(async () => {
    h = await startHarness();
    c = await h.client();
    await c.cmd('CREATE Drafts');
    draftUid = appendUid((await c.append('Drafts', DRAFT, '\\Draft')).text);
    fwdUid = appendUid((await c.append('Drafts', FORWARDED)).text);
    validity = Number(/UIDVALIDITY (\d+)/.exec((await c.ok('STATUS Drafts (UIDVALIDITY)')).untagged[0]!)![1]);
    // Another account, with a mailbox the session must not reach.
    const other = await h.store.createAccount('other', 'other@example.org');
    const priv = await h.store.createMailbox(other.id, 'Private');
    await h.store.appendMessages(other.id, priv.id, [{ blob: await h.store.stageBlob(Buffer.from(message('secret'))), flags: [], internalDate: new Date(), cache: null }]);
    await h.store.setCredentials(other.id, (await deriveCredentials('other-password-1')) as never);
  });
  after(async () => {
    c?.destroy();
    await h?.close();
  });
  beforeEach(async () => {
    await c.cmd('UNSELECT');
  });

  const base = (): string => `/Drafts;UIDVALIDITY=${validity}/;UID=${draftUid}`;

  it('advertises CATENATE', async () => {
    const r = await c.ok('CAPABILITY');
    assert.match(r.untagged[0]!, /^\* CAPABILITY .* CATENATE( |$)/);
  });

  it('RFC 4469 5 example: a new draft from the old one\'s header and part, new text, and another message\'s part', async () => {
    const sep = `\r\n--${BOUNDARY}\r\n`;
    const r = await sendPieces(c, [
      'APPEND Drafts (\\Seen \\Draft $MDNSent) CATENATE (',
      `URL "${base()}/;section=HEADER" TEXT `,
      { lit: sep.slice(2) },
      ` URL "${base()}/;section=1.MIME" URL "${base()}/;section=1" TEXT `,
      { lit: sep },
      ` URL "/Drafts;UIDVALIDITY=${validity}/;UID=${fwdUid}/;section=2.MIME" URL "/Drafts;UIDVALIDITY=${validity}/;UID=${fwdUid}/;section=2" TEXT `,
      { lit: `\r\n--${BOUNDARY}--\r\n` },
      ')',
    ]);
    assert.equal(r.status, 'OK', r.text);
    assert.equal(r.continuations, 3);
    const uid = appendUid(r.text);
    await c.ok('SELECT Drafts');
    const expected =
      (await section(c, draftUid, 'HEADER')) +
      sep.slice(2) +
      (await section(c, draftUid, '1.MIME')) +
      (await section(c, draftUid, '1')) +
      sep +
      (await section(c, fwdUid, '2.MIME')) +
      (await section(c, fwdUid, '2')) +
      `\r\n--${BOUNDARY}--\r\n`;
    assert.equal(await section(c, uid, ''), expected);
    assert.match(expected, /Content-Type: text\/csv\r\n\r\na,b\r\n1,2\r\n--/);
    // The new message is parsed like any other: its structure and flags.
    const f = await c.ok(`UID FETCH ${uid} (FLAGS BODYSTRUCTURE)`);
    assert.match(f.untagged[0]!, /FLAGS \([^)]*\\Seen \\Draft \$MDNSent\)/);
    assert.match(f.untagged[0]!, /"text" "csv"/i);
  });

  it('relative URLs resolve against the selected mailbox; without one they are BADURL', async () => {
    const none = await c.cmd(`APPEND Drafts CATENATE (URL ";UID=${draftUid}")`);
    assert.equal(none.status, 'NO');
    assert.match(none.text, new RegExp(`^\\[BADURL ;UID=${draftUid}\\] `));
    await c.ok('SELECT Drafts');
    const r = await c.ok(`APPEND Drafts CATENATE (URL ";UID=${draftUid}/;SECTION=1" TEXT {2+}\r\n!!)`);
    assert.equal(await section(c, appendUid(r.text), ''), 'Status: all good.!!');
    // An absolute URL of this server and this user is the same message.
    const a = await c.ok(`APPEND Drafts CATENATE (URL "imap://${encodeURIComponent(USER)}@localhost/Drafts/;UID=${draftUid}/;PARTIAL=0.9")`);
    assert.equal(await section(c, appendUid(a.text), ''), 'Subject: ');
    // A URL sent as a literal string.
    const url = `;UID=${fwdUid}/;SECTION=1`;
    const l = await c.ok(`APPEND Drafts CATENATE (URL {${url.length}+}\r\n${url})`);
    assert.equal(await section(c, appendUid(l.text), ''), 'see attached');
  });

  it('BADURL for every URL the session cannot use, with the session going on', async () => {
    await c.ok('SELECT Drafts');
    const cases = [
      `/Drafts;UIDVALIDITY=${validity + 1}/;UID=${draftUid}`,
      `/Drafts/;UID=${fwdUid + 1000}`,
      '/Nowhere/;UID=1',
      `/Drafts/;UID=${draftUid}/;SECTION=9`,
      `/Drafts/;UID=${draftUid}/;SECTION=1.4.2`,
      // Accounts are isolated: another user's mailbox, by name or by an absolute URL naming them.
      '/Private/;UID=1',
      'imap://other@localhost/Private/;UID=1',
      `imap://other@localhost/Drafts/;UID=${draftUid}`,
      `imap://elsewhere.example/Drafts/;UID=${draftUid}`,
      'garbage',
      `/Drafts/;UID=${draftUid};URLAUTH=anonymous:INTERNAL:0123456789abcdef0123456789abcdef;EXPIRE=2020-01-01T00:00:00Z`,
      `/Drafts/;UID=${draftUid};EXPIRE=2020-01-01T00:00:00Z;URLAUTH=anonymous:INTERNAL:0123456789abcdef0123456789abcdef`,
    ];
    const before = (await c.ok('STATUS Drafts (MESSAGES)')).untagged[0];
    for (const url of cases) {
      const r = await c.cmd(`APPEND Drafts CATENATE (TEXT {1+}\r\nx URL "${url}")`);
      assert.equal(r.status, 'NO', url);
      assert.equal(r.text.slice(0, `[BADURL ${url}] `.length), `[BADURL ${url}] `);
    }
    // Nothing was added.
    await c.ok('NOOP');
    assert.equal((await c.ok('STATUS Drafts (MESSAGES)')).untagged[0], before);
  });

  it('another account\'s session reaches none of this account\'s messages', async () => {
    const o = await h.client({ login: false });
    try {
      await o.ok('LOGIN other@example.org other-password-1');
      for (const url of [`/Drafts/;UID=${draftUid}`, `/Drafts;UIDVALIDITY=${validity}/;UID=${draftUid}`, `imap://${encodeURIComponent(USER)}@localhost/Drafts/;UID=${draftUid}`, `imap://mjl@localhost/Drafts/;UID=${draftUid}`]) {
        const r = await o.cmd(`APPEND Private CATENATE (URL "${url}")`);
        assert.equal(r.status, 'NO', url);
        assert.ok(r.text.startsWith(`[BADURL ${url}] `), r.text);
      }
      // Its own message, for contrast.
      await o.ok('APPEND Private CATENATE (URL "/Private/;UID=1")');
    } finally {
      o.destroy();
    }
  });

  it('a bad URL before a synchronizing literal: NO at once, no continuation, the session goes on (RFC 4469 5.1)', async () => {
    const r = await sendPieces(c, [`APPEND Drafts CATENATE (URL "/Drafts/;UID=99999" TEXT `, { lit: 'never sent' }, ')']);
    assert.equal(r.status, 'NO');
    assert.ok(r.early, 'answered before the continuation');
    assert.match(r.text, /^\[BADURL \/Drafts\/;UID=99999\] /);
    await c.ok('NOOP');
    // In a later message of a MULTIAPPEND too: the first message is not added (all or none).
    const before = (await c.ok('STATUS Drafts (MESSAGES)')).untagged[0];
    const m = await sendPieces(c, ['APPEND Drafts ', { lit: message('first') }, ' CATENATE (URL "/Drafts/;UID=99999" TEXT ', { lit: 'x' }, ')']);
    assert.equal(m.status, 'NO');
    assert.ok(m.early);
    await c.ok('NOOP');
    assert.equal((await c.ok('STATUS Drafts (MESSAGES)')).untagged[0], before);
  });

  it('a bad URL before non-synchronizing literals: they are read and dropped, the session goes on', async () => {
    const tag = c.nextTag();
    c.write(`${tag} APPEND Drafts CATENATE (URL "/Drafts/;UID=99999" TEXT {5+}\r\nhello URL {8+}\r\n;UID=1/x TEXT {3+}\r\nabc) {4+}\r\nmore\r\n`);
    const r = await c.reply(tag);
    assert.equal(r.status, 'NO');
    assert.match(r.text, /^\[BADURL /);
    await c.ok('NOOP');
  });

  it('MULTIAPPEND mixing plain and CATENATE messages, and URL-only commands without any literal', async () => {
    const r = await sendPieces(c, ['APPEND Drafts ', { lit: message('plain one') }, ` (\\Flagged) CATENATE (URL "${base()}/;SECTION=HEADER" TEXT `, { lit: 'body\r\n' }, `) CATENATE (URL "${base()}")`]);
    assert.equal(r.status, 'OK', r.text);
    const [, first, last] = /\[APPENDUID \d+ (\d+):(\d+)\]/.exec(r.text)!.map(Number) as [string, number, number];
    assert.equal(last - first, 2);
    await c.ok('SELECT Drafts');
    assert.match(await section(c, first + 1, ''), /^Subject: Weekly report\r\n[\s\S]*\r\n\r\nbody\r\n$/);
    assert.equal(await section(c, last, ''), DRAFT);
    // No literal at all: the command arrives whole.
    const u = await c.ok(`APPEND Drafts (\\Seen) CATENATE (URL ";UID=${fwdUid}/;SECTION=2") CATENATE (URL ";UID=${fwdUid}/;SECTION=1")`);
    assert.match(u.text, /^\[APPENDUID \d+ \d+:\d+\]/);
    assert.equal(await section(c, appendUid(u.text), ''), 'see attached');
  });

  it('REPLACE with CATENATE (RFC 8508 6), with and without literals', async () => {
    await c.ok('SELECT Drafts');
    const v = appendUid((await c.append('Drafts', message('to replace'))).text);
    const r = await sendPieces(c, [`UID REPLACE ${v} Drafts CATENATE (URL ";UID=${v}/;SECTION=HEADER" TEXT `, { lit: 'new body\r\n' }, ')']);
    assert.equal(r.status, 'OK', r.text);
    const nu = appendUid(r.untagged.find((l) => l.includes('APPENDUID'))!);
    assert.match(await section(c, nu, ''), /^From: Alice[\s\S]*Subject: to replace[\s\S]*\r\n\r\nnew body\r\n$/);
    assert.equal((await c.ok(`UID SEARCH UID ${v}`)).untagged[0], '* SEARCH');
    const w = await c.cmd(`UID REPLACE ${nu} Drafts CATENATE (URL ";UID=${fwdUid}")`);
    assert.equal(w.status, 'OK', w.text);
    assert.equal(await section(c, appendUid(w.untagged.find((l) => l.includes('APPENDUID'))!), ''), FORWARDED);
    // REPLACE takes one message.
    await c.bad(`UID REPLACE ${fwdUid} Drafts CATENATE (URL ";UID=1") CATENATE (URL ";UID=1")`);
    await c.ok('NOOP');
  });

  it('literal8 TEXT, UTF8 (~{n}) parts (RFC 6855 4) and parts with NUL are copied unchanged (RFC 4469 5, RFC 3516)', async () => {
    const head = 'Subject: binary\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n';
    const bin = Buffer.concat([Buffer.from(head), Buffer.from([0, 1, 2, 0xff, 0, 0x0d, 0x0a])]);
    const r = await sendPieces(c, ['APPEND Drafts CATENATE (TEXT ', { lit: bin, kind: 'binary' }, ')']);
    assert.equal(r.status, 'OK', r.text);
    const src = appendUid(r.text);
    await c.ok('SELECT Drafts');
    // A URL of the whole message and of its body: the bytes as stored, NUL included.
    const w = await c.ok(`APPEND Drafts CATENATE (URL ";UID=${src}/;SECTION=HEADER" URL ";UID=${src}/;SECTION=TEXT" TEXT ~{1+}\r\n\0 UTF8 (~{1+}\r\n\0))`);
    const size = /RFC822.SIZE (\d+)/.exec((await c.ok(`UID FETCH ${appendUid(w.text)} (RFC822.SIZE)`)).untagged[0]!)![1];
    assert.equal(Number(size), bin.length + 2);
    const b = await c.ok(`UID FETCH ${appendUid(w.text)} (BINARY.PEEK[])`);
    assert.ok(b.untagged[0]!.includes(`${head}\0\x01\x02\xff\0\r\n\0\0`), JSON.stringify(b.untagged[0]));
  });

  it('syntax errors are BAD and the session goes on', async () => {
    for (const cmd of ['APPEND Drafts CATENATE ()', 'APPEND Drafts CATENATE (URL)', 'APPEND Drafts CATENATE (FOO "x")', 'APPEND Drafts CATENATE (URL "x"', 'APPEND Drafts CATENATE URL "x"', 'APPEND Drafts CATENATE (URL "x")(URL "y")']) {
      await c.bad(cmd);
    }
    const r = await c.cmd('APPEND Drafts CATENATE (TEXT {3+}\r\nabc FOO)');
    assert.equal(r.status, 'BAD');
    await c.ok('NOOP');
  });

  it('python imaplib: CATENATE of URLs, BADURL as a NO', async (t) => {
    const script = `
import imaplib, ssl, sys
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
m = imaplib.IMAP4_SSL('127.0.0.1', int(sys.argv[1]), ssl_context=ctx)
m.login(sys.argv[2], sys.argv[3])
assert 'CATENATE' in m.capabilities, m.capabilities
m.select('Drafts')
typ, data = m._simple_command('APPEND', 'Drafts', '(\\\\Seen)', 'CATENATE', '(URL ";UID=%s/;SECTION=HEADER" URL ";UID=%s/;SECTION=1")' % (sys.argv[4], sys.argv[5]))
print(typ, m.untagged_responses.get('APPENDUID'))
typ, data = m._simple_command('APPEND', 'Drafts', 'CATENATE', '(URL "/Private/;UID=1")')
print(typ, data[0].decode())
m.logout()
`;
    const out = await runPython(t, script, [String(h.tlsPort), USER, PASSWORD, String(fwdUid), String(fwdUid)]);
    if (out === null) return;
    const lines = out.trim().split('\n');
    assert.equal(lines.length, 2, out);
    assert.match(lines[0]!, /^OK \[b'\d+ \d+'\]$/);
    assert.match(lines[1]!, /^NO .*BADURL \/Private\/;UID=1/);
    await c.ok('SELECT Drafts');
    const uid = Number(/'\d+ (\d+)'/.exec(lines[0]!)![1]);
    assert.match(await section(c, uid, ''), /^Subject: Numbers\r\n[\s\S]*\r\n\r\nsee attached$/);
  });
});

describe('CATENATE limits: APPENDLIMIT and quota count the URL contents', () => {
  let h: Harness;
  let c: Client;
  before(async () => {
    h = await startHarness({ appendLimit: 10_000 });
    c = await h.client();
    await c.cmd('CREATE Drafts');
  });
  after(async () => {
    c?.destroy();
    await h?.close();
  });

  it('TOOBIG when the parts add up over APPENDLIMIT, before the continuation of the TEXT that would pass it', async () => {
    const big = message('six thousand', 'x'.repeat(6000 - message('six thousand', '').length));
    const uid = appendUid((await c.append('Drafts', big)).text);
    await c.ok('SELECT Drafts');
    const two = await c.cmd(`APPEND Drafts CATENATE (URL ";UID=${uid}" URL ";UID=${uid}")`);
    assert.equal(two.status, 'NO');
    assert.match(two.text, /^\[TOOBIG\] /);
    const r = await sendPieces(c, [`APPEND Drafts CATENATE (URL ";UID=${uid}" TEXT `, { lit: 'y'.repeat(4001) }, ')']);
    assert.equal(r.status, 'NO');
    assert.ok(r.early);
    assert.match(r.text, /^\[TOOBIG\] /);
    await c.ok('NOOP');
    // Up to the limit is fine.
    const ok = await sendPieces(c, [`APPEND Drafts CATENATE (URL ";UID=${uid}" TEXT `, { lit: 'y'.repeat(4000) }, ')']);
    assert.equal(ok.status, 'OK', ok.text);
  });

  it('OVERQUOTA when the URL contents do not fit the quota', async () => {
    await c.ok('SELECT Drafts');
    const uid = appendUid((await c.append('Drafts', message('quota', 'z'.repeat(3000)))).text);
    const q = await h.store.getQuota(h.accountId);
    await h.store.setQuota('mjl', q.used + 4000);
    try {
      const r = await c.cmd(`APPEND Drafts CATENATE (URL ";UID=${uid}" URL ";UID=${uid}")`);
      assert.equal(r.status, 'NO');
      assert.match(r.text, /^\[OVERQUOTA\] /);
      await c.ok(`APPEND Drafts CATENATE (URL ";UID=${uid}")`);
    } finally {
      await h.store.setQuota('mjl', null);
    }
  });
});
