// CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267 4) over a real socket: the RFC's examples as transcripts,
// updates caused by this session and by another one (new mail, flag changes, expunges, during IDLE
// too), the order of REMOVEFROM/ADDTO against EXPUNGE and EXISTS, SORT positions checked by a client
// that applies every update to its copy of the results and compares it with a fresh answer, with
// QRESYNC, UIDONLY and CONDSTORE; the limit (NOUPDATE), CANCELUPDATE, bad syntax, and python3 imaplib.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { MAX_UPDATE_CONTEXTS } from '../../src/imap/proto/limits.js';
import { message, PASSWORD, startHarness, USER, type Client, type Harness, type Reply } from './harness.js';

/** A command under a tag of our own (the RFC's examples use B01 and the like). */
async function tagged(c: Client, tag: string, command: string): Promise<Reply> {
  c.write(`${tag} ${command}\r\n`);
  return c.reply(tag);
}

/** APPEND with a Date field and an INTERNALDATE, so SORT (DATE) and (ARRIVAL) are known. */
async function appendDated(c: Client, mailbox: string, subject: string, day: number, flags = ''): Promise<void> {
  const d = String(day).padStart(2, '0');
  const msg = Buffer.from(`From: a@example.org\r\nSubject: ${subject}\r\nDate: ${d} Jan 2024 10:00:00 +0000\r\n\r\nbody of ${subject}\r\n`);
  const tag = c.nextTag();
  c.write(`${tag} APPEND ${mailbox} ${flags ? `(${flags}) ` : ''}"${d}-Feb-2024 10:00:00 +0000" {${msg.length}}\r\n`);
  assert.match(await c.readLine(), /^\+/);
  c.write(Buffer.concat([msg, Buffer.from('\r\n')]));
  const r = await c.reply(tag);
  assert.equal(r.status, 'OK', r.text);
}

/** The numbers of a sequence set in the order written (ranges ascending, RFC 5267 3.2). */
function expand(set: string): number[] {
  const out: number[] = [];
  for (const part of set.split(',')) {
    const [a, b] = part.split(':').map(Number) as [number, number?];
    if (b === undefined) out.push(a);
    else for (let i = Math.min(a, b); i <= Math.max(a, b); i++) out.push(i);
  }
  return out;
}

/** The ALL of an ESEARCH answer (empty when there is none). */
function allOf(r: Reply, tag: string): number[] {
  const line = r.untagged.find((l) => l.startsWith(`* ESEARCH (TAG "${tag}")`));
  assert.ok(line, r.untagged.join('\n'));
  const m = / ALL (\S+)/.exec(line);
  return m ? expand(m[1]!) : [];
}

/**
 * A client's copy of a kept result: applies ADDTO/REMOVEFROM in the order they come (RFC 5267
 * 4.3.2), and, for message numbers, EXPUNGE's renumbering; a REMOVEFROM at a position must name
 * what is there, an EXPUNGE must not find a number still in the result (REMOVEFROM comes first).
 */
class Kept {
  constructor(
    readonly tag: string,
    public list: number[],
    readonly sorted: boolean,
    readonly uid: boolean,
  ) {}

  apply(lines: string[]): void {
    for (const line of lines) {
      const exp = /^\* (\d+) EXPUNGE$/.exec(line);
      if (exp && !this.uid) {
        const n = Number(exp[1]);
        assert.ok(!this.list.includes(n), `${this.tag}: EXPUNGE ${n} of a message still in the result ${this.list}`);
        this.list = this.list.map((x) => (x > n ? x - 1 : x));
        continue;
      }
      const m = /^\* ESEARCH \(TAG "([^"]+)"\)( UID)?(.*)$/.exec(line);
      if (!m || m[1] !== this.tag) continue;
      assert.equal(Boolean(m[2]), this.uid, line);
      for (const item of m[3]!.matchAll(/ (ADDTO|REMOVEFROM) \(([^)]*)\)/g)) {
        const words = item[2]!.split(' ');
        for (let i = 0; i < words.length; i += 2) {
          const pos = Number(words[i]);
          const nums = expand(words[i + 1]!);
          if (item[1] === 'ADDTO') {
            if (pos === 0) this.list = [...this.list, ...nums].sort((a, b) => a - b);
            else {
              assert.ok(pos <= this.list.length + 1, `${line}: position ${pos} past the end`);
              this.list.splice(pos - 1, 0, ...nums);
            }
          } else if (pos === 0) {
            for (const n of nums) assert.ok(this.list.includes(n), `${line}: ${n} not in ${this.list}`);
            this.list = this.list.filter((x) => !nums.includes(x));
          } else {
            assert.deepEqual(this.list.slice(pos - 1, pos - 1 + nums.length), nums, `${line} against ${this.list}`);
            this.list.splice(pos - 1, nums.length);
          }
        }
      }
    }
  }
}

