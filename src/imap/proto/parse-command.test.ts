import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CommandReader, type CommandPart } from './command-reader.js';
import { DEFAULT_READER_LIMITS } from './limits.js';
import { parseAppendEnd, parseAppendNext, parseMessagePrefix, parseCommand, type AppendResume } from './parse-command.js';
import { ImapSyntaxError } from './syntax-error.js';
import { STAR } from './types.js';
import { decodeMutf7, encodeMutf7 } from './mutf7.js';

function parts(s: string): CommandPart[] {
  const r = new CommandReader({ ...DEFAULT_READER_LIMITS, maxLineLength: 1 << 20 });
  r.push(Buffer.from(s + '\r\n'));
  for (let e = r.next(); e; e = r.next()) {
    if (e.kind === 'command') return e.parts;
    if (e.kind === 'message-literal') r.acceptMessage();
  }
  throw new Error('no command');
}

const parse = (s: string) => parseCommand(parts(s));

describe('parseCommand', () => {
  it('parses REPLACE and UID REPLACE (RFC 8508 5)', () => {
    const r = parse('a REPLACE 4 Drafts (\\Seen \\Draft) "01-Jan-2015 00:05:00 -0500" {3}\r\nabc');
    assert.equal(r.name, 'REPLACE');
    if (r.name !== 'REPLACE') return;
    assert.equal(r.uid, false);
    assert.equal(r.id, 4);
    assert.equal(r.mailbox, 'Drafts');
    assert.deepEqual(r.message.flags, ['\\Seen', '\\Draft']);
    assert.equal(r.message.size, 3);
    const u = parse('a UID REPLACE * INBOX UTF8 (~{3}\r\nabc)');
    assert.ok(u.name === 'REPLACE' && u.uid && u.id === STAR && u.message.utf8 && u.message.binary);
    assert.throws(() => parse('a REPLACE 0 INBOX {1}\r\nx'), ImapSyntaxError);
    assert.throws(() => parse('a REPLACE 1 INBOX {1}\r\nx {1}\r\ny'), ImapSyntaxError);
  });

  it('parses ESEARCH with source options (RFC 7377 4)', () => {
    const e = parse('a ESEARCH IN (mailboxes "folder1" subtree-one (a b) personal) RETURN (MIN COUNT) CHARSET UTF-8 UNSEEN');
    assert.equal(e.name, 'ESEARCH');
    if (e.name !== 'ESEARCH') return;
    assert.deepEqual(e.sources, [{ kind: 'mailboxes', mailboxes: ['folder1'] }, { kind: 'subtree-one', mailboxes: ['a', 'b'] }, { kind: 'personal' }]);
    assert.deepEqual(e.returnOpts, ['MIN', 'COUNT']);
    assert.deepEqual(e.key, { op: 'flag', flag: '\\Seen', present: false });
    const d = parse('a esearch ALL');
    assert.ok(d.name === 'ESEARCH' && d.sources === null);
    for (const bad of ['a ESEARCH IN (selected-delayed) ALL', 'a ESEARCH IN () ALL', 'a ESEARCH IN (personal (X)) ALL', 'a ESEARCH IN (subtree) ALL', 'a ESEARCH IN (personal)']) {
      assert.throws(() => parse(bad), ImapSyntaxError, bad);
    }
  });

  it('parses FETCH with sections, partials, BINARY and modifiers', () => {
    const c = parse('a UID FETCH 1:* (FLAGS BODY.PEEK[1.2.HEADER.FIELDS (Subject From)]<0.100> BINARY[1] PREVIEW (LAZY)) (CHANGEDSINCE 5 VANISHED)');
    assert.equal(c.name, 'FETCH');
    if (c.name !== 'FETCH') return;
    assert.equal(c.uid, true);
    assert.deepEqual(c.set, { kind: 'ranges', ranges: [{ start: 1, end: STAR }] });
    assert.deepEqual(c.items[1], { kind: 'body', peek: true, section: { part: [1, 2], text: 'HEADER.FIELDS', fields: ['Subject', 'From'] }, partial: { start: 0, count: 100 } });
    assert.deepEqual(c.items[2], { kind: 'binary', peek: false, part: [1], section: null, partial: null });
    assert.deepEqual(c.items[3], { kind: 'preview', lazy: true });
    assert.equal(c.changedSince, 5);
    assert.equal(c.vanished, true);
  });

  it('parses BINARY with a section text as Dovecot takes it (not in RFC 3516\'s grammar); MIME needs a part', () => {
    const c = parse('a FETCH 1 (BINARY.PEEK[2.HEADER.FIELDS (Subject)]<1.2> BINARY.SIZE[TEXT])');
    if (c.name !== 'FETCH') return assert.fail(c.name);
    assert.deepEqual(c.items[0], { kind: 'binary', peek: true, part: [2], section: { part: [2], text: 'HEADER.FIELDS', fields: ['Subject'] }, partial: { start: 1, count: 2 } });
    assert.deepEqual(c.items[1], { kind: 'binary.size', part: [], section: { part: [], text: 'TEXT' } });
    assert.throws(() => parse('a FETCH 1 BINARY[MIME]'), ImapSyntaxError);
    // <n> reads to the end (Dovecot takes it); a zero length is not a partial (RFC 9051 9: nz-number).
    const p = parse('a FETCH 1 BODY.PEEK[]<40>');
    if (p.name !== 'FETCH') return assert.fail(p.name);
    assert.deepEqual(p.items[0], { kind: 'body', peek: true, section: { part: [] }, partial: { start: 40, count: null } });
    assert.throws(() => parse('a FETCH 1 BODY[]<0.0>'), ImapSyntaxError);
    assert.throws(() => parse('a FETCH 1 BINARY[0]'), ImapSyntaxError);
  });

  it('parses SEARCH keys and ESEARCH options', () => {
    const c = parse('a SEARCH RETURN (MIN COUNT SAVE) CHARSET UTF-8 OR SUBJECT "x y" NOT SEEN MODSEQ 7 YOUNGER 60 SAVEDBEFORE 1-Jan-2024 2:4');
    assert.equal(c.name, 'SEARCH');
    if (c.name !== 'SEARCH') return;
    assert.deepEqual(c.returnOpts, ['MIN', 'COUNT', 'SAVE']);
    assert.equal(c.charset, 'UTF-8');
    assert.equal(c.key.op, 'and');
  });

  it('MULTIAPPEND message by message: the first from the prefix, the rest from their own text, as the whole command', () => {
    const cmd =
      'a APPEND {5}\r\nINBOX (\\Seen) "05-Jan-2024 10:00:00 +0100" {3}\r\nabc UTF8 (~{2}\r\nxy) (\\Flagged $x) {1}\r\nz' +
      ' " 7-Feb-2024 23:59:59 -0530" ~{2}\r\nq\0 {4}\r\nlast';
    const all = parts(cmd);
    const whole = parseCommand(all);
    assert.equal(whole.name, 'APPEND');
    if (whole.name !== 'APPEND') return;
    // As the reader announces them: each message literal with the parts before it.
    const lits = all.flatMap((p) => (p.literal?.kind === 'message' ? [{ text: p.text, literal: p.literal }] : []));
    const firstAt = all.findIndex((p) => p.literal?.kind === 'message');
    const first = parseMessagePrefix(all.slice(0, firstAt + 1), lits[0]!.literal.size, lits[0]!.literal.binary);
    assert.equal(first.tag, 'a');
    assert.equal(first.mailbox, 'INBOX');
    assert.equal(first.replace, null);
    assert.deepEqual(first.steps, [{ kind: 'message', message: whole.messages[0] }, { kind: 'literal', size: 3, binary: false }]);
    let resume = first.resume;
    for (let k = 1; k < lits.length; k++) {
      const n = parseAppendNext([{ text: lits[k]!.text }], lits[k]!.literal.size, lits[k]!.literal.binary, resume);
      assert.deepEqual(n.steps[0], { kind: 'message', message: whole.messages[k] }, `message ${k + 1}`);
      resume = n.resume;
    }
    assert.deepEqual(parseAppendEnd([{ text: Buffer.alloc(0) }], resume), []);
    assert.equal(whole.messages.length, 5);
    assert.equal(whole.messages[3]!.internalDate!.toISOString(), '2024-02-08T05:29:59.000Z');
    const next = (t: string, resume: AppendResume = 'message'): unknown => parseAppendNext([{ text: Buffer.from(t) }], 3, false, resume);
    // A bad flag list or date in a later message is a syntax error there, as in the whole command.
    assert.throws(() => next(' (\\Seen "x'), ImapSyntaxError);
    assert.throws(() => next(' "31-Foo-2024 10:00:00 +0000" '), ImapSyntaxError);
    // After UTF8 (~{n}) the text must close it.
    assert.throws(() => next(' ', 'utf8'), ImapSyntaxError);
  });

  it('APPEND CATENATE (RFC 4469 5): TEXT literals and URLs, step by step as the whole command', () => {
    const cmd =
      'A003 APPEND Drafts (\\Seen \\Draft $MDNSent) CATENATE (URL "/Drafts;UIDVALIDITY=385759045/;UID=20/;section=HEADER" TEXT {42}\r\n' +
      'x'.repeat(42) +
      ' URL "/Drafts;UIDVALIDITY=385759045/;UID=20/;section=1.MIME" URL {7}\r\n;UID=20 TEXT ~{2}\r\nab) {3}\r\nxyz CATENATE (URL ";UID=1")';
    const all = parts(cmd);
    const whole = parseCommand(all);
    assert.equal(whole.name, 'APPEND');
    if (whole.name !== 'APPEND') return;
    assert.equal(whole.messages.length, 3);
    assert.deepEqual(whole.messages[0]!.flags, ['\\Seen', '\\Draft', '$MDNSent']);
    assert.deepEqual(whole.messages[0]!.catenate, [
      { kind: 'url', url: '/Drafts;UIDVALIDITY=385759045/;UID=20/;section=HEADER' },
      { kind: 'text', size: 42, binary: false },
      { kind: 'url', url: '/Drafts;UIDVALIDITY=385759045/;UID=20/;section=1.MIME' },
      { kind: 'url', url: ';UID=20' },
      { kind: 'text', size: 2, binary: true },
    ]);
    assert.equal(whole.messages[1]!.catenate, null);
    assert.deepEqual(whole.messages[2]!.catenate, [{ kind: 'url', url: ';UID=1' }]);
    // Incrementally: the segments between message literals (a URL literal stays inside its segment).
    const at = all.flatMap((p, i) => (p.literal?.kind === 'message' ? [i] : []));
    const first = parseMessagePrefix(all.slice(0, at[0]! + 1), 42, false);
    assert.deepEqual(first.steps.map((s) => s.kind), ['message', 'url', 'literal']);
    assert.equal(first.resume, 'catenate');
    const second = parseAppendNext(all.slice(at[0]! + 1, at[1]! + 1), 2, true, first.resume);
    assert.deepEqual(second.steps, [
      { kind: 'url', url: '/Drafts;UIDVALIDITY=385759045/;UID=20/;section=1.MIME' },
      { kind: 'url', url: ';UID=20' },
      { kind: 'literal', size: 2, binary: true },
    ]);
    const third = parseAppendNext(all.slice(at[1]! + 1, at[2]! + 1), 3, false, second.resume);
    assert.deepEqual(third.steps.map((s) => s.kind), ['message', 'literal']);
    assert.equal(third.resume, 'message');
    const end = parseAppendEnd(all.slice(at[2]! + 1), third.resume);
    assert.deepEqual(end, [{ kind: 'message', message: whole.messages[2] }, { kind: 'url', url: ';UID=1' }]);
    // Malformed CATENATE lists are syntax errors.
    for (const bad of ['a APPEND x CATENATE ()', 'a APPEND x CATENATE (URL)', 'a APPEND x CATENATE (FOO "x")', 'a APPEND x CATENATE (URL "x"', 'a APPEND x CATENATE (URL "x")(URL "y")', 'a APPEND x CATENATE URL "x"', 'a REPLACE 1 x CATENATE (URL "x") CATENATE (URL "y")']) {
      assert.throws(() => parse(bad), ImapSyntaxError, bad);
    }
    // RFC 6855 4: a UTF8 (~{n}) part; its ")" comes after the literal.
    const u8 = parts('a APPEND x CATENATE (UTF8 (~{2}\r\nab) URL ";UID=1")');
    const u8whole = parseCommand(u8);
    assert.ok(u8whole.name === 'APPEND');
    assert.deepEqual(u8whole.messages[0]!.catenate, [{ kind: 'text', size: 2, binary: true }, { kind: 'url', url: ';UID=1' }]);
    const u8first = parseMessagePrefix(u8.slice(0, 1), 2, true);
    assert.equal(u8first.resume, 'catenate-utf8');
    assert.deepEqual(parseAppendEnd(u8.slice(1), u8first.resume), [{ kind: 'url', url: ';UID=1' }]);
    assert.throws(() => parse('a APPEND x CATENATE (UTF8 (~{2}\r\nab URL ";UID=1")'), ImapSyntaxError);
    const r = parse('a UID REPLACE 4 Drafts CATENATE (URL ";UID=4/;SECTION=1")');
    assert.equal(r.name, 'REPLACE');
    if (r.name === 'REPLACE') assert.deepEqual(r.message.catenate, [{ kind: 'url', url: ';UID=4/;SECTION=1' }]);
  });

  it('parses STORE, SELECT QRESYNC, LIST-EXTENDED, APPEND with MULTIAPPEND', () => {
    const s = parse('a STORE 1 (UNCHANGEDSINCE 3) -FLAGS.SILENT (\\Seen $Junk)');
    assert.deepEqual(s, { tag: 'a', name: 'STORE', uid: false, set: { kind: 'ranges', ranges: [{ start: 1, end: 1 }] }, unchangedSince: 3, op: 'remove', silent: true, flags: ['\\Seen', '$Junk'] });
    const q = parse('a SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541 (1:5 1:5)))');
    assert.equal(q.name, 'SELECT');
    const l = parse('a LIST (SUBSCRIBED RECURSIVEMATCH) "" ("INBOX" "%") RETURN (CHILDREN STATUS (MESSAGES SIZE))');
    assert.equal(l.name, 'LIST');
    if (l.name === 'LIST') assert.deepEqual(l.returnOpts.status, ['MESSAGES', 'SIZE']);
    const ap = parse('a APPEND INBOX (\\Seen) "05-Jan-2024 10:00:00 +0100" {3}\r\nabc UTF8 (~{2}\r\nxy)');
    assert.equal(ap.name, 'APPEND');
    if (ap.name === 'APPEND') {
      assert.equal(ap.messages.length, 2);
      assert.equal(ap.messages[0]!.internalDate!.toISOString(), '2024-01-05T09:00:00.000Z');
      assert.equal(ap.messages[1]!.utf8, true);
    }
  });

  it('parses the RFC 5465 7 UPDATE fetch-att list, with or without a space before it', () => {
    const srch = parse('a00 SEARCH RETURN (COUNT UPDATE (UID BODY[HEADER.FIELDS (TO FROM SUBJECT)])) FROM "boss"');
    assert.ok(srch.name === 'SEARCH' && srch.returnOpts?.join(' ') === 'COUNT UPDATE');
    if (srch.name === 'SEARCH') assert.deepEqual(srch.updateAtts?.map((x) => x.kind), ['simple', 'body']);
    const srt = parse('a SORT RETURN (UPDATE(FLAGS) COUNT) (DATE) UTF-8 ALL');
    assert.ok(srt.name === 'SORT' && srt.returnOpts?.opts.join(' ') === 'UPDATE COUNT');
    if (srt.name === 'SORT') assert.equal(srt.returnOpts?.updateAtts?.length, 1);
    const plain = parse('a SEARCH RETURN (UPDATE) ALL');
    assert.ok(plain.name === 'SEARCH' && plain.updateAtts === null);
    assert.throws(() => parse('a SEARCH RETURN (UPDATE (UID) UPDATE (FLAGS)) ALL'), ImapSyntaxError);
    assert.throws(() => parse('a SEARCH RETURN (UPDATE (NOPE)) ALL'), ImapSyntaxError);
  });

  it('parses RFC 5267 UPDATE and CONTEXT, CANCELUPDATE, and refuses PARTIAL with ALL', () => {
    const srch = parse('B01 UID SEARCH RETURN (UPDATE COUNT) DELETED');
    assert.ok(srch.name === 'SEARCH' && srch.returnOpts?.join(' ') === 'UPDATE COUNT');
    const srt = parse('a SORT RETURN (CONTEXT UPDATE PARTIAL 3:1) (DATE) UTF-8 ALL');
    assert.ok(srt.name === 'SORT' && srt.returnOpts?.opts.join(' ') === 'CONTEXT UPDATE');
    if (srt.name === 'SORT') assert.deepEqual(srt.returnOpts?.partial, { first: 1, last: 3 });
    assert.deepEqual(parse('B04 CANCELUPDATE "B01" "B02"'), { tag: 'B04', name: 'CANCELUPDATE', tags: ['B01', 'B02'] });
    assert.throws(() => parse('a CANCELUPDATE'), ImapSyntaxError);
    assert.throws(() => parse('a SEARCH RETURN (ALL PARTIAL 1:5) ALL'), /PARTIAL conflicts with ALL/);
  });

  it('parses NOTIFY SET and NONE (RFC 5465 8)', () => {
    assert.deepEqual(parse('a NOTIFY NONE'), { tag: 'a', name: 'NOTIFY', set: null });
    // RFC 5465 3.1's example, with a fetch-att list and a subtree of one name.
    const r = parse('a notify set status (selected (MessageNew (uid body.peek[header.fields (from to subject)]) messageexpunge)) (subtree Lists (MessageNew MessageExpunge)) (mailboxes (a "b c") NONE)');
    assert.equal(r.name, 'NOTIFY');
    if (r.name !== 'NOTIFY' || !r.set) return;
    assert.equal(r.set.status, true);
    assert.deepEqual(r.set.groups.map((g) => g.filter), [{ kind: 'selected' }, { kind: 'subtree', mailboxes: ['Lists'] }, { kind: 'mailboxes', mailboxes: ['a', 'b c'] }]);
    assert.deepEqual(r.set.groups[0]!.events!.map((e) => e.name), ['MessageNew', 'MessageExpunge']);
    assert.equal(r.set.groups[0]!.events![0]!.fetchAtts!.length, 2);
    assert.equal(r.set.groups[2]!.events, null);
    // An unknown event is an event-ext atom: kept for the handler's BADEVENT.
    const x = parse('a NOTIFY SET (personal (Future))');
    assert.ok(x.name === 'NOTIFY' && x.set?.groups[0]!.events![0]!.name === 'Future');
    for (const bad of ['a NOTIFY', 'a NOTIFY SET', 'a NOTIFY SET ()', 'a NOTIFY SET (personal ())', 'a NOTIFY SET (nowhere (MessageNew))', 'a NOTIFY SET (personal MessageNew)', 'a NOTIFY SET (subtree (MessageNew))', 'a NOTIFY NONE x']) {
      assert.throws(() => parse(bad), ImapSyntaxError, bad);
    }
  });

  it('reports syntax errors with useful text', () => {
    assert.throws(() => parse('a FETCH 1 (BOGUS)'), (e: unknown) => e instanceof ImapSyntaxError && /unknown fetch attribute BOGUS/.test(e.message));
    assert.throws(() => parse('a STATUS INBOX (MESSAGES'), /expected a space at end of line|expected/);
  });

  it('never throws anything but ImapSyntaxError on mutations of valid commands (fuzz)', () => {
    const seeds = [
      'a UID FETCH 1:* (FLAGS BODY.PEEK[1.HEADER.FIELDS (Subject)]<0.10> BINARY.SIZE[1])',
      'a SEARCH RETURN (ALL) CHARSET UTF-8 OR (FROM "x" SINCE 1-Jan-2020) NOT UID 1:5,$',
      'a STORE 1:3 (UNCHANGEDSINCE 9) +FLAGS.SILENT (\\Seen kw)',
      'a LIST (SUBSCRIBED) "" ("*" "%") RETURN (STATUS (MESSAGES))',
      'a SELECT INBOX (QRESYNC (1 2 1:3 (1 2)))',
      'a APPEND INBOX (\\Seen) "05-Jan-2024 10:00:00 +0100" {3}\r\nabc',
      'a ID ("name" "x" "version" NIL)',
      'a NOTIFY SET STATUS (selected (MessageNew (UID BODY.PEEK[HEADER]) MessageExpunge)) (subtree (a "b c") (MailboxName))',
      'a CREATE "x/y" (USE (\\Drafts))',
      'a AUTHENTICATE PLAIN AGFiYwBkZWY=',
      'a UID SORT RETURN (UPDATE CONTEXT PARTIAL 1:10 COUNT) (REVERSE DATE) UTF-8 UNSEEN',
      'a CANCELUPDATE "t1" "t2"',
    ];
    const alphabet = ' ()[]<>{}"\\*%$:.,+-~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ\r\n\0\x80\xff';
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(fc.tuple(fc.nat(200), fc.nat(3), fc.constantFrom(...alphabet.split(''))), { maxLength: 6 }),
        (seed, muts) => {
          let s = seed;
          for (const [pos, op, ch] of muts) {
            const p = pos % (s.length + 1);
            if (op === 0) s = s.slice(0, p) + ch + s.slice(p);
            else if (op === 1) s = s.slice(0, p) + s.slice(p + 1);
            else if (op === 2) s = s.slice(0, p) + ch + s.slice(p + 1);
            else s = s.slice(0, p) + s.slice(p, p + 5).repeat(3) + s.slice(p + 5);
          }
          const r = new CommandReader(DEFAULT_READER_LIMITS);
          r.push(Buffer.from(s + '\r\n', 'latin1'));
          for (let e = r.next(), n = 0; e && n < 100; e = r.next(), n++) {
            if (e.kind === 'message-literal') r.acceptMessage();
            if (e.kind !== 'command') continue;
            try {
              parseCommand(e.parts);
            } catch (err) {
              if (!(err instanceof ImapSyntaxError)) throw err;
              assert.ok(err.message.length > 5);
            }
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('modified UTF-7', () => {
  it('round-trips and matches RFC 3501 examples', () => {
    assert.equal(encodeMutf7('~peter/mail/台北/日本語'), '~peter/mail/&U,BTFw-/&ZeVnLIqe-');
    assert.equal(decodeMutf7('&U,BTFw-'), '台北');
    assert.equal(encodeMutf7('A&B'), 'A&-B');
    assert.throws(() => decodeMutf7('&AGE-'));
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (s) => assert.equal(decodeMutf7(encodeMutf7(s)), s)));
  });
});
