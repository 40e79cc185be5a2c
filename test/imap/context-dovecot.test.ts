// CONTEXT=SEARCH (RFC 5267 4) compared with Dovecot (Debian 12: 2.3.19, which advertises it): one
// script of commands in two sessions on each server, a session keeping searches current while the
// other changes flags, appends and expunges; the ESEARCH lines (answers and ADDTO/REMOVEFROM
// updates) and the statuses must be the same, apart from the differences listed in KNOWN.
// (Dovecot does not advertise CONTEXT=SORT, so SORT contexts are not compared.)
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DOVECOT_PASSWORD, DOVECOT_USER } from '../imap-client/dovecot.js';
import { message, PASSWORD, tlsLogin, USER } from './harness.js';
import { comparedWithDovecot } from './harness-dovecot.js';

type Step = { who: 'a' | 'b'; cmd: string } | { who: 'b'; append: string };

const SCRIPT: Step[] = [
  { who: 'a', cmd: 'SELECT ctx' },
  { who: 'b', cmd: 'SELECT ctx' },
  { who: 'a', cmd: 'SEARCH RETURN (UPDATE COUNT) UNSEEN' },
  { who: 'a', cmd: 'UID SEARCH RETURN (UPDATE ALL) FLAGGED' },
  { who: 'a', cmd: 'SEARCH RETURN (UPDATE MIN MAX) UNDELETED' },
  { who: 'a', cmd: 'UID SEARCH RETURN (CONTEXT COUNT) ALL' },
  { who: 'a', cmd: 'SEARCH RETURN (UPDATE) OR SEEN 1:2' },
  { who: 'b', cmd: 'STORE 2 +FLAGS (\\Seen)' },
  { who: 'a', cmd: 'NOOP' },
  { who: 'b', cmd: 'STORE 1:3 +FLAGS (\\Flagged)' },
  { who: 'a', cmd: 'NOOP' },
  { who: 'b', append: 'new one' },
  { who: 'a', cmd: 'NOOP' },
  { who: 'b', cmd: 'STORE 4 +FLAGS (\\Deleted)' },
  { who: 'a', cmd: 'NOOP' },
  { who: 'b', cmd: 'EXPUNGE' },
  { who: 'a', cmd: 'NOOP' },
  { who: 'b', cmd: 'STORE 1 -FLAGS (\\Flagged)' },
  { who: 'b', cmd: 'STORE 5 +FLAGS (\\Seen \\Flagged)' },
  { who: 'a', cmd: 'NOOP' },
  { who: 'a', cmd: 'UID SEARCH RETURN (UPDATE PARTIAL 1:2) ALL' },
  { who: 'b', append: 'another' },
  { who: 'b', cmd: 'STORE 1:2 +FLAGS (\\Deleted)' },
  { who: 'b', cmd: 'EXPUNGE' },
  { who: 'a', cmd: 'UID FETCH 1:* (FLAGS)' },
  { who: 'a', cmd: 'NOOP' },
  { who: 'a', cmd: 'SEARCH RETURN (ALL PARTIAL 1:2) ALL' },
  { who: 'a', cmd: 'NOOP' },
  // An expunge while a FETCH holds EXPUNGE back (RFC 9051 7.5.1).
  { who: 'b', cmd: 'STORE 2 +FLAGS (\\Deleted)' },
  { who: 'b', cmd: 'EXPUNGE' },
  { who: 'a', cmd: 'FETCH 1 (FLAGS)' },
  { who: 'a', cmd: 'CHECK' },
  { who: 'a', cmd: 'CANCELUPDATE "t10" "t13"' },
  { who: 'b', cmd: 'STORE 1:* -FLAGS (\\Flagged \\Seen)' },
  { who: 'a', cmd: 'NOOP' },
  // Up to the limit of ten (both servers), then NOUPDATE.
  ...Array.from({ length: 8 }, () => ({ who: 'a' as const, cmd: 'SEARCH RETURN (UPDATE COUNT) SEEN' })),
  { who: 'b', append: 'last' },
  { who: 'b', cmd: 'STORE 1 +FLAGS (\\Seen)' },
  { who: 'a', cmd: 'UID SEARCH RETURN (MIN) ALL' },
];

