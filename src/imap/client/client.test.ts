// The client against a scripted fake server: transcripts of what it sends and how it reads
// what comes back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ImapClient } from './client.js';
import { ImapClientError } from './errors.js';
import { startFakeServer, type FakeSession } from './fake-server-support.js';

async function withServer(script: (s: FakeSession) => Promise<void>, run: (port: number) => Promise<void>): Promise<void> {
  const srv = await startFakeServer(script);
  try {
    await run(srv.port);
    assert.deepEqual(srv.errors, []);
  } finally {
    await srv.close();
  }
}

test('PREAUTH greeting: authenticated without a login, capabilities from the greeting', async () => {
  await withServer(
    async (s) => {
      s.send('* PREAUTH [CAPABILITY IMAP4rev2 IDLE LITERAL+] welcome back\r\n');
      const l = await s.line();
      assert.match(l, /^A1 LOGOUT$/);
      s.send('* BYE bye\r\nA1 OK done\r\n');
    },
    async (port) => {
      const c = await ImapClient.connect({ host: '127.0.0.1', port, tls: 'none', auth: { username: 'x', password: 'y' } });
      assert.equal(c.state, 'authenticated');
      assert.equal(c.preauth, true);
      assert.equal(c.authenticatedWith, 'PREAUTH');
      assert.ok(c.has('idle'));
      await c.logout();
      assert.equal(c.state, 'logout');
    },
  );
});

test('LOGIN with a literal password, SELECT, UID FETCH with a partial body', async () => {
  await withServer(
    async (s) => {
      s.send('* OK [CAPABILITY IMAP4rev1] ready\r\n');
      assert.equal(await s.line(), 'A1 LOGIN user {8}');
      s.send('+ go ahead\r\n');
      assert.deepEqual((await s.bytes(8)).toString(), 'pa\r\nss"x');
      assert.equal(await s.line(), '');
      s.send('A1 OK [CAPABILITY IMAP4rev1 IDLE UIDPLUS] logged in\r\n');
      assert.equal(await s.line(), 'A2 SELECT INBOX');
      s.send('* 3 EXISTS\r\n* FLAGS (\\Seen \\Deleted)\r\n* OK [UIDVALIDITY 42] x\r\n* OK [UIDNEXT 9] x\r\n* OK [PERMANENTFLAGS (\\Seen \\*)] x\r\nA2 OK [READ-WRITE] done\r\n');
      assert.equal(await s.line(), 'A3 UID FETCH 1:3,5 (UID FLAGS BODY.PEEK[]<0.4>)');
      s.send('* 1 FETCH (UID 1 FLAGS () BODY[]<0> {4}\r\nabcd)\r\n* 2 FETCH (FLAGS (\\Seen) UID 2)\r\n* 4 EXISTS\r\nA3 OK done\r\n');
      assert.equal(await s.line(), 'A4 LOGOUT');
      s.send('* BYE\r\nA4 OK\r\n');
    },
    async (port) => {
      const c = await ImapClient.connect({ host: '127.0.0.1', port, tls: 'none' });
      await assert.rejects(c.login('user', 'secret'), (e: ImapClientError) => e.kind === 'auth' && /in the clear/.test(e.message));
      await c.login('user', 'pa\r\nss"x', { allowPlaintext: true });
      assert.equal(c.state, 'authenticated');
      assert.ok(c.has('UIDPLUS'));
      const box = await c.select('INBOX');
      assert.deepEqual(box, { name: 'INBOX', readOnly: false, exists: 3, flags: ['\\Seen', '\\Deleted'], permanentFlags: ['\\Seen', '\\*'], uidValidity: 42, uidNext: 9 });
      const exists: number[] = [];
      c.on('exists', (n) => exists.push(n));
      const msgs = await c.fetch([1, 2, 3, 5], { uid: true, flags: true, body: [{ section: '', start: 0, length: 4 }] }, { uid: true });
      assert.deepEqual(
        msgs.map((m) => [m.seq, m.uid, m.flags, m.body?.['']?.toString()]),
        [
          [1, 1, [], 'abcd'],
          [2, 2, ['\\Seen'], undefined],
        ],
      );
      assert.deepEqual(exists, [4]);
      assert.equal(c.mailbox?.exists, 4);
      await c.logout();
    },
  );
});