const esearchLines = (r: Reply): string[] => r.untagged.filter((l) => l.startsWith('* ESEARCH'));

describe('CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267 4)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.close();
  });

  /** Two sessions with `mailbox` selected, filled by `fill` (n plain messages by default). */
  async function twoSessions(mailbox: string, fill: number | ((c: Client) => Promise<void>), qresync = false): Promise<[Client, Client]> {
    const a = await h.client();
    const b = await h.client();
    await a.ok(`CREATE ${mailbox}`);
    if (typeof fill === 'number') for (let i = 1; i <= fill; i++) await a.append(mailbox, message(`${mailbox}${i}`));
    else await fill(a);
    if (qresync) await a.ok('ENABLE QRESYNC');
    await a.ok(`SELECT ${mailbox}`);
    await b.ok(`SELECT ${mailbox}`);
    return [a, b];
  }

  it('advertises CONTEXT=SEARCH and CONTEXT=SORT', async () => {
    const c = await h.client();
    const caps = (await c.ok('CAPABILITY')).untagged[0]!.split(' ');
    for (const cap of ['CONTEXT=SEARCH', 'CONTEXT=SORT', 'ESORT', 'ESEARCH', 'SORT']) assert.ok(caps.includes(cap), cap);
    c.destroy();
  });

  it('the RFC 5267 examples: CONTEXT hint, UPDATE with COUNT, tag reuse, ADDTO, REMOVEFROM, CANCELUPDATE, PARTIAL', async () => {
    const c = await h.client();
    await c.ok('CREATE rfc');
    for (let i = 1; i <= 6; i++) await c.append('rfc', message(`m${i}`), i === 2 ? '\\Deleted $Junk' : i === 6 ? '$Junk' : '');
    await c.ok('SELECT rfc');
    // UIDs 1..6 are messages 1..6. 4.2: the CONTEXT hint changes nothing in the answer.
    let r = await tagged(c, 'A01', 'SEARCH RETURN (CONTEXT COUNT) UNDELETED UNKEYWORD $Junk');
    assert.deepEqual(r.untagged, ['* ESEARCH (TAG "A01") COUNT 4']);
    // 4.3: UPDATE with COUNT, then the same tag with UPDATE again is BAD and has no effect.
    r = await tagged(c, 'B01', 'UID SEARCH RETURN (UPDATE COUNT) DELETED KEYWORD $Junk');
    assert.deepEqual(r.untagged, ['* ESEARCH (TAG "B01") UID COUNT 1']);
    assert.equal(r.status, 'OK');
    r = await tagged(c, 'B01', 'SORT RETURN (UPDATE) (DATE) UTF-8 FLAGGED');
    assert.equal(r.status, 'BAD');
    assert.deepEqual(r.untagged, []);
    // 4.3.3: messages 3 and 4 come to match: the FETCHes, then one ADDTO in set syntax.
    r = await c.ok('STORE 3:4 +FLAGS ($Junk \\Deleted)');
    assert.deepEqual(r.untagged.slice(-1), ['* ESEARCH (TAG "B01") UID ADDTO (0 3:4)']);
    assert.ok(r.untagged.findIndex((l) => l.startsWith('* 4 FETCH')) < r.untagged.length - 1, r.untagged.join('\n'));
    // 4.3.4: an expunged member: REMOVEFROM before the EXPUNGE it would renumber.
    r = await c.ok('EXPUNGE');
    assert.deepEqual(r.untagged, ['* ESEARCH (TAG "B01") UID REMOVEFROM (0 2:4)', '* 4 EXPUNGE', '* 3 EXPUNGE', '* 2 EXPUNGE']);
    // 4.3.5: after CANCELUPDATE, no more updates.
    r = await tagged(c, 'B04', 'CANCELUPDATE "B01"');
    assert.equal(r.status, 'OK');
    r = await c.ok('STORE 1 +FLAGS ($Junk \\Deleted)');
    assert.deepEqual(esearchLines(r), []);
    // The tag is free again.
    r = await tagged(c, 'B01', 'SEARCH RETURN (UPDATE) DELETED');
    assert.deepEqual(r.untagged, ['* ESEARCH (TAG "B01")']);
    // 4.4: PARTIAL ranges past the end, and in either order.
    r = await tagged(c, 'A02', 'UID SEARCH RETURN (PARTIAL 2:10) ALL');
    assert.deepEqual(r.untagged, ['* ESEARCH (TAG "A02") UID PARTIAL (2:10 5:6)']);
    r = await tagged(c, 'A04', 'UID SEARCH RETURN (PARTIAL 30:24) ALL');
    assert.deepEqual(r.untagged, ['* ESEARCH (TAG "A04") UID PARTIAL (24:30 NIL)']);
    // UPDATE and PARTIAL do not interact (4.4): the updates cover every match.
    r = await tagged(c, 'A05', 'UID SEARCH RETURN (UPDATE PARTIAL 1:1) UNFLAGGED');
    assert.deepEqual(r.untagged, ['* ESEARCH (TAG "A05") UID PARTIAL (1:1 1)']);
    r = await c.ok('STORE 3 +FLAGS (\\Flagged)');
    assert.deepEqual(esearchLines(r), ['* ESEARCH (TAG "A05") UID REMOVEFROM (0 6)']);
    // A FETCH that sets \Seen changes an UNSEEN result before its tagged OK.
    r = await tagged(c, 'A06', 'SEARCH RETURN (UPDATE ALL) UNSEEN');
    assert.deepEqual(r.untagged, ['* ESEARCH (TAG "A06") ALL 1:3']);
    r = await c.ok('FETCH 2 (BODY[TEXT])');
    assert.deepEqual(esearchLines(r), ['* ESEARCH (TAG "A06") REMOVEFROM (0 2)']);
    c.destroy();
  });

  it('changes by another session: ADDTO after EXISTS and FETCH, REMOVEFROM before EXPUNGE, also in IDLE', async () => {
    const [a, b] = await twoSessions('two', 4);
    let r = await tagged(a, 'U1', 'SEARCH RETURN (UPDATE ALL) UNSEEN');
    assert.deepEqual(r.untagged, ['* ESEARCH (TAG "U1") ALL 1:4']);
    r = await tagged(a, 'U2', 'UID SEARCH RETURN (UPDATE COUNT) FLAGGED');
    assert.deepEqual(r.untagged, ['* ESEARCH (TAG "U2") UID COUNT 0']);

    await b.append('two', message('t5'));
    r = await a.ok('NOOP');
    assert.deepEqual(r.untagged.filter((l) => !l.endsWith('RECENT')), ['* 5 EXISTS', '* ESEARCH (TAG "U1") ADDTO (0 5)']);
    await b.ok('STORE 2 +FLAGS (\\Seen \\Flagged)');
    r = await a.ok('NOOP');
    assert.match(r.untagged[0]!, /^\* 2 FETCH \(FLAGS /);
    assert.deepEqual(r.untagged.slice(1), ['* ESEARCH (TAG "U1") REMOVEFROM (0 2)', '* ESEARCH (TAG "U2") UID ADDTO (0 2)']);
    // Flags that change nothing for a result: no ESEARCH.
    await b.ok('STORE 3 +FLAGS ($Label)');
    r = await a.ok('NOOP');
    assert.deepEqual(esearchLines(r), []);

    // RFC 9051 7.5.1 holds the EXPUNGE back during FETCH; the REMOVEFROM goes at once (RFC 5267
    // A.3), its number still valid, and the EXPUNGE follows later.
    await b.ok('STORE 1,3 +FLAGS (\\Deleted)');
    await b.ok('EXPUNGE');
    r = await a.ok('FETCH 1 (FLAGS)');
    assert.deepEqual(esearchLines(r), ['* ESEARCH (TAG "U1") REMOVEFROM (0 1,3)']);
    assert.ok(!r.untagged.some((l) => l.endsWith('EXPUNGE')), r.untagged.join('\n'));
    r = await a.ok('NOOP');
    assert.deepEqual(r.untagged, ['* 3 EXPUNGE', '* 1 EXPUNGE']);

    // IDLE: the update goes out as the change comes.
    const tag = a.nextTag();
    a.write(`${tag} IDLE\r\n`);
    assert.match(await a.readLine(), /^\+ /);
    await b.ok('UID STORE 4 +FLAGS (\\Flagged)');
    assert.match(await a.readLine(), /^\* 2 FETCH \(FLAGS \((\\Recent )?\\Flagged\)\)$/);
    assert.equal(await a.readLine(), '* ESEARCH (TAG "U2") UID ADDTO (0 4)');
    a.write('DONE\r\n');
    assert.equal((await a.reply(tag)).status, 'OK');

    // 4.3: updates end when the mailbox is no longer selected, also on a new SELECT of it.
    await a.ok('SELECT two');
    await b.append('two', message('t6'));
    r = await a.ok('NOOP');
    assert.deepEqual(esearchLines(r), []);
    r = await tagged(a, 'U1', 'SEARCH RETURN (UPDATE) UNSEEN');
    assert.equal(r.status, 'OK');
    await a.ok('UNSELECT');
    await a.ok('SELECT two');
    await b.ok('STORE 1 +FLAGS (\\Seen)');
    r = await a.ok('NOOP');
    assert.deepEqual(esearchLines(r), []);
    a.destroy();
    b.destroy();
  });

  it('a result made while an EXPUNGE is held back gets its REMOVEFROM before the EXPUNGE', async () => {
    const [a, b] = await twoSessions('held', 3);
    await tagged(a, 'H1', 'SEARCH RETURN (UPDATE) ALL');
    await b.ok('STORE 2 +FLAGS (\\Deleted)');
    await b.ok('EXPUNGE');
    let r = await a.ok('FETCH 3 (UID)');
    assert.deepEqual(esearchLines(r), ['* ESEARCH (TAG "H1") REMOVEFROM (0 2)']);
    // Message 2 is still numbered for this session, so SEARCH finds it: then its REMOVEFROM.
    r = await tagged(a, 'H2', 'SEARCH RETURN (UPDATE ALL) ALL');
    assert.deepEqual(r.untagged, ['* ESEARCH (TAG "H2") ALL 1:3', '* ESEARCH (TAG "H2") REMOVEFROM (0 2)']);
    r = await a.ok('NOOP');
    assert.deepEqual(r.untagged, ['* 2 EXPUNGE']);
    a.destroy();
    b.destroy();
  });

  it('message numbers and $ in the program are fixed when the command runs (RFC 5267 4.3)', async () => {
    const [a, b] = await twoSessions('fixed', 4);
    await a.ok('SEARCH RETURN (SAVE) 3');
    let r = await tagged(a, 'N1', 'UID SEARCH RETURN (UPDATE ALL) 1:2 UNFLAGGED');
    assert.deepEqual(r.untagged, ['* ESEARCH (TAG "N1") UID ALL 1:2']);
    r = await tagged(a, 'N2', 'UID SEARCH RETURN (UPDATE ALL) OR OR $ 4 FLAGGED');
    assert.deepEqual(r.untagged, ['* ESEARCH (TAG "N2") UID ALL 3:4']);
    // Message 1 goes: UID 3 becomes message 2, but N1 still means UIDs 1 and 2.
    await b.ok('STORE 1 +FLAGS (\\Deleted)');
    await b.ok('EXPUNGE');
    r = await a.ok('NOOP');
    assert.deepEqual(r.untagged, ['* ESEARCH (TAG "N1") UID REMOVEFROM (0 1)', '* 1 EXPUNGE']);
    await a.ok('SEARCH RETURN (SAVE) 1');
    await b.ok('UID STORE 2:4 -FLAGS (\\Flagged)');
    await b.append('fixed', message('f5'));
    r = await a.ok('NOOP');
    assert.deepEqual(esearchLines(r), []);
    await b.ok('UID STORE 2 +FLAGS (\\Flagged)');
    r = await a.ok('NOOP');
    assert.deepEqual(esearchLines(r), ['* ESEARCH (TAG "N1") UID REMOVEFROM (0 2)', '* ESEARCH (TAG "N2") UID ADDTO (0 2)']);
    a.destroy();
    b.destroy();
  });

  it('SORT positions (RFC 5267 4.3.3, 4.3.4): a client applying every update keeps the fresh answer', async () => {
    // Dates out of arrival order; subjects to sort by.
    const days = [14, 3, 22, 9, 17, 1, 26, 12];
    const [a, b] = await twoSessions('sorted', async (c) => {
      for (let i = 0; i < days.length; i++) await appendDated(c, 'sorted', `s${String.fromCharCode(104 - i)}`, days[i]!);
    });
    const views: { tag: string; cmd: string; sorted: boolean; uid: boolean }[] = [
      { tag: 'S1', cmd: 'UID SORT RETURN (UPDATE ALL) (DATE) UTF-8 UNSEEN', sorted: true, uid: true },
      { tag: 'S2', cmd: 'SORT RETURN (UPDATE ALL) (REVERSE SUBJECT) UTF-8 UNDELETED', sorted: true, uid: false },
      { tag: 'S3', cmd: 'SORT RETURN (UPDATE ALL) (REVERSE ARRIVAL) UTF-8 NOT FLAGGED', sorted: true, uid: false },
      { tag: 'S4', cmd: 'SEARCH RETURN (UPDATE ALL) FLAGGED', sorted: false, uid: false },
      { tag: 'S5', cmd: 'UID SORT RETURN (UPDATE) (SIZE DATE) UTF-8 ALL', sorted: true, uid: true },
    ];
    const kept: Kept[] = [];
    for (const v of views) {
      const r = await tagged(a, v.tag, v.cmd);
      assert.equal(r.status, 'OK', r.text);
      kept.push(new Kept(v.tag, v.cmd.includes('UPDATE ALL') ? allOf(r, v.tag) : [], v.sorted, v.uid));
    }
    // S5 asked for no ALL: its copy starts from a separate answer.
    kept[4]!.list = allOf(await a.ok('UID SORT RETURN (ALL) (SIZE DATE) UTF-8 ALL'), lastTagOf(a));

    // A fixed pseudo-random walk of changes by the other session.
    let seed = 7;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);
    let next = 0;
    for (let round = 0; round < 14; round++) {
      const exists = await count(b);
      switch (round % 4) {
        case 0:
          for (let k = 0; k <= rnd(3); k++) await appendDated(b, 'sorted', `n${next++}${'x'.repeat(rnd(5))}`, 1 + rnd(27), rnd(2) ? '\\Seen' : '');
          break;
        case 1:
          await b.ok(`STORE ${1 + rnd(exists)},${1 + rnd(exists)} ${rnd(2) ? '+' : '-'}FLAGS (\\Seen)`);
          await b.ok(`STORE ${1 + rnd(exists)} +FLAGS (\\Flagged)`);
          break;
        case 2: {
          const first = 1 + rnd(exists);
          await b.ok(`STORE ${first}:${Math.min(exists, first + rnd(3))} +FLAGS (\\Deleted)`);
          await b.ok('EXPUNGE');
          break;
        }
        case 3:
          await b.ok(`STORE ${1 + rnd(exists)} -FLAGS (\\Flagged \\Seen)`);
          await appendDated(b, 'sorted', `n${next++}`, 1 + rnd(27));
          break;
      }
      // Sometimes a FETCH first (EXPUNGE held back, REMOVEFROM not), then NOOP.
      const lines: string[] = [];
      if (round % 3 === 1) lines.push(...(await a.ok('FETCH 1 (UID)')).untagged);
      lines.push(...(await a.ok('NOOP')).untagged);
      for (const k of kept) k.apply(lines);
      for (let i = 0; i < views.length; i++) {
        const fresh = views[i]!.cmd.replace('UPDATE ALL', 'ALL').replace('UPDATE', 'ALL');
        const r = await a.ok(fresh);
        assert.deepEqual(kept[i]!.list, allOf(r, lastTagOf(a)), `round ${round}, ${views[i]!.tag}: ${lines.join(' | ')}`);
      }
    }
    a.destroy();
    b.destroy();
  });

  it('QRESYNC: REMOVEFROM before VANISHED; UIDONLY: UID contexts only, updates before VANISHED', async () => {
    const [a, b] = await twoSessions('qr', 3, true);
    let r = await tagged(a, 'Q1', 'UID SEARCH RETURN (UPDATE) ALL');
    await b.ok('STORE 2 +FLAGS (\\Deleted)');
    await b.ok('EXPUNGE');
    r = await a.ok('NOOP');
    assert.deepEqual(r.untagged, ['* ESEARCH (TAG "Q1") UID REMOVEFROM (0 2)', '* VANISHED 2']);
    a.destroy();

    const u = await h.client();
    await u.ok('ENABLE UIDONLY');
    await u.ok('SELECT qr');
    r = await tagged(u, 'W1', 'SEARCH RETURN (UPDATE) ALL');
    assert.equal(r.status, 'BAD');
    assert.match(r.text, /^\[UIDREQUIRED\]/);
    r = await tagged(u, 'W2', 'UID SORT RETURN (UPDATE ALL) (REVERSE SUBJECT) UTF-8 UNSEEN');
    assert.deepEqual(r.untagged, ['* ESEARCH (TAG "W2") UID ALL 3,1']);
    await b.append('qr', message('qr4'));
    await b.ok('UID STORE 1 +FLAGS (\\Deleted \\Seen)');
    await b.ok('EXPUNGE');
    r = await u.ok('NOOP');
    const lines = r.untagged.filter((l) => !l.endsWith('RECENT'));
    assert.deepEqual(lines, ['* ESEARCH (TAG "W2") UID REMOVEFROM (2 1)', '* VANISHED 1', '* 2 EXISTS', '* ESEARCH (TAG "W2") UID ADDTO (1 4)']);
    u.destroy();
    b.destroy();
  });

  it('CONDSTORE: a MODSEQ program follows mod-sequences; SORT RETURN (MIN)/(MAX) report the returned message\'s (RFC 7162 3.1.5)', async () => {
    const [a, b] = await twoSessions('ms', async (c) => {
      for (const [i, day] of [3, 1, 2].entries()) await appendDated(c, 'ms', `ms${i}`, day);
    });
    await a.ok('STORE 1 +FLAGS (\\Seen)');
    await a.ok('STORE 3 +FLAGS (\\Answered)');
    const f = await a.ok('FETCH 1:3 (MODSEQ)');
    const ms = f.untagged.filter((l) => l.includes('FETCH')).map((l) => Number(/MODSEQ \((\d+)\)/.exec(l)![1]));
    // By date the order is 2 (Jan 1), 3 (Jan 2), 1 (Jan 3); message 1 has the highest MODSEQ but 3.
    assert.ok(ms[0]! < ms[2]!, String(ms));
    let r = await a.ok('SORT RETURN (MIN) (DATE) UTF-8 MODSEQ 1');
    assert.match(r.untagged[0]!, new RegExp(`^\\* ESEARCH \\(TAG "t\\d+"\\) MIN 2 MODSEQ ${ms[1]}$`));
    r = await a.ok('UID SORT RETURN (MAX) (DATE) UTF-8 MODSEQ 1');
    assert.match(r.untagged[0]!, new RegExp(`^\\* ESEARCH \\(TAG "t\\d+"\\) UID MAX 1 MODSEQ ${ms[0]}$`));
    r = await a.ok('SORT RETURN (MIN MAX) (REVERSE DATE) UTF-8 MODSEQ 1');
    assert.match(r.untagged[0]!, new RegExp(` MIN 1 MAX 2 MODSEQ ${Math.max(ms[0]!, ms[1]!)}$`));
    r = await a.ok('SORT RETURN (COUNT) (DATE) UTF-8 MODSEQ 1');
    assert.match(r.untagged[0]!, new RegExp(` COUNT 3 MODSEQ ${Math.max(...ms)}$`));
    r = await a.ok('SORT RETURN (PARTIAL 2:2) (DATE) UTF-8 MODSEQ 1');
    assert.match(r.untagged[0]!, new RegExp(` PARTIAL \\(2:2 3\\) MODSEQ ${ms[2]}$`));
    // A context on "changed since now": a flag change elsewhere brings the message in.
    const top = Math.max(...ms);
    r = await tagged(a, 'M1', `UID SEARCH RETURN (UPDATE COUNT) MODSEQ ${top + 1}`);
    assert.deepEqual(r.untagged, ['* ESEARCH (TAG "M1") UID COUNT 0']);
    await b.ok('STORE 2 +FLAGS (\\Flagged)');
    r = await a.ok('NOOP');
    assert.deepEqual(esearchLines(r), ['* ESEARCH (TAG "M1") UID ADDTO (0 2)']);
    a.destroy();
    b.destroy();
  });

  it(`limits: ${MAX_UPDATE_CONTEXTS} kept results per session, the next gets NOUPDATE and its answer; CANCELUPDATE frees one`, async () => {
    const c = await h.client();
    await c.ok('CREATE lim');
    await c.append('lim', message('l1'));
    await c.ok('SELECT lim');
    for (let i = 0; i < MAX_UPDATE_CONTEXTS; i++) {
      const r = await tagged(c, `L${i}`, i % 2 ? 'UID SORT RETURN (UPDATE COUNT) (DATE) UTF-8 ALL' : 'SEARCH RETURN (UPDATE COUNT) ALL');
      assert.deepEqual(r.untagged, [`* ESEARCH (TAG "L${i}")${i % 2 ? ' UID' : ''} COUNT 1`]);
    }
    // RFC 5267 4.3.1: the other return options are still honoured.
    let r = await tagged(c, 'LX', 'SEARCH RETURN (UPDATE COUNT) ALL');
    assert.equal(r.status, 'OK');
    assert.deepEqual(r.untagged[0], '* ESEARCH (TAG "LX") COUNT 1');
    assert.match(r.untagged[1]!, /^\* NO \[NOUPDATE "LX"\] /);
    r = await tagged(c, 'LY', 'UID SORT RETURN (UPDATE ALL) (DATE) UTF-8 ALL');
    assert.match(r.untagged[1]!, /^\* NO \[NOUPDATE "LY"\] /);
    // Only the kept ones are updated; LX is not.
    r = await c.ok('STORE 1 +FLAGS (\\Seen)');
    assert.equal(esearchLines(r).length, 0);
    const lines = [...(await c.append('lim', message('l2'))).untagged, ...(await c.ok('NOOP')).untagged];
    assert.equal(lines.filter((l) => l.startsWith('* ESEARCH')).length, MAX_UPDATE_CONTEXTS, lines.join('\n'));
    assert.ok(!lines.some((l) => l.includes('"LX"') || l.includes('"LY"')));
    await tagged(c, 'C1', 'CANCELUPDATE "L0" "L1"');
    r = await tagged(c, 'LZ', 'SEARCH RETURN (UPDATE) ALL');
    assert.deepEqual(r.untagged, ['* ESEARCH (TAG "LZ")']);
    c.destroy();
  });

  it('bad syntax and unknown tags are BAD, the session goes on', async () => {
    const c = await h.client();
    await c.bad('CANCELUPDATE "x"'); // not selected
    await c.ok('CREATE badctx');
    await c.append('badctx', message('b1'));
    await c.ok('SELECT badctx');
    await tagged(c, 'K1', 'SEARCH RETURN (UPDATE) ALL');
    for (const bad of [
      'CANCELUPDATE', 'CANCELUPDATE ', 'CANCELUPDATE "nosuch"', 'CANCELUPDATE "K1" "nosuch"', 'CANCELUPDATE K1 (x)',
      'SEARCH RETURN (UPDATE ALL PARTIAL 1:2) ALL', 'SEARCH RETURN (PARTIAL 1:2 ALL) ALL', 'SEARCH RETURN (UPDATES) ALL',
      'SORT RETURN (UPDATE PARTIAL 1:*) (DATE) UTF-8 ALL', 'ESEARCH RETURN (UPDATE) ALL', 'ESEARCH IN (personal) RETURN (UPDATE COUNT) ALL',
    ]) {
      await c.bad(bad);
    }
    // "K1" survived the failed CANCELUPDATE that named it with an unknown tag.
    const r = await c.ok('STORE 1 +FLAGS (\\Deleted)');
    assert.deepEqual(esearchLines(r), []);
    const lines = [...(await c.append('badctx', message('b2'))).untagged, ...(await c.ok('NOOP')).untagged];
    assert.deepEqual(lines.filter((l) => l.startsWith('* ESEARCH')), [`* ESEARCH (TAG "K1") ADDTO (0 2)`]);
    assert.equal((await tagged(c, 'K2', 'CANCELUPDATE "K1"')).status, 'OK');
    c.destroy();
  });

  it('python3 imaplib: RETURN (UPDATE) answers, updates as untagged ESEARCH, CANCELUPDATE, BAD', async () => {
    const c = await h.client();
    await c.ok('CREATE py');
    for (let i = 1; i <= 3; i++) await c.append('py', message(`p${i}`));
    const script = `
import imaplib, ssl
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
m = imaplib.IMAP4_SSL('127.0.0.1', ${h.tlsPort}, ssl_context=ctx)
m.login('${USER}', '${PASSWORD}')
print('caps', 'CONTEXT=SEARCH' in m.capabilities, 'CONTEXT=SORT' in m.capabilities)
m.select('py')
btag = m._new_tag()
tag = btag.decode()
m.send(('%s UID SEARCH RETURN (UPDATE ALL) UNSEEN\\r\\n' % tag).encode())
print('search', m._get_tagged_response(btag)[0], m.untagged_responses.pop('ESEARCH', None))
print('store', m.store('2', '+FLAGS', '\\\\Seen')[0])
print('esearch', m.untagged_responses.pop('ESEARCH', None))
print('sort', m.uid('SORT', 'RETURN (UPDATE MIN)', '(SUBJECT)', 'UTF-8', 'ALL')[0], m.untagged_responses.pop('ESEARCH', None))
m.append('py', None, None, b'Subject: p4\\r\\n\\r\\nnew\\r\\n')
print('noop', m.noop()[0], sorted(x.decode() for x in m.untagged_responses.pop('ESEARCH', [])))
print('cancel', m.xatom('CANCELUPDATE', '"%s"' % tag)[0])
try:
    m.xatom('CANCELUPDATE', '"%s"' % tag)
except m.error as e:
    print('bad', e)
print('noop2', m.noop()[0])
m.logout()
`;
    const { stdout } = await promisify(execFile)('python3', ['-c', script], { timeout: 20000 });
    assert.match(stdout, /^caps True True$/m);
    assert.match(stdout, /^search OK \[b'\(TAG "\S+"\) UID ALL 1:3'\]$/m);
    assert.match(stdout, /^store OK$/m);
    assert.match(stdout, /^esearch \[b'\(TAG "\S+"\) UID REMOVEFROM \(0 2\)'\]$/m);
    assert.match(stdout, /^sort OK \[b'\(TAG "\S+"\) UID MIN 1'\]$/m);
    assert.match(stdout, /^noop OK \['\(TAG "\S+"\) UID ADDTO \(0 4\)', '\(TAG "\S+"\) UID ADDTO \(4 4\)'\]$/m);
    assert.match(stdout, /^cancel OK$/m);
    assert.match(stdout, /^bad CANCELUPDATE command error: BAD /m);
    assert.match(stdout, /^noop2 OK$/m);
    c.destroy();
  });
});

/** The tag the client used last (Client numbers them t1, t2, ...). */
function lastTagOf(c: Client): string {
  const t = c.nextTag();
  return `t${Number(t.slice(1)) - 1}`;
}

async function count(c: Client): Promise<number> {
  const r = await c.ok('SEARCH RETURN (COUNT) ALL');
  return Number(/COUNT (\d+)/.exec(r.untagged.join(' '))![1]);
}
