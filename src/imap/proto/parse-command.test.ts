import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CommandReader, type CommandPart } from './command-reader.js';
import { DEFAULT_READER_LIMITS } from './limits.js';
import { parseAppendNext, parseMessagePrefix, parseCommand } from './parse-command.js';
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
    assert.deepEqual(first, { tag: 'a', mailbox: 'INBOX', message: whole.messages[0], replace: null });
    let utf8 = first.message.utf8;
    for (let k = 1; k < lits.length; k++) {
      const m = parseAppendNext(lits[k]!.text, lits[k]!.literal.size, lits[k]!.literal.binary, utf8);
      assert.deepEqual(m, whole.messages[k], `message ${k + 1}`);
      utf8 = m.utf8;
    }
    assert.equal(whole.messages.length, 5);
    assert.equal(whole.messages[3]!.internalDate!.toISOString(), '2024-02-08T05:29:59.000Z');
    // A bad flag list or date in a later message is a syntax error there, as in the whole command.
    assert.throws(() => parseAppendNext(Buffer.from(' (\\Seen "x'), 3, false, false), ImapSyntaxError);
    assert.throws(() => parseAppendNext(Buffer.from(' "31-Foo-2024 10:00:00 +0000" '), 3, false, false), ImapSyntaxError);
    // After UTF8 (~{n}) the text must close it.
    assert.throws(() => parseAppendNext(Buffer.from(' {3}'), 3, false, true), ImapSyntaxError);
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
      'a CREATE "x/y" (USE (\\Drafts))',
      'a AUTHENTICATE PLAIN AGFiYwBkZWY=',
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