test('AUTHENTICATE PLAIN without SASL-IR answers the empty challenge; a NO is an auth error with its code', async () => {
  await withServer(
    async (s) => {
      s.send('* OK [CAPABILITY IMAP4rev2 AUTH=PLAIN] ready\r\n');
      assert.equal(await s.line(), 'A1 AUTHENTICATE PLAIN');
      s.send('+ \r\n');
      assert.equal(Buffer.from(await s.line(), 'base64').toString(), '\0me\0wrong');
      s.send('A1 NO [AUTHENTICATIONFAILED] nope\r\n');
      await s.closed;
    },
    async (port) => {
      const c = await ImapClient.connect({ host: '127.0.0.1', port, tls: 'none' });
      await assert.rejects(c.authenticate({ username: 'me', password: 'wrong', mechanism: 'PLAIN', allowPlaintext: true }), (e: ImapClientError) => {
        assert.equal(e.kind, 'auth');
        assert.equal(e.code?.name, 'AUTHENTICATIONFAILED');
        return true;
      });
      c.close();
    },
  );
});

const expectedZone = { value: '' };

test('APPEND with LITERAL+ sends no synchronising round trip and returns APPENDUID', async () => {
  await withServer(
    async (s) => {
      s.send('* PREAUTH [CAPABILITY IMAP4rev1 LITERAL+ UIDPLUS] hi\r\n');
      assert.equal(await s.line(), `A1 APPEND Drafts (\\Draft \\Seen) " 2-Jan-2024 03:04:05 ${expectedZone.value}" {11+}`);
      assert.equal((await s.bytes(11)).toString(), 'Hi\r\n\r\nthere');
      assert.equal(await s.line(), '');
      s.send('A1 OK [APPENDUID 77 12] appended\r\n');
      await s.closed;
    },
    async (port) => {
      const c = await ImapClient.connect({ host: '127.0.0.1', port, tls: 'none' });
      // formatInternalDate writes local time; the expectation is for a zero offset (TZ=UTC).
      const date = new Date(2024, 0, 2, 3, 4, 5);
      const off = -date.getTimezoneOffset();
      const zone = `${off < 0 ? '-' : '+'}${String(Math.floor(Math.abs(off) / 60)).padStart(2, '0')}${String(Math.abs(off) % 60).padStart(2, '0')}`;
      expectedZone.value = zone;
      assert.deepEqual(await c.append('Drafts', 'Hi\r\n\r\nthere', { flags: ['\\Draft', '\\Seen'], internalDate: date }), { uidValidity: 77, uid: 12 });
      c.close();
    },
  );
});

test('IDLE delivers typed events until done()', async () => {
  await withServer(
    async (s) => {
      s.send('* PREAUTH [CAPABILITY IMAP4rev2] hi\r\n');
      assert.equal(await s.line(), 'A1 SELECT INBOX');
      s.send('* 2 EXISTS\r\n* OK [UIDVALIDITY 1] x\r\nA1 OK [READ-WRITE] ok\r\n');
      assert.equal(await s.line(), 'A2 IDLE');
      s.send('+ idling\r\n');
      s.send('* 3 EXISTS\r\n* 1 EXPUNGE\r\n* 1 FETCH (UID 8 FLAGS (\\Flagged))\r\n* VANISHED 5:6\r\n* OK [ALERT] be careful\r\n');
      assert.equal(await s.line(), 'DONE');
      s.send('A2 OK idle done\r\n');
      await s.closed;
    },
    async (port) => {
      const c = await ImapClient.connect({ host: '127.0.0.1', port, tls: 'none', timeouts: { command: 200 } });
      await c.select('INBOX');
      const events: unknown[] = [];
      c.on('exists', (n) => events.push(['exists', n]));
      c.on('expunge', (n) => events.push(['expunge', n]));
      c.on('fetch', (m) => events.push(['fetch', m.uid, m.flags]));
      c.on('vanished', (u, earlier) => events.push(['vanished', u, earlier]));
      const alert = new Promise((resolve) => c.once('alert', resolve));
      const idle = await c.idle();
      assert.equal(await alert, 'be careful');
      await new Promise((r) => setTimeout(r, 300)); // longer than the command timeout: IDLE is exempt
      await idle.done();
      assert.deepEqual(events, [
        ['exists', 3],
        ['expunge', 1],
        ['fetch', 8, ['\\Flagged']],
        ['vanished', [5, 6], false],
      ]);
      assert.equal(c.mailbox?.exists, 0);
      c.close();
    },
  );
});

