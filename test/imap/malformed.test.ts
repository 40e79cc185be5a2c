// Malformed input for every command family: a BAD (or NO) with a useful text, and the connection
// stays usable afterwards.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHarness, type Harness } from './harness.js';

const CASES: [string, string[]][] = [
  ['any-state', ['CAPABILITY extra', 'NOOP (', 'LOGOUT now', 'ID', 'ID (', 'ID ("a")', 'ID ("a" "b"']],
  ['auth', ['LOGIN', 'LOGIN onlyuser', 'AUTHENTICATE', 'AUTHENTICATE PLAIN !!!', 'STARTTLS x']],
  ['enable', ['ENABLE', 'ENABLE (x)']],
  ['mailbox', ['CREATE', 'CREATE "unterminated', 'DELETE', 'RENAME a', 'SUBSCRIBE', 'CREATE x (USE)', 'CREATE x (FOO (\\Drafts))']],
  ['list', ['LIST', 'LIST ""', 'LIST (BOGUS) "" *', 'LIST "" * RETURN', 'LIST "" * RETURN (STATUS)', 'LIST (RECURSIVEMATCH) "" *', 'LSUB ""']],
  ['status', ['STATUS INBOX', 'STATUS INBOX ()', 'STATUS INBOX (BOGUS)', 'STATUS INBOX (MESSAGES']],
  ['select', ['SELECT', 'SELECT INBOX (BOGUS)', 'SELECT INBOX (QRESYNC)', 'EXAMINE INBOX (CONDSTORE']],
  ['append', ['APPEND', 'APPEND INBOX', 'APPEND INBOX (\\Seen)', 'APPEND INBOX "bad date" {1+}\r\nx', 'APPEND INBOX ((x)) {1+}\r\nx']],
  ['fetch', ['FETCH', 'FETCH 1', 'FETCH 1 (BOGUS)', 'FETCH 0 FLAGS', 'FETCH 1:x FLAGS', 'FETCH 1 BODY[', 'FETCH 1 BODY[HEADER.FIELDS]', 'FETCH 1 BODY[1.BOGUS]', 'FETCH 1 BODY[]<1.>', 'FETCH 1 BODY[]<1.0>', 'FETCH 1 BINARY[HEADER]', 'FETCH 1 FLAGS (CHANGEDSINCE)', 'FETCH 1 FLAGS (CHANGEDSINCE 1 VANISHED)']],
  ['search', ['SEARCH', 'SEARCH BOGUS', 'SEARCH BEFORE notadate', 'SEARCH OR ALL', 'SEARCH (ALL', 'SEARCH RETURN (BOGUS) ALL', 'SEARCH LARGER x', 'SEARCH ' + '('.repeat(200) + 'ALL' + ')'.repeat(200)]],
  ['store', ['STORE', 'STORE 1', 'STORE 1 FLAGS', 'STORE 1 +FLAGZ (\\Seen)', 'STORE 1 (UNCHANGEDSINCE) FLAGS (\\Seen)', 'STORE 1 FLAGS (\\Seen']],
  ['copy-move', ['COPY', 'COPY 1', 'MOVE 1', 'UID', 'UID BOGUS 1', 'UID COPY x INBOX']],
  ['expunge', ['EXPUNGE now', 'UID EXPUNGE', 'UID EXPUNGE x', 'CLOSE x', 'UNSELECT x']],
  ['idle-quota', ['IDLE x', 'GETQUOTA', 'GETQUOTAROOT', 'SETQUOTA "" (STORAGE)']],
];

describe('malformed input per command family', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  for (const [family, lines] of CASES) {
    it(family, async () => {
      const c = await h.client();
      await c.ok('SELECT INBOX');
      for (const line of lines) {
        const r = await c.cmd(line);
        assert.ok(r.status === 'BAD' || r.status === 'NO', `${line} -> ${r.status} ${r.text}`);
        assert.ok(r.text.length > 3, `${line}: useless text ${r.text}`);
        // Still usable.
        await c.ok('NOOP');
      }
      c.destroy();
    });
  }

  it('an unknown command after the first gets BAD, a missing tag too', async () => {
    const c = await h.client();
    let r = await c.cmd('FROBNICATE');
    assert.equal(r.status, 'BAD');
    assert.match(r.text, /unknown command FROBNICATE/);
    c.write('\r\n');
    assert.match(await c.readLine(), /^\* BAD /);
    r = await c.ok('NOOP');
    c.destroy();
  });

  // Fuzz finding (target imap-command, seed 1379544915, input 1116: 1.37 MB of bare LF): every line
  // end was a command of its own, answered with a BAD line, so 1.4 MB in cost 21 s and 50 MB out.
  // As Dovecot, MAX_BAD_COMMANDS (20) unparsable commands in a row end the connection.
  for (const [name, unit] of [['LF', '\n'], ['CRLF', '\r\n']] as const) {
    it(`1.4 MB of bare ${name} after a good command: 20 BAD lines, then BYE and close`, async () => {
      const c = await h.client();
      const tag = c.nextTag();
      c.write(`${tag} NOOP\r\n${unit.repeat(Math.floor(1.4e6 / unit.length))}`);
      assert.equal((await c.reply(tag)).status, 'OK');
      const lines = await c.expectClosed(10_000);
      assert.deepEqual(lines.slice(0, -1), Array.from({ length: 20 }, () => '* BAD expected a tag and a command'));
      assert.match(lines.at(-1)!, /^\* BYE too many invalid commands/);
    });
  }

  it('a good command between bad ones starts the count again', async () => {
    const c = await h.client();
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 19; i++) await c.bad('FETCH');
      await c.ok('NOOP');
    }
    c.destroy();
  });
});
