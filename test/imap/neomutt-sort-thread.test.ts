// neomutt (Debian's) sorting and threading a 1,000-message Postern INBOX over IMAPS. neomutt has no
// server-side sorting (no SORT or THREAD command: it sorts and threads itself from the headers and
// INTERNALDATE it FETCHes), so what this checks on Postern's side is that those arrive intact for
// every message: Date headers in four zones, internal dates given by APPEND in other zones, and
// Message-ID/In-Reply-To/References. A macro sets each sort, tags every message and pipes them, in
// index order, to a script that writes their Message-IDs to a file; a thread-aware pattern
// (~<(...): "whose parent matches") picks the replies to the thread's root.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runOnPty } from '../e2e/pty.js';
import { ADDRESS, PASSWORD, imapsClient, startTestServer, type TestServer } from '../e2e/server-harness.js';
import { appendCorpus, buildCorpus, byArrival, byDateDescending, CORPUS_SIZE, GARDEN, type Corpus } from '../web-clients/inbox-corpus.js';

const NEOMUTT = '/usr/bin/neomutt';

// Skipped where neomutt is missing; under CI it is installed by .ci/run and a missing one fails.
const skip = !existsSync(NEOMUTT) && process.env.CI !== 'true' ? `${NEOMUTT} is not installed` : false;

describe('neomutt sorts and threads a 1,000-message INBOX from Postern', { skip }, () => {
  let srv: TestServer;
  let work: string;
  let corpus: Corpus;
  const out = (name: string) => join(work, `${name}.txt`);
  /** The Message-IDs a pipe wrote, in the order neomutt piped the messages. */
  const ids = (name: string): string[] =>
    existsSync(out(name)) ? readFileSync(out(name), 'utf8').split('\n').filter(Boolean).map((l) => l.replace(/^message-id:\s*/i, '').trim()) : [];

  before(async () => {
    assert.ok(existsSync(NEOMUTT), `${NEOMUTT} is not installed (required when CI=true)`);
    work = mkdtempSync(join(tmpdir(), 'postern-neomutt-sort-'));
    srv = await startTestServer({ services: ['imaps'] });
    corpus = buildCorpus(ADDRESS);
    const c = await imapsClient(srv);
    await appendCorpus(c, 'INBOX', corpus);
    await c.logout();

    // Reads the piped messages on stdin, writes their Message-ID lines to $1.
    writeFileSync(join(work, 'ids.sh'), "#!/bin/sh\ngrep -i '^message-id:' > \"$1\"\nexit 0\n", { mode: 0o755 });
    const pipe = (name: string) => `<tag-prefix><pipe-message>${join(work, 'ids.sh')} ${out(name)}<enter>`;
    const macro = [
      // Threads first, before any pipe fetches whole messages (neomutt would then re-read their
      // headers): the thread tree is built from the header fields of the index FETCH.
      '<enter-command>set sort=threads sort_aux=date<enter>',
      // The thread-aware pattern: messages whose parent is the garden thread's root.
      `<tag-pattern>~<(~i ${GARDEN.ids[0]!.slice(1, -1)})<enter>`,
      pipe('children'),
      '<untag-pattern>~A<enter><tag-pattern>~A<enter>',
      pipe('threads'),
      '<enter-command>set sort=date<enter>',
      pipe('date'),
      '<enter-command>set sort=date-received<enter>',
      pipe('received'),
      '<quit>',
    ].join('');
    writeFileSync(
      join(work, 'muttrc'),
      [
        // Every mailbox setting points at the server (a local ~/Mail would make neomutt ask).
        `set folder="imaps://127.0.0.1:${srv.ports.imaps}/" spoolfile="+INBOX" record="" postponed="+Drafts"`,
        `set imap_user="${ADDRESS}"`,
        `set imap_pass="${PASSWORD}"`,
        `set certificate_file="${join(work, 'certs.pem')}"`,
        'set ssl_verify_host=no',
        // Bodies fetched by the first whole-mailbox pipe are read from the cache by the next ones.
        `set header_cache="" message_cachedir="${join(work, 'bodies')}"`,
        'set quit=yes wait_key=no confirmappend=no move=no mark_old=no',
        // Threads from References/In-Reply-To only, not by matching subjects.
        'set strict_threads=yes',
        'set pipe_split=no pipe_decode=no',
        `set tmpdir="${work}"`,
        'set mail_check=60 timeout=60',
        `macro index X "${macro}"`,
        '',
      ].join('\n'),
    );
    writeFileSync(join(work, 'certs.pem'), readFileSync(join(srv.dir, 'tls', 'cert.pem')));
    // Typed once the index is up (keys pushed with -e are dropped while neomutt connects).
    await runOnPty([NEOMUTT, '-n', '-F', join(work, 'muttrc'), '-f', `imaps://127.0.0.1:${srv.ports.imaps}/INBOX`], [['q:Quit', 'X']], {
      seconds: 60,
      env: { ...process.env, HOME: work, TERM: 'dumb', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' },
    });
  });
  after(async () => {
    await srv?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('sort=date: every message, oldest first by the Date header in UTC', () => {
    const expected = byDateDescending(corpus).reverse().map((m) => m.messageId);
    assert.equal(ids('date').length, CORPUS_SIZE);
    assert.deepEqual(ids('date'), expected);
  });

  test('sort=date-received: by the internal dates APPEND gave (FETCH INTERNALDATE)', () => {
    assert.deepEqual(ids('received'), byArrival(corpus).map((m) => m.messageId));
  });

  test('sort=threads: every thread contiguous, each reply after its parent', () => {
    const got = ids('threads');
    assert.equal(got.length, CORPUS_SIZE);
    const present = new Set(corpus.messages.map((m) => m.messageId));
    const parentOf = new Map(corpus.messages.map((m) => [m.messageId, [...m.references].reverse().find((r) => present.has(r))]));
    const rootOf = (id: string): string => {
      for (let p = parentOf.get(id); p; p = parentOf.get(id)) id = p;
      return id;
    };
    const at = new Map(got.map((id, i) => [id, i]));
    for (const [id, parent] of parentOf) if (parent) assert.ok(at.get(parent)! < at.get(id)!, `${id} listed before its parent ${parent}`);
    // Contiguous: once a thread's run ends, its root never comes back.
    const done = new Set<string>();
    let current = '';
    for (const id of got) {
      const root = rootOf(id);
      if (root === current) continue;
      assert.ok(!done.has(root), `thread of ${root} split: ${id} is apart from the rest`);
      if (current) done.add(current);
      current = root;
    }
    // The garden thread, depth first: root, its first reply and that reply's reply, then the rest.
    const start = at.get(GARDEN.ids[0]!)!;
    assert.deepEqual(got.slice(start, start + 5), GARDEN.ids);
  });

  test('thread pattern ~<(...): the root\'s direct replies, one with a subject of its own', () => {
    const children = GARDEN.ids.filter((_, k) => GARDEN.depths[k] === 1);
    assert.deepEqual(new Set(ids('children')), new Set(children));
    assert.equal(ids('children').length, children.length);
  });
});
