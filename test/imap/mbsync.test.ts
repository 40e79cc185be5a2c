// Interop with Debian's isync (mbsync): two-way sync between a local 200-message Maildir and Postern
// over IMAPS with a password login, then two rounds of changes on both sides (flags, deletions, new
// messages) each followed by a sync, after which both sides must hold the same messages with the
// same flags. The whole server runs as `postern serve` would (test/e2e/server-harness.ts).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { ImapClient } from '../../src/imap/client/index.js';
import { ADDRESS, PASSWORD, imapsClient, startTestServer, type TestServer } from '../e2e/server-harness.js';

const run = promisify(execFile);
const MBSYNC = '/usr/bin/mbsync';

// Maildir info letters (https://cr.yp.to/proto/maildir.html) and the IMAP flags mbsync maps them to.
const LETTER: Record<string, string> = { D: '\\Draft', F: '\\Flagged', R: '\\Answered', S: '\\Seen', T: '\\Deleted' };
const FLAG_LETTER = Object.fromEntries(Object.entries(LETTER).map(([l, f]) => [f, l]));

/** Message-ID -> sorted flags. */
type State = Map<string, string>;

function message(id: string, subject: string): string {
  return (
    `From: Bob <bob@example.test>\r\nTo: ${ADDRESS}\r\nSubject: ${subject}\r\n` +
    `Date: Tue, 1 Oct 2024 10:00:00 +0000\r\nMessage-ID: <${id}>\r\n\r\nBody of ${subject}.\r\n`
  );
}

const flagsKey = (flags: Iterable<string>): string => [...flags].filter((f) => f !== '\\Recent').sort().join(' ');

class Maildir {
  private n = 0;
  constructor(readonly dir: string) {
    for (const d of ['cur', 'new', 'tmp']) mkdirSync(join(dir, d), { recursive: true });
  }

  add(id: string, subject: string, letters: string): void {
    const name = `${1700000000 + this.n}.M${this.n++}P${process.pid}.test:2,${[...letters].sort().join('')}`;
    writeFileSync(join(this.dir, 'cur', name), message(id, subject));
  }

  /** Files by Message-ID, in cur/ and new/. */
  files(): Map<string, { path: string; letters: string }> {
    const out = new Map<string, { path: string; letters: string }>();
    for (const sub of ['cur', 'new']) {
      for (const f of readdirSync(join(this.dir, sub))) {
        const path = join(this.dir, sub, f);
        const id = /^Message-ID: <([^>]+)>/im.exec(readFileSync(path, 'latin1'))?.[1];
        assert.ok(id, `no Message-ID in ${path}`);
        assert.ok(!out.has(id), `duplicate ${id} in the Maildir`);
        const i = f.lastIndexOf(':2,');
        out.set(id, { path, letters: i < 0 ? '' : f.slice(i + 3) });
      }
    }
    return out;
  }

  state(): State {
    const s: State = new Map();
    for (const [id, f] of this.files()) s.set(id, flagsKey([...f.letters].filter((l) => LETTER[l]).map((l) => LETTER[l]!)));
    return s;
  }

  setLetters(id: string, letters: string): void {
    const f = this.files().get(id);
    assert.ok(f, `no local ${id}`);
    const base = f.path.slice(f.path.lastIndexOf('/') + 1).replace(/:2,.*$/, '');
    renameSync(f.path, join(this.dir, 'cur', `${base}:2,${[...letters].sort().join('')}`));
  }

  remove(id: string): void {
    unlinkSync(this.files().get(id)!.path);
  }
}

