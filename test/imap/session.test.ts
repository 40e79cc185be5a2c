// Narrative tests of the IMAP server over a real socket: login, mailboxes, append, fetch, search,
// store, copy/move, expunge, CONDSTORE/QRESYNC, IMAP4rev1 vs IMAP4rev2 behaviour.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { message, startHarness, type Harness } from './harness.js';

describe('imap session', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  it('greets with capabilities; LOGINDISABLED and STARTTLS before TLS on the plain port', async () => {
    const c = await h.client({ tls: false });
    const r = await c.ok('CAPABILITY');
    assert.match(r.untagged[0]!, /^\* CAPABILITY IMAP4rev2 IMAP4rev1 .*STARTTLS LOGINDISABLED/);
    assert.doesNotMatch(r.untagged[0]!, /AUTH=PLAIN/);
    await c.no(`LOGIN mjl@example.org x`, 'PRIVACYREQUIRED');
    c.destroy();
  });

  it('STARTTLS upgrades and then allows LOGIN', async () => {
    const c = await h.client({ tls: false });
    const tag = c.nextTag();
    c.write(`${tag} STARTTLS\r\n`);
    assert.match(await c.readLine(), new RegExp(`^${tag} OK`));
    const { TLSSocket } = await import('node:tls');
    const { Client, USER, PASSWORD } = await import('./harness.js');
    const t = new TLSSocket(c.sock, { rejectUnauthorized: false } as never);
    const { connect } = await import('node:tls');
    void connect;
    const tc = new Client(t);
    void t;
    c.sock.removeAllListeners('data');
    const r = await tc.ok('CAPABILITY');
    assert.match(r.untagged[0]!, /AUTH=PLAIN/);
    assert.doesNotMatch(r.untagged[0]!, /LOGINDISABLED|STARTTLS/);
    await tc.ok(`LOGIN ${USER} ${PASSWORD}`);
    await tc.no('LOGIN a b');
    tc.destroy();
  });

  it('STARTTLS: a command pipelined in the clear after it is discarded, never run over TLS (RFC 9051 6.2.1)', async () => {
    const c = await h.client({ tls: false });
    const tag = c.nextTag();
    // An attacker on the path appends a command to the client's STARTTLS.
    c.write(`${tag} STARTTLS\r\nINJ1 NOOP\r\n`);
    assert.match(await c.readLine(), new RegExp(`^${tag} OK`));
    const { TLSSocket } = await import('node:tls');
    const { Client } = await import('./harness.js');
    const t = new TLSSocket(c.sock, { rejectUnauthorized: false } as never);
    c.sock.removeAllListeners('data');
    const tc = new Client(t);
    const r = await tc.ok('NOOP');
    assert.ok(!r.untagged.some((l) => /INJ1/.test(l)), r.untagged.join('\n'));
    // Nothing for INJ1 is pending either: the next reply is for the next command.
    const r2 = await tc.ok('CAPABILITY');
    assert.ok(![...r2.untagged, r2.text].some((l) => /INJ1/.test(l)));
    tc.destroy();
  });

  it('rejects a bad password with AUTHENTICATIONFAILED and accepts AUTHENTICATE PLAIN with SASL-IR', async () => {
    const c = await h.client({ login: false });
    await c.no('LOGIN mjl@example.org wrongpassword', 'AUTHENTICATIONFAILED');
    const ir = Buffer.from('\0mjl@example.org\0testtest-password').toString('base64');
    const r = await c.ok(`AUTHENTICATE PLAIN ${ir}`);
    assert.match(r.text, /^\[CAPABILITY /);
    c.destroy();
  });

  it('AUTHENTICATE PLAIN with a continuation, and "*" cancels', async () => {
    const c = await h.client({ login: false });
    let tag = c.nextTag();
    c.write(`${tag} AUTHENTICATE PLAIN\r\n`);
    assert.equal(await c.readLine(), '+ ');
    c.write('*\r\n');
    assert.equal((await c.reply(tag)).status, 'BAD');
    tag = c.nextTag();
    c.write(`${tag} AUTHENTICATE PLAIN\r\n`);
    assert.equal(await c.readLine(), '+ ');
    c.write(Buffer.from('\0mjl@example.org\0testtest-password').toString('base64') + '\r\n');
    assert.equal((await c.reply(tag)).status, 'OK');
    c.destroy();
  });

  it('lists the default mailboxes with special-use, creates, renames and deletes', async () => {
    const c = await h.client();
    let r = await c.ok('LIST "" "*"');
    assert.ok(r.untagged.includes('* LIST (\\HasNoChildren) "/" INBOX'), r.untagged.join('\n'));
    assert.ok(r.untagged.includes('* LIST (\\HasNoChildren \\Sent) "/" Sent'));
    await c.ok('CREATE a/b/c');
    r = await c.ok('LIST "" "a/%"');
    assert.deepEqual(r.untagged, ['* LIST (\\HasChildren) "/" a/b']);
    await c.no('CREATE a/b', 'ALREADYEXISTS');
    await c.ok('RENAME a x');
    await c.no('RENAME a y', 'NONEXISTENT');
    r = await c.ok('LIST "" "x*"');
    assert.equal(r.untagged.length, 3);
    await c.ok('DELETE x/b/c');
    await c.no('DELETE nope', 'NONEXISTENT');
    await c.no('DELETE INBOX');
    await c.ok('CREATE "Saved Drafts" (USE (\\Drafts))');
    r = await c.ok('LIST (SPECIAL-USE) "" "*"');
    assert.ok(r.untagged.some((l) => l.includes('"Saved Drafts"') && l.includes('\\Drafts')));
    r = await c.ok('LIST "" % RETURN (STATUS (MESSAGES UIDNEXT SIZE))');
    assert.ok(r.untagged.some((l) => /^\* STATUS INBOX \(MESSAGES \d+ UIDNEXT \d+ SIZE \d+\)$/.test(l)), r.untagged.join('\n'));
    await c.ok('SUBSCRIBE Sent');
    r = await c.ok('LSUB "" "*"');
    assert.ok(r.untagged.includes('* LSUB () "/" Sent'));
    r = await c.ok('NAMESPACE');
    assert.deepEqual(r.untagged, ['* NAMESPACE (("" "/")) NIL NIL']);
    c.destroy();
  });

  it('encodes mailbox names in modified UTF-7 unless UTF8=ACCEPT is enabled', async () => {
    const c = await h.client();
    await c.ok('CREATE "Entw&APw-rfe"');
    let r = await c.ok('LIST "" "Entw*"');
    assert.deepEqual(r.untagged, ['* LIST (\\HasNoChildren) "/" Entw&APw-rfe']);
    await c.ok('ENABLE UTF8=ACCEPT');
    r = await c.ok('LIST "" "Entw*"');
    assert.deepEqual(r.untagged, ['* LIST (\\HasNoChildren) "/" "Entwürfe"']);
    c.destroy();
  });

  it('appends, selects (rev1 style), fetches, stores, searches, copies and expunges', async () => {
    const c = await h.client();
    await c.ok('CREATE work');
    let r = await c.append('work', message('first', 'One rare-word-zebra here.\r\n'), '\\Seen');
    assert.match(r.text, /^\[APPENDUID \d+ 1\] /);
    r = await c.append('work', message('second'));
    assert.match(r.text, /^\[APPENDUID \d+ 2\] /);
    await c.no('APPEND nosuch {3}', 'TRYCREATE');
    r = await c.ok('SELECT work');
    assert.ok(r.untagged.includes('* 2 EXISTS'));
    // Both messages are new: this session is the first to see them (RFC 3501 2.3.2).
    assert.ok(r.untagged.includes('* 2 RECENT'));
    assert.ok(r.untagged.some((l) => /^\* OK \[UIDVALIDITY \d+\]/.test(l)));
    assert.ok(r.untagged.includes('* OK [UNSEEN 2] first unseen'));
    assert.match(r.text, /^\[READ-WRITE\]/);

    r = await c.ok('FETCH 1:* (UID FLAGS RFC822.SIZE)');
    assert.match(r.untagged[0]!, /^\* 1 FETCH \(UID 1 FLAGS \(\\Recent \\Seen\) RFC822.SIZE \d+\)$/);
    r = await c.ok('FETCH 1 (ENVELOPE BODYSTRUCTURE)');
    assert.match(r.untagged[0]!, /ENVELOPE \("Mon, 1 Jan 2024 10:00:00 \+0000" "first" \(\("Alice" NIL "alice" "example.org"\)\)/);
    assert.match(r.untagged[0]!, /BODYSTRUCTURE \("TEXT" "PLAIN" \("CHARSET" "US-ASCII"\) NIL NIL "7BIT" \d+ 1 NIL NIL NIL NIL\)/);
    r = await c.ok('FETCH 2 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
    assert.equal(r.untagged[0], '* 2 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {19}\r\nSubject: second\r\n\r\n)');
    r = await c.ok('FETCH 2 (BODY[TEXT]<0.5>)');
    assert.equal(r.untagged[0], '* 2 FETCH (BODY[TEXT]<0> {5}\r\nHello FLAGS (\\Recent \\Seen))');
    r = await c.ok('UID FETCH 2 (BINARY.SIZE[1] PREVIEW INTERNALDATE SAVEDATE)');
    assert.match(r.untagged[0]!, /^\* 2 FETCH \(UID 2 BINARY.SIZE\[1\] 14 PREVIEW "Hello there." INTERNALDATE "[^"]+" SAVEDATE "[^"]+"\)$/);

    r = await c.ok('SEARCH BODY rare-word-zebra');
    assert.deepEqual(r.untagged, ['* SEARCH 1']);
    r = await c.ok('UID SEARCH SUBJECT second');
    assert.deepEqual(r.untagged, ['* SEARCH 2']);
    r = await c.ok('SEARCH RETURN (MIN MAX COUNT) ALL');
    assert.match(r.untagged[0]!, /^\* ESEARCH \(TAG "t\d+"\) MIN 1 MAX 2 COUNT 2$/);
    r = await c.ok('SEARCH OR FROM alice NOT SEEN');
    assert.deepEqual(r.untagged, ['* SEARCH 1 2']);
    r = await c.ok('SEARCH SINCE 1-Jan-2000 LARGER 10 UID 1:* HEADER Message-ID first');
    assert.deepEqual(r.untagged, ['* SEARCH 1']);
    r = await c.ok('SEARCH CHARSET UTF-8 TEXT "hello"');
    assert.deepEqual(r.untagged, ['* SEARCH 2']);
    await c.no('SEARCH CHARSET x-unknown-cs TEXT a', 'BADCHARSET');

    r = await c.ok('SEARCH RETURN (SAVE) SUBJECT second');
    assert.deepEqual(r.untagged, []);
    r = await c.ok('FETCH $ (UID)');
    assert.deepEqual(r.untagged, ['* 2 FETCH (UID 2)']);

    r = await c.ok('STORE 1 +FLAGS (\\Deleted $Important)');
    // $Important is new to the mailbox: FLAGS and PERMANENTFLAGS first (RFC 9051 7.3.5).
    assert.deepEqual(r.untagged, [
      '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Important)',
      '* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Important \\*)] flags permitted',
      '* 1 FETCH (FLAGS (\\Recent \\Seen \\Deleted $Important))',
    ]);
    r = await c.ok('STORE 2 +FLAGS.SILENT (\\Flagged)');
    assert.deepEqual(r.untagged, []);
    r = await c.ok('COPY 1:2 Trash');
    assert.match(r.text, /^\[COPYUID \d+ 1:2 \d+:\d+\]/);
    await c.no('COPY 1 nosuch', 'TRYCREATE');
    r = await c.ok('EXPUNGE');
    assert.deepEqual(r.untagged, ['* 1 EXPUNGE']);
    r = await c.ok('MOVE 1 Archive');
    assert.ok(r.untagged.some((l) => /^\* OK \[COPYUID \d+ 2 \d+\]/.test(l)));
    assert.ok(r.untagged.includes('* 1 EXPUNGE'));
    await c.bad('FETCH 5 FLAGS');
    await c.ok('CLOSE');
    await c.bad('FETCH 1 FLAGS');
    c.destroy();
  });

  it('IMAP4rev2: ESEARCH for SEARCH, no RECENT, LIST in SELECT, VANISHED with QRESYNC', async () => {
    const c = await h.client();
    await c.ok('CREATE rev2');
    await c.append('rev2', message('a'));
    await c.append('rev2', message('b'));
    await c.append('rev2', message('c'));
    let r = await c.ok('ENABLE IMAP4rev2 QRESYNC');
    assert.deepEqual(r.untagged, ['* ENABLED IMAP4rev2 QRESYNC CONDSTORE']);
    r = await c.ok('SELECT rev2');
    assert.ok(!r.untagged.some((l) => /RECENT/.test(l)));
    assert.ok(r.untagged.includes('* LIST () "/" rev2'));
    const hm = r.untagged.find((l) => l.includes('HIGHESTMODSEQ'))!;
    const modseq = Number(/HIGHESTMODSEQ (\d+)/.exec(hm)![1]);
    const uv = Number(/UIDVALIDITY (\d+)/.exec(r.untagged.join('\n'))![1]);
    r = await c.ok('SEARCH ALL');
    assert.match(r.untagged[0]!, /^\* ESEARCH \(TAG "t\d+"\) ALL 1:3$/);
    r = await c.ok('UID STORE 2 (UNCHANGEDSINCE 1) +FLAGS (\\Seen)');
    assert.match(r.text, /^\[MODIFIED 2\]/);
    r = await c.ok(`UID STORE 2 (UNCHANGEDSINCE ${modseq}) +FLAGS (\\Deleted)`);
    assert.match(r.untagged[0]!, /^\* 2 FETCH \(UID 2 FLAGS \(\\Deleted\) MODSEQ \(\d+\)\)$/);
    r = await c.ok('UID EXPUNGE 2');
    assert.match(r.untagged[0]!, /^\* VANISHED 2$/);
    r = await c.ok(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${modseq} VANISHED)`);
    assert.ok(r.untagged.includes('* VANISHED (EARLIER) 2'), r.untagged.join('\n'));
    await c.ok('UNSELECT');
    r = await c.ok(`SELECT rev2 (QRESYNC (${uv} ${modseq} 1:3))`);
    assert.ok(r.untagged.includes('* VANISHED (EARLIER) 2'), r.untagged.join('\n'));
    r = await c.ok('STATUS rev2 (MESSAGES UIDNEXT UNSEEN DELETED SIZE HIGHESTMODSEQ APPENDLIMIT)');
    assert.match(r.untagged[0]!, /^\* STATUS rev2 \(MESSAGES 2 UIDNEXT 4 UNSEEN 2 DELETED 0 SIZE \d+ HIGHESTMODSEQ \d+ APPENDLIMIT \d+\)$/);
    c.destroy();
  });

  it('EXAMINE is read-only; QUOTA, ID and NOOP work', async () => {
    const c = await h.client();
    await c.ok('CREATE examined');
    await c.append('examined', message('read only'));
    let r = await c.ok('EXAMINE examined');
    assert.match(r.text, /^\[READ-ONLY\]/);
    // RFC 9051 6.3.3: no change through an EXAMINEd mailbox, not even the implicit \Seen of BODY[].
    await c.no('STORE 1 +FLAGS (\\Seen)', 'READ-ONLY');
    await c.no('EXPUNGE', 'READ-ONLY');
    await c.ok('FETCH 1 (BODY[])');
    r = await c.ok('FETCH 1 (FLAGS)');
    // EXAMINE shows \Recent without claiming it (RFC 3501 2.3.2); nothing else may be set.
    assert.match(r.untagged[0]!, /^\* 1 FETCH \(FLAGS \((\\Recent)?\)\)$/);
    await c.ok('SELECT examined');
    r = await c.ok('FETCH 1 (FLAGS)');
    assert.match(r.untagged[0]!, /^\* 1 FETCH \(FLAGS \((\\Recent)?\)\)$/, 'still unseen after EXAMINE');
    r = await c.ok('GETQUOTAROOT INBOX');
    assert.equal(r.untagged[0], '* QUOTAROOT INBOX ""');
    assert.match(r.untagged[1]!, /^\* QUOTA "" \(STORAGE \d+ \d+\)$/);
    r = await c.ok('ID ("name" "test")');
    assert.match(r.untagged[0]!, /^\* ID \("name" "Postern"/);
    await c.ok('NOOP');
    const tag = c.nextTag();
    c.write(`${tag} LOGOUT\r\n`);
    assert.equal(await c.readLine(), '* BYE logging out');
    assert.match(await c.readLine(), new RegExp(`^${tag} OK`));
  });
});
