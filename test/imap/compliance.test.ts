// Answers that must match the RFCs (and Dovecot 2.3.19, which gets them right): BINARY.SIZE of the
// whole message, mailbox names that are not modified UTF-7, LSUB and LIST RECURSIVEMATCH, the
// command line limit, COPY/MOVE within one mailbox, new keywords announced before use, and
// HIGHESTMODSEQ on every SELECT. Transcripts over a real socket (test/imap/harness.ts).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { message, startHarness, type Harness } from './harness.js';

describe('imap compliance (issue 16)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  it('BINARY.SIZE[] is the size of what BINARY[] sends: the whole message (RFC 3516 4.2)', async () => {
    const c = await h.client();
    await c.ok('CREATE binsize');
    const msg = message('binary size', 'A body of a few bytes.\r\n');
    await c.append('binsize', msg);
    await c.ok('SELECT binsize');
    const r = await c.ok('FETCH 1 (BINARY.SIZE[] BINARY.PEEK[] RFC822.SIZE)');
    const m = /BINARY\.SIZE\[\] (\d+)/.exec(r.untagged[0]!);
    assert.ok(m, r.untagged[0]);
    assert.equal(Number(m[1]), Buffer.byteLength(msg));
    assert.match(r.untagged[0]!, new RegExp(`BINARY\\[\\] ~?\\{${Buffer.byteLength(msg)}\\}`));
    c.destroy();
  });

  it('a name that is not modified UTF-7: SELECT and STATUS answer NO, LIST matches nothing', async () => {
    const c = await h.client();
    await c.no('SELECT &Jjo');
    await c.no('EXAMINE "&Jjo-x&"');
    await c.no('STATUS &Jjo (MESSAGES)');
    const r = await c.ok('LIST "" "&Jjo*"');
    assert.deepEqual(r.untagged, []);
    // Valid patterns of the same command still match.
    const r2 = await c.ok('LIST "" ("&Jjo" "INBOX")');
    assert.deepEqual(r2.untagged.map((l) => l.replace(/^.* /, '')), ['INBOX']);
    c.destroy();
  });

  it('LSUB with "%" shows the parent of a deeper subscription as \\Noselect (RFC 3501 6.3.9)', async () => {
    const c = await h.client();
    await c.ok('CREATE zz/b/c');
    for (const n of ['zz', 'zz/b']) await c.ok(`UNSUBSCRIBE ${n}`).catch(() => undefined);
    await c.ok('SUBSCRIBE zz/b/c');
    const r = await c.ok('LSUB "" zz/%');
    assert.deepEqual(r.untagged, ['* LSUB (\\Noselect) "/" zz/b']);
    const r2 = await c.ok('LSUB "" zz/*');
    assert.deepEqual(r2.untagged, ['* LSUB () "/" zz/b/c']);
    c.destroy();
  });

  it('LIST (SUBSCRIBED RECURSIVEMATCH): CHILDINFO only for unsubscribed parents of subscribed names the pattern hides (RFC 5258 3.5)', async () => {
    const c = await h.client();
    await c.ok('CREATE rm/b/c');
    await c.ok('SUBSCRIBE rm/b/c');
    await c.ok('SUBSCRIBE rm/b');
    let r = await c.ok('LIST (SUBSCRIBED RECURSIVEMATCH) "" rm/%');
    assert.equal(r.untagged.length, 1, r.untagged.join('\n'));
    assert.match(r.untagged[0]!, /^\* LIST \([^)]*\\Subscribed[^)]*\) "\/" rm\/b$/);
    r = await c.ok('LIST (SUBSCRIBED RECURSIVEMATCH) "" rm/*');
    assert.equal(r.untagged.length, 2, r.untagged.join('\n'));
    for (const l of r.untagged) assert.doesNotMatch(l, /CHILDINFO/);
    r = await c.ok('LIST (SUBSCRIBED RECURSIVEMATCH) "" %');
    assert.ok(r.untagged.some((l) => /"\/" rm \("CHILDINFO" \("SUBSCRIBED"\)\)$/.test(l)), r.untagged.join('\n'));
    // With "*" the subscribed names are listed themselves: their parents are not (as Dovecot).
    await c.ok('CREATE rq/b/c');
    await c.ok('SUBSCRIBE rq/b/c');
    r = await c.ok('LIST (SUBSCRIBED RECURSIVEMATCH) "" rq*');
    assert.deepEqual(r.untagged, ['* LIST (\\HasNoChildren \\Subscribed) "/" rq/b/c']);
    r = await c.ok('LIST (SUBSCRIBED RECURSIVEMATCH) "" rq/%');
    assert.deepEqual(r.untagged, ['* LIST (\\HasChildren) "/" rq/b ("CHILDINFO" ("SUBSCRIBED"))']);
    c.destroy();
  });

  it('ID with RFC 2971 maxima (30 pairs, 1024-octet values) fits the command line limit', async () => {
    const c = await h.client();
    const pairs: string[] = [];
    for (let i = 0; i < 30; i++) pairs.push(`"field-${i}" "${String.fromCharCode(97 + (i % 26)).repeat(1024)}"`);
    const r = await c.ok(`ID (${pairs.join(' ')})`);
    assert.match(r.untagged[0]!, /^\* ID /);
    await c.ok('NOOP');
    c.destroy();
  });

  it('COPY and MOVE into the selected mailbox itself give new UIDs (COPYUID), as Dovecot', async () => {
    const c = await h.client();
    await c.ok('CREATE self');
    await c.append('self', message('one'));
    await c.append('self', message('two'));
    await c.ok('SELECT self');
    let r = await c.ok('COPY 1 self');
    assert.match(r.text, /^\[COPYUID \d+ 1 3\] /);
    assert.ok(r.untagged.includes('* 3 EXISTS'), r.untagged.join('\n'));
    r = await c.ok('UID MOVE 2 self');
    assert.ok(r.untagged.some((l) => /^\* OK \[COPYUID \d+ 2 4\]/.test(l)), r.untagged.join('\n'));
    assert.ok(r.untagged.includes('* 2 EXPUNGE'), r.untagged.join('\n'));
    assert.ok(r.untagged.includes('* 4 EXISTS') || r.untagged.includes('* 3 EXISTS'), r.untagged.join('\n'));
    r = await c.ok('UID FETCH 1:* (UID)');
    assert.deepEqual(r.untagged.map((l) => /UID (\d+)/.exec(l)![1]), ['1', '3', '4']);
    c.destroy();
  });

  it('STORE of a keyword the mailbox has not seen: FLAGS and PERMANENTFLAGS come before the FETCH', async () => {
    const c = await h.client();
    await c.ok('CREATE kw');
    await c.append('kw', message('kw'));
    await c.ok('SELECT kw');
    const r = await c.ok('STORE 1 +FLAGS ($Fresh)');
    assert.equal(r.untagged.length, 3, r.untagged.join('\n'));
    assert.match(r.untagged[0]!, /^\* FLAGS \(.*\$Fresh.*\)$/);
    assert.match(r.untagged[1]!, /^\* OK \[PERMANENTFLAGS \(.*\$Fresh.*\\\*\)\]/);
    assert.match(r.untagged[2]!, /^\* 1 FETCH \(FLAGS \(\\Recent \$Fresh\)\)$/);
    // Known now: no second announcement.
    const r2 = await c.ok('STORE 1 -FLAGS ($Fresh)');
    assert.deepEqual(r2.untagged, ['* 1 FETCH (FLAGS (\\Recent))']);
    const r3 = await c.ok('STORE 1 +FLAGS ($Fresh)');
    assert.deepEqual(r3.untagged, ['* 1 FETCH (FLAGS (\\Recent $Fresh))']);
    c.destroy();
  });

  it('SELECT and EXAMINE carry HIGHESTMODSEQ without ENABLE CONDSTORE (RFC 7162 3.1.2.1)', async () => {
    const c = await h.client();
    for (const cmd of ['SELECT INBOX', 'EXAMINE INBOX']) {
      const r = await c.ok(cmd);
      assert.ok(r.untagged.some((l) => /^\* OK \[HIGHESTMODSEQ \d+\]/.test(l)), `${cmd}: ${r.untagged.join('\n')}`);
    }
    c.destroy();
  });

  it('the first CONDSTORE-enabling command on a selected mailbox gets OK [HIGHESTMODSEQ] first (RFC 7162 3.1)', async () => {
    const setup = await h.client();
    await setup.ok('CREATE cs');
    for (const s of ['a', 'b', 'c']) await setup.append('cs', message(s));
    await setup.ok('SELECT cs');
    await setup.ok('STORE 2 +FLAGS (\\Flagged)');
    await setup.ok('STORE 3 +FLAGS (\\Flagged)');
    await setup.ok('STORE 1 +FLAGS (\\Flagged)');
    setup.destroy();
    for (const [first, again] of [
      ['FETCH 1 (MODSEQ)', 'FETCH 2 (MODSEQ)'],
      ['SEARCH MODSEQ 1', 'SEARCH MODSEQ 1'],
      ['STORE 1 (UNCHANGEDSINCE 1000000) +FLAGS (\\Seen)', 'STORE 2 (UNCHANGEDSINCE 1000000) +FLAGS (\\Seen)'],
    ] as const) {
      const c = await h.client();
      const sel = await c.ok('SELECT cs');
      const highest = /HIGHESTMODSEQ (\d+)/.exec(sel.untagged.join('\n'))![1];
      const r = await c.ok(first);
      assert.equal(r.untagged[0], `* OK [HIGHESTMODSEQ ${highest}] highest`, `${first}: ${r.untagged.join('\n')}`);
      const r2 = await c.ok(again);
      assert.ok(!r2.untagged.some((l) => l.includes('HIGHESTMODSEQ')), `${again}: ${r2.untagged.join('\n')}`);
      c.destroy();
    }
  });

  it('SEARCH RETURN (MIN) / (MAX) with MODSEQ gives the mod-sequence of the message returned (RFC 7162 3.1.5)', async () => {
    const c = await h.client();
    await c.ok('SELECT cs');
    const f = await c.ok('FETCH 1:3 (MODSEQ)');
    const modseqs = f.untagged.filter((l) => /FETCH/.test(l)).map((l) => Number(/MODSEQ \((\d+)\)/.exec(l)![1]));
    assert.equal(new Set(modseqs).size, 3, f.untagged.join('\n'));
    let r = await c.ok('SEARCH RETURN (MIN) MODSEQ 1');
    assert.match(r.untagged[0]!, new RegExp(` MIN 1 MODSEQ ${modseqs[0]}$`));
    r = await c.ok('SEARCH RETURN (MAX) MODSEQ 1');
    assert.match(r.untagged[0]!, new RegExp(` MAX 3 MODSEQ ${modseqs[2]}$`));
    r = await c.ok('SEARCH RETURN (MIN MAX) MODSEQ 1');
    assert.match(r.untagged[0]!, new RegExp(` MIN 1 MAX 3 MODSEQ ${Math.max(modseqs[0]!, modseqs[2]!)}$`));
    r = await c.ok('SEARCH RETURN (COUNT) MODSEQ 1');
    assert.match(r.untagged[0]!, new RegExp(` COUNT 3 MODSEQ ${Math.max(...modseqs)}$`));
    c.destroy();
  });

  it('a synchronizing APPEND literal is answered as soon as its bytes are in, before the CRLF (no delayed-ACK wait)', async () => {
    const c = await h.client();
    const data = Buffer.from(message('sync literal'));
    c.write(`s1 APPEND INBOX {${data.length}}\r\n`);
    assert.match(await c.readLine(), /^\+ /);
    // The message without its closing CRLF, as imaplib's first write: the server must send
    // something (which carries the TCP ACK) while the client's CRLF is still unsent.
    c.write(data);
    assert.match(await c.readLine(2000), /^\* OK /);
    c.write('\r\n');
    const r = await c.reply('s1');
    assert.equal(r.status, 'OK');
    // A non-synchronizing literal gets no such line (the client did not wait for anything).
    c.write(`s2 APPEND INBOX {${data.length}+}\r\n`);
    c.write(data);
    await new Promise((resolve) => setTimeout(resolve, 200));
    c.write('\r\n');
    const r2 = await c.reply('s2');
    assert.equal(r2.status, 'OK');
    assert.ok(!r2.untagged.some((l) => l.startsWith('* OK')), r2.untagged.join('\n'));
    c.destroy();
  });

  it('a message appended with NUL in a binary literal: BODY[...] never sends NUL in a plain literal, BINARY uses literal8', async () => {
    const c = await h.client();
    await c.ok('CREATE nul');
    const multi = Buffer.from(
      'From: a@example.org\r\nSubject: nul\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=xx\r\n\r\n' +
        '--xx\r\nContent-Type: text/plain\r\n\r\nhello\r\n' +
        '--xx\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\nab\0cd\r\n--xx--\r\n',
      'latin1',
    );
    const single = Buffer.from('From: a@example.org\r\nSubject: nul2\r\nContent-Transfer-Encoding: binary\r\n\r\nab\0cd\r\n', 'latin1');
    for (const m of [multi, single]) {
      const tag = c.nextTag();
      c.write(Buffer.concat([Buffer.from(`${tag} APPEND nul ~{${m.length}+}\r\n`), m, Buffer.from('\r\n')]));
      assert.equal((await c.reply(tag)).status, 'OK');
    }
    await c.ok('SELECT nul');
    /** Every literal of a response line: its form and its bytes (latin1, one char per byte). */
    const literals = (line: string): { binary: boolean; data: string }[] => {
      const out: { binary: boolean; data: string }[] = [];
      const re = /(~?)\{(\d+)\}\r\n/g;
      for (let m = re.exec(line); m; m = re.exec(line)) {
        out.push({ binary: m[1] === '~', data: line.slice(re.lastIndex, re.lastIndex + Number(m[2])) });
        re.lastIndex += Number(m[2]);
      }
      return out;
    };
    const r1 = await c.ok('FETCH 1 (BODY.PEEK[] BODY.PEEK[2] BODY.PEEK[TEXT] RFC822 BINARY.PEEK[2])');
    const r2 = await c.ok('FETCH 2 (BODY.PEEK[] BODY.PEEK[1] BODY.PEEK[TEXT] BINARY.PEEK[1] BINARY.PEEK[])');
    for (const line of [...r1.untagged, ...r2.untagged]) {
      for (const l of literals(line)) if (!l.binary) assert.ok(!l.data.includes('\0'), `NUL in a plain literal: ${JSON.stringify(line)}`);
    }
    // The part as served says base64, and decodes to the stored bytes.
    const body2 = /BODY\[2\] \{\d+\}\r\n([A-Za-z0-9+/=\r\n]+?)(?= BODY\[TEXT\])/.exec(r1.untagged[0]!);
    assert.ok(body2, JSON.stringify(r1.untagged[0]));
    assert.equal(Buffer.from(body2[1]!, 'base64').toString('latin1'), 'ab\0cd');
    assert.match(r1.untagged[0]!, /Content-Transfer-Encoding: base64\r\n\r\n/);
    // BINARY keeps the octets, as literal8.
    assert.match(r1.untagged[0]!, /BINARY\[2\] ~\{5\}\r\nab\0cd/);
    assert.match(r2.untagged[0]!, /BINARY\[1\] ~\{7\}\r\nab\0cd\r\n/);
    // A literal8 message is stored with its binary parts as base64 (as Dovecot): BINARY[] is the
    // message as stored, a plain literal like BODY[] (Dovecot decodes every part there instead).
    const stored = 'From: a@example.org\r\nSubject: nul2\r\nContent-Transfer-Encoding: base64\r\n\r\nYWIAY2QNCg==';
    assert.ok(r2.untagged[0]!.includes(`BINARY[] {${stored.length}}\r\n${stored}`), JSON.stringify(r2.untagged[0]));
    const body1 = /BODY\[1\] \{\d+\}\r\n([A-Za-z0-9+/=\r\n]+?)(?= BODY\[TEXT\])/.exec(r2.untagged[0]!);
    assert.ok(body1, JSON.stringify(r2.untagged[0]));
    assert.equal(Buffer.from(body1[1]!, 'base64').toString('latin1'), 'ab\0cd\r\n');
    c.destroy();
  });

  it('a literal8 message too big to stage in one piece: stored with its binary part as base64, BINARY[1] still the octets', async () => {
    const c = await h.client();
    await c.ok('CREATE big8');
    const bin = Buffer.alloc(200_000);
    for (let i = 0; i < bin.length; i++) bin[i] = (i * 7) & 0xff;
    const msg = Buffer.concat([
      Buffer.from('From: a@example.org\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n'),
      bin,
      Buffer.from('\r\n--b--\r\n'),
    ]);
    const tag = c.nextTag();
    c.write(Buffer.concat([Buffer.from(`${tag} APPEND big8 ~{${msg.length}+}\r\n`), msg, Buffer.from('\r\n')]));
    assert.equal((await c.reply(tag)).status, 'OK');
    await c.ok('SELECT big8');
    const line = (await c.ok('FETCH 1 (RFC822.SIZE BODYSTRUCTURE BODY.PEEK[] BINARY.PEEK[1])')).untagged[0]!;
    const size = Number(/RFC822\.SIZE (\d+)/.exec(line)![1]);
    const lits = [...line.matchAll(/(~?)\{(\d+)\}\r\n/g)];
    assert.equal(lits.length, 2);
    assert.equal(lits[0]![1], '', 'BODY[] is a plain literal');
    assert.equal(Number(lits[0]![2]), size, 'RFC822.SIZE is what BODY[] sends');
    // Short strings in the assertions: a failing match on the whole line would print half a megabyte.
    assert.match(line.slice(0, lits[0]!.index!), /"APPLICATION" "OCTET-STREAM" NIL NIL NIL "BASE64" \d+ /);
    const at = lits[1]!.index! + lits[1]![0].length;
    assert.ok(Buffer.from(line.slice(at, at + Number(lits[1]![2])), 'latin1').equals(bin), 'BINARY[1] is the octets sent');
    c.destroy();
  });
});