/** Commands whose lines differ on purpose, with the reason. */
const KNOWN: { cmd: string; reason: string }[] = [
  // RFC 5267 Appendix A.3: an expunge changes a kept result at once, the numbering later. Postern
  // sends every REMOVEFROM during the FETCH (numbers still valid); Dovecot only those caused by the
  // \Deleted flag change, and the others with the EXPUNGE at the next command.
  { cmd: 'FETCH 1 (FLAGS)', reason: 'REMOVEFROM for a held-back expunge at once (RFC 5267 A.3)' },
  { cmd: 'CHECK', reason: 'the rest of the same difference' },
  // RFC 5267 4.3.1 shows the untagged NO after the ESEARCH answer; Dovecot sends it before.
  { cmd: 'SEARCH RETURN (UPDATE COUNT) SEEN', reason: 'NOUPDATE after the answer, as in the RFC example' },
  // Flag changes and new mail in one sync: Postern sends the flag updates with the FETCH and the
  // ADDTO for new mail after the EXISTS (RFC 5267 4.3.2); Dovecot one line per context after both.
  { cmd: 'UID SEARCH RETURN (MIN) ALL', reason: 'updates with their FETCH and EXISTS, not merged' },
];

/** Runs the script; per step of session a: the status and its ESEARCH lines. */
async function run(port: number, user: string, password: string): Promise<string[]> {
  const a = await tlsLogin(port, user, password);
  const b = await tlsLogin(port, user, password);
  await a.ok('CREATE ctx');
  for (let i = 1; i <= 5; i++) await a.append('ctx', message(`c${i}`), i === 3 ? '\\Seen' : '');
  const out: string[] = [];
  for (const s of SCRIPT) {
    const c = s.who === 'a' ? a : b;
    const r = 'append' in s ? await c.append('ctx', message(s.append)) : await c.cmd(s.cmd);
    if (s.who === 'b') {
      assert.equal(r.status, 'OK', `${'cmd' in s ? s.cmd : 'APPEND'}: ${r.text}`);
      continue;
    }
    const step = 'cmd' in s ? s.cmd : '';
    out.push(`${step} -> ${r.status} ${r.untagged.filter((l) => l.startsWith('* ESEARCH') || l.includes('[NOUPDATE')).join(' | ')}`);
  }
  a.destroy();
  b.destroy();
  return out;
}

/**
 * RFC 5465 7 (NOTIFY with CONTEXT=SEARCH): RETURN (UPDATE (fetch-att...)); a new message that joins
 * is reported as EXISTS, FETCH with the list, ESEARCH ADDTO. The lines of the NOOP after it.
 */
async function updateFetch(port: number, user: string, password: string): Promise<string[]> {
  const a = await tlsLogin(port, user, password);
  const b = await tlsLogin(port, user, password);
  await a.ok('CREATE upd');
  await a.append('upd', message('first'));
  await a.ok('SELECT upd');
  const tag = a.nextTag();
  a.write(`${tag} SEARCH RETURN (COUNT UPDATE (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])) SUBJECT "boss"\r\n`);
  const answer = await a.reply(tag);
  await b.append('upd', message('noise'));
  await b.append('upd', message('boss wants'));
  const noop = (await a.ok('NOOP')).untagged.filter((l) => !/ RECENT$/.test(l));
  a.destroy();
  b.destroy();
  return [answer.status, ...answer.untagged, ...noop].map((l) => l.split(tag).join('<tag>'));
}

describe('CONTEXT=SEARCH parity with Dovecot', () => {
  const pair = comparedWithDovecot();

  test('the same answers and updates for the same commands', async () => {
    const ours = await run(pair.h.tlsPort, USER, PASSWORD);
    const theirs = await run(pair.d.imapsPort, DOVECOT_USER, DOVECOT_PASSWORD);
    if (process.env.PARITY_DUMP) for (let i = 0; i < ours.length; i++) console.log(`postern ${ours[i]}\ndovecot ${theirs[i]}`);
    const unexpected: string[] = [];
    const differing = new Set<string>();
    for (let i = 0; i < ours.length; i++) {
      const cmd = ours[i]!.split(' -> ')[0]!;
      if (ours[i] === theirs[i]) continue;
      differing.add(cmd);
      if (!KNOWN.some((k) => k.cmd === cmd)) unexpected.push(`postern ${ours[i]}\ndovecot ${theirs[i]}`);
    }
    assert.deepEqual(unexpected, [], 'differences from Dovecot');
    // Every listed difference still exists (else it should be removed from KNOWN).
    assert.deepEqual(KNOWN.filter((k) => !differing.has(k.cmd)).map((k) => k.cmd), []);
  });

  test('RFC 5465 7: UPDATE with a fetch-att list, the same lines in the same order', async () => {
    const ours = await updateFetch(pair.h.tlsPort, USER, PASSWORD);
    const theirs = await updateFetch(pair.d.imapsPort, DOVECOT_USER, DOVECOT_PASSWORD);
    assert.deepEqual(ours, theirs);
    assert.equal(ours.length, 5, ours.join('\n'));
    assert.match(ours[3]!, /^\* 3 FETCH \(UID 3 BODY\[HEADER\.FIELDS \(SUBJECT\)\] \{\d+\}\r\nSubject: boss wants/);
  });
});