test('ESEARCH, STORE with UNCHANGEDSINCE and MODIFIED, MOVE with an untagged COPYUID', async () => {
  await withServer(
    async (s) => {
      s.send('* PREAUTH [CAPABILITY IMAP4rev1 ESEARCH MOVE CONDSTORE] hi\r\n');
      assert.equal(await s.line(), 'A1 EXAMINE INBOX (CONDSTORE)');
      s.send('* 3 EXISTS\r\n* OK [HIGHESTMODSEQ 715194045007] x\r\nA1 OK [READ-ONLY] ok\r\n');
      const l = await s.line();
      assert.equal(l, 'A2 UID SEARCH RETURN (ALL COUNT) UNSEEN SUBJECT "a b"');
      s.send('* ESEARCH (TAG "A2") UID ALL 1:3,7 COUNT 4\r\nA2 OK\r\n');
      assert.equal(await s.line(), 'A3 STORE 1:2 (UNCHANGEDSINCE 5) +FLAGS.SILENT (\\Seen)');
      s.send('* 1 FETCH (MODSEQ (6))\r\nA3 OK [MODIFIED 2] conditional store\r\n');
      assert.equal(await s.line(), 'A4 UID MOVE 7 Trash');
      s.send('* OK [COPYUID 99 7 1] moved\r\n* 3 EXPUNGE\r\nA4 OK done\r\n');
      assert.equal(await s.line(), 'A5 SEARCH RETURN (ALL) ALL');
      s.send('* SEARCH 1 2\r\nA5 OK\r\n');
      await s.closed;
    },
    async (port) => {
      const c = await ImapClient.connect({ host: '127.0.0.1', port, tls: 'none' });
      const box = await c.examine('INBOX', { condstore: true });
      assert.equal(box.readOnly, true);
      assert.equal(box.highestModseq, 715194045007n);
      assert.deepEqual(await c.search({ seen: false, subject: 'a b' }, { uid: true, returns: ['ALL', 'COUNT'] }), { numbers: [1, 2, 3, 7], count: 4 });
      const st = await c.store('1:2', { add: ['\\Seen'] }, { silent: true, unchangedSince: 5n });
      assert.deepEqual(st.modified, [2]);
      assert.equal(st.messages[0].modseq, 6n);
      assert.deepEqual(await c.move(7, 'Trash', { uid: true }), { uidValidity: 99, sourceUids: [7], destinationUids: [1] });
      assert.equal(c.mailbox?.exists, 2);
      // A server that answers plain SEARCH to ESEARCH syntax still parses.
      assert.deepEqual(await c.search('ALL'), { numbers: [1, 2] });
      c.close();
    },
  );
});

test('a silent server times out; a closed connection fails pending commands; garbage is a protocol error', async () => {
  await withServer(
    async (s) => {
      s.send('* PREAUTH hi\r\n');
      await s.line(); // CAPABILITY: never answered
      await s.closed;
    },
    async (port) => {
      await assert.rejects(ImapClient.connect({ host: '127.0.0.1', port, tls: 'none', timeouts: { command: 100 } }), (e: ImapClientError) => e.kind === 'timeout');
    },
  );
  await withServer(
    async (s) => {
      s.send('* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n');
      await s.line();
      s.send('* BYE shutting down\r\n');
      s.socket.end();
    },
    async (port) => {
      const c = await ImapClient.connect({ host: '127.0.0.1', port, tls: 'none' });
      const closed = new Promise((resolve) => c.once('close', resolve));
      await assert.rejects(c.noop(), (e: ImapClientError) => e.kind === 'connection' && /shutting down/.test(e.message));
      assert.equal(((await closed) as ImapClientError).kind, 'connection');
      await assert.rejects(c.noop(), (e: ImapClientError) => e.kind === 'connection');
    },
  );
  await withServer(
    async (s) => {
      s.send('* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n');
      await s.line();
      s.send('A1 OK "unterminated\r\n* 1 FETCH (UID\r\n');
      await s.closed;
    },
    async (port) => {
      const c = await ImapClient.connect({ host: '127.0.0.1', port, tls: 'none' });
      await c.noop();
      await assert.rejects(c.noop(), (e: ImapClientError) => e.kind === 'protocol' || e.kind === 'connection');
    },
  );
  await withServer(
    async (s) => {
      s.send('* BYE too many connections\r\n');
      s.socket.end();
    },
    async (port) => {
      await assert.rejects(ImapClient.connect({ host: '127.0.0.1', port, tls: 'none' }), /too many connections/);
    },
  );
});