describe('mbsync (isync) two-way sync with Postern', () => {
  let srv: TestServer;
  let work: string;
  let box: Maildir;
  let rc: string;
  before(async () => {
    assert.ok(existsSync(MBSYNC), `${MBSYNC} not found: install the Debian package isync`);
    srv = await startTestServer({ services: ['imap', 'imaps'] });
    work = mkdtempSync(join(tmpdir(), 'postern-mbsync-'));
    box = new Maildir(join(work, 'mail', 'INBOX'));
    rc = join(work, 'mbsyncrc');
    writeFileSync(
      rc,
      [
        'IMAPAccount postern',
        'Host 127.0.0.1',
        `Port ${srv.ports.imaps}`,
        `User ${ADDRESS}`,
        `Pass ${PASSWORD}`,
        // isync 1.4 (Debian 12) spells TLSType as SSLType.
        'SSLType IMAPS',
        // The server's self-signed certificate is trusted as is; no system CAs.
        `CertificateFile ${join(srv.dir, 'tls', 'cert.pem')}`,
        'SystemCertificates no',
        'AuthMechs LOGIN',
        '',
        'IMAPStore remote',
        'Account postern',
        '',
        'MaildirStore local',
        `Path ${join(work, 'mail')}/`,
        `Inbox ${join(work, 'mail', 'INBOX')}`,
        'SubFolders Verbatim',
        '',
        'Channel sync',
        'Far :remote:',
        'Near :local:',
        // Every folder: the server's special-use ones come down, a local folder goes up (CREATE).
        'Patterns *',
        'Create Both',
        'Expunge Both',
        'Sync All',
        `SyncState ${join(work, 'state')}/`,
        '',
      ].join('\n'),
    );
    mkdirSync(join(work, 'state'));
  });
  after(async () => {
    await srv?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const mbsync = async (): Promise<void> => {
    try {
      const { stdout, stderr } = await run(MBSYNC, ['-c', rc, '-a'], { timeout: 120_000, env: { ...process.env, HOME: work } });
      if (process.env.MBSYNC_TRACE) console.log(stdout, stderr);
      // mbsync exits 0 after some recoverable trouble; any complaint about the server is a failure.
      assert.doesNotMatch(`${stdout}\n${stderr}`, /error|warning|unexpected|BAD/i, 'mbsync complained');
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      assert.fail(`mbsync failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
    }
  };

  const imap = async (): Promise<ImapClient> => {
    const c = await imapsClient(srv);
    await c.select('INBOX');
    return c;
  };

  /** Server state, and Message-ID -> UID. */
  const serverState = async (c: ImapClient): Promise<{ state: State; uids: Map<string, number> }> => {
    const state: State = new Map();
    const uids = new Map<string, number>();
    const box = await c.select('INBOX');
    if (!box.exists) return { state, uids };
    for (const m of await c.fetch('1:*', { uid: true, flags: true, envelope: true })) {
      const id = m.envelope?.messageId?.replace(/^<|>$/g, '');
      assert.ok(id, `message ${m.uid} has no Message-ID`);
      assert.ok(!state.has(id), `duplicate ${id} on the server`);
      state.set(id, flagsKey(m.flags ?? []));
      uids.set(id, m.uid!);
    }
    return { state, uids };
  };

  const sorted = (s: State) => [...s.entries()].sort(([a], [b]) => a.localeCompare(b));

  // What both sides must converge to, tracked by the test itself.
  const expected: State = new Map();

  test('first sync uploads a 200-message Maildir with its flags', async () => {
    const mixes = ['', 'S', 'FS', 'RS', 'F', 'S', 'DS', 'RFS'];
    for (let i = 0; i < 200; i++) {
      const letters = mixes[i % mixes.length]!;
      box.add(`m${i}@example.test`, `message ${i}`, letters);
      expected.set(`m${i}@example.test`, flagsKey([...letters].map((l) => LETTER[l]!)));
    }
    const projects = new Maildir(join(work, 'mail', 'Projects'));
    for (let i = 0; i < 3; i++) projects.add(`p${i}@example.test`, `project ${i}`, 'S');
    await mbsync();
    const c = await imap();
    const { state } = await serverState(c);
    assert.equal((await c.status('Projects', ['MESSAGES'])).messages, 3);
    await c.logout();
    // The account's special-use mailboxes now exist locally too.
    for (const name of ['Sent', 'Drafts', 'Trash', 'Junk', 'Archive']) assert.ok(existsSync(join(work, 'mail', name, 'cur')), `local ${name}`);
    assert.equal(state.size, 200);
    assert.deepEqual(sorted(state), sorted(expected));
    assert.deepEqual(sorted(box.state()), sorted(expected));
  });

  for (const round of [1, 2]) {
    test(`round ${round}: changes on both sides converge after a sync`, async () => {
      const c = await imap();
      const { uids } = await serverState(c);
      const ids = [...expected.keys()].sort();
      const pick = (from: number, n: number) => ids.slice(from, from + n);
      const letters = (id: string) => [...expected.get(id)!.split(' ').filter(Boolean)].map((f) => FLAG_LETTER[f]!).join('');

      // Local: flag some, mark some unread, delete some, add new ones.
      for (const id of pick(0 + round, 6)) {
        box.setLetters(id, letters(id).replace('F', '') + 'F');
        expected.set(id, flagsKey(new Set([...expected.get(id)!.split(' ').filter(Boolean), '\\Flagged'])));
      }
      for (const id of pick(20 + round, 6)) {
        box.setLetters(id, letters(id).replace('S', ''));
        expected.set(id, flagsKey(expected.get(id)!.split(' ').filter((f) => f && f !== '\\Seen')));
      }
      for (const id of pick(40 + round * 7, 5)) {
        box.remove(id);
        expected.delete(id);
      }
      for (let i = 0; i < 5; i++) {
        box.add(`local-r${round}-${i}@example.test`, `local new ${round}.${i}`, i % 2 ? 'S' : '');
        expected.set(`local-r${round}-${i}@example.test`, flagsKey(i % 2 ? ['\\Seen'] : []));
      }

      // Server: other messages get flag changes, some are expunged, new ones arrive by APPEND.
      const remote = (list: string[]) => list.map((id) => uids.get(id)!).join(',');
      const answered = pick(80 + round * 10, 6);
      await c.store(remote(answered), { add: ['\\Answered', '\\Seen'] }, { uid: true, silent: true });
      for (const id of answered) expected.set(id, flagsKey(new Set([...expected.get(id)!.split(' ').filter(Boolean), '\\Answered', '\\Seen'])));
      const unflag = pick(120 + round * 10, 6);
      await c.store(remote(unflag), { remove: ['\\Flagged'] }, { uid: true, silent: true });
      for (const id of unflag) expected.set(id, flagsKey(expected.get(id)!.split(' ').filter((f) => f && f !== '\\Flagged')));
      const gone = pick(150 + round * 10, 4);
      await c.store(remote(gone), { add: ['\\Deleted'] }, { uid: true, silent: true });
      await c.expunge();
      for (const id of gone) expected.delete(id);
      for (let i = 0; i < 5; i++) {
        const flags = i % 2 ? ['\\Flagged'] : [];
        await c.append('INBOX', message(`server-r${round}-${i}@example.test`, `server new ${round}.${i}`), { flags });
        expected.set(`server-r${round}-${i}@example.test`, flagsKey(flags));
      }
      await c.logout();

      await mbsync();
      const after = await imap();
      const { state } = await serverState(after);
      await after.logout();
      assert.equal(state.size, expected.size);
      assert.deepEqual(sorted(state), sorted(expected), 'server');
      assert.deepEqual(sorted(box.state()), sorted(expected), 'Maildir');
      // A sync without changes changes nothing.
      await mbsync();
      const again = await imap();
      assert.deepEqual(sorted((await serverState(again)).state), sorted(expected), 'server after an idle sync');
      await again.logout();
      assert.deepEqual(sorted(box.state()), sorted(expected), 'Maildir after an idle sync');
    });
  }
});
