// Interop with Debian's neomutt: it opens the Postern INBOX over IMAPS (password login, the server's
// self-signed certificate trusted through certificate_file) and pipes a message to a file, driven
// by `-e 'push ...'` so no keystrokes are needed. neomutt insists on a terminal, so it runs under a
// pseudo terminal made by python3's pty module, with a hard time limit.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runOnPty } from '../e2e/pty.js';
import { ADDRESS, PASSWORD, imapsClient, startTestServer, type TestServer } from '../e2e/server-harness.js';

const NEOMUTT = '/usr/bin/neomutt';

describe('neomutt reads a message from Postern', () => {
  let srv: TestServer;
  let work: string;
  before(async () => {
    assert.ok(existsSync(NEOMUTT), `${NEOMUTT} not found: install the Debian package neomutt`);
    srv = await startTestServer({ services: ['imap', 'imaps'] });
    work = mkdtempSync(join(tmpdir(), 'postern-neomutt-'));
    const c = await imapsClient(srv);
    await c.append(
      'INBOX',
      `From: Carol <carol@example.test>\r\nTo: ${ADDRESS}\r\nSubject: for neomutt\r\nDate: Tue, 1 Oct 2024 10:00:00 +0000\r\n` +
        'Message-ID: <neomutt-1@example.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n' +
        'Content-Transfer-Encoding: quoted-printable\r\n\r\nThe secret word is pomegranate, caf=C3=A9 included.\r\n',
    );
    await c.logout();
  });
  after(async () => {
    await srv?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('pipe-message writes the decoded body to a file', async () => {
    const out = join(work, 'out.txt');
    const muttrc = join(work, 'muttrc');
    const url = `imaps://127.0.0.1:${srv.ports.imaps}/INBOX`;
    writeFileSync(
      muttrc,
      [
        // Every mailbox setting points at the server: a local ~/Mail would make neomutt ask
        // "Create it?" at start-up and swallow the keys meant for the index.
        `set folder="imaps://127.0.0.1:${srv.ports.imaps}/" spoolfile="+INBOX" record="" postponed="+Drafts"`,
        `set imap_user="${ADDRESS}"`,
        `set imap_pass="${PASSWORD}"`,
        // The server's own certificate is the trust anchor; its name is localhost, we dial an IP.
        `set certificate_file="${join(work, 'certs.pem')}"`,
        'set ssl_verify_host=no',
        'set header_cache="" message_cachedir=""',
        'set quit=yes wait_key=no confirmappend=no move=no mark_old=no',
        'set pipe_decode=yes charset="utf-8"',
        `set tmpdir="${work}"`,
        'set mail_check=60 timeout=60',
        '',
      ].join('\n'),
    );
    writeFileSync(join(work, 'certs.pem'), readFileSync(join(srv.dir, 'tls', 'cert.pem')));
    // The index's help line means the mailbox is open: "|" is <pipe-message>, then the command
    // at its prompt, then "q" (quit=yes: no question). Typed, not pushed: neomutt drops keys
    // pushed with -e while it connects.
    const steps: [string, string][] = [
      ['q:Quit', '|'],
      ['Pipe to', `cat > ${out}\r`],
      ['q:Quit', 'q'],
    ];
    const { output: trace } = await runOnPty([NEOMUTT, ...(process.env.NEOMUTT_DEBUG ? ['-d', '5', '-l', process.env.NEOMUTT_DEBUG] : []), '-n', '-F', muttrc, '-f', url], steps, {
      seconds: 30,
      env: { ...process.env, HOME: work, TERM: process.env.NEOMUTT_TERM ?? 'dumb', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' },
    });
    assert.ok(existsSync(out), `neomutt wrote no ${out}; terminal output:\n${trace.slice(-2000)}`);
    const text = readFileSync(out, 'utf8');
    assert.match(text, /Subject: for neomutt/);
    // pipe_decode: the quoted-printable body arrives decoded.
    assert.match(text, /The secret word is pomegranate, café included\./);
  });
});
