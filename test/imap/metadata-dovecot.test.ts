// METADATA (RFC 5464) answers compared with Dovecot's (Debian 12: 2.3.19, imap_metadata with a
// file attribute dictionary): the same commands on both servers, the untagged METADATA responses
// and the tagged status and response code must be identical, apart from the differences listed in
// KNOWN with the reason (entries compared in name order). Prints the transcripts side by side when they differ.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DOVECOT_PASSWORD, DOVECOT_USER } from '../imap-client/dovecot.js';
import { tlsLogin as connectClient, PASSWORD, USER, type Client } from './harness.js';
import { comparedWithDovecot } from './harness-dovecot.js';

const DOVECOT_METADATA = `
mail_attribute_dict = file:%h/dovecot-attributes
protocol imap {
  imap_metadata = yes
}
`;

const COMMANDS = [
  'CREATE Notes',
  'SETMETADATA Notes (/private/comment "My own comment" /shared/comment "Shared comment")',
  'GETMETADATA Notes /private/comment',
  'GETMETADATA Notes (/shared/comment /private/comment)',
  'GETMETADATA Notes /PRIVATE/COMMENT',
  'GETMETADATA (MAXSIZE 5) Notes (/shared/comment /private/comment)',
  'GETMETADATA Notes (MAXSIZE 5) (/shared/comment /private/comment)',
  'SETMETADATA Notes (/private/vendor/vendor.postern/a "1" /private/vendor/vendor.postern/a/b "2" /private/vendor/vendor.postern/c "3")',
  'GETMETADATA (DEPTH 1) Notes /private/vendor/vendor.postern',
  'GETMETADATA (DEPTH infinity) Notes /private/vendor/vendor.postern',
  'GETMETADATA (DEPTH 1 MAXSIZE 1) Notes (/private/vendor/vendor.postern /private/comment)',
  'GETMETADATA (DEPTH 1) Notes (/private/nothing /private/nothing2)',
  'GETMETADATA (DEPTH infinity) Notes /shared',
  'SETMETADATA Notes (/private/comment NIL)',
  'GETMETADATA Notes (/private/comment /shared/comment)',
  'SETMETADATA "" (/private/vendor/vendor.postern/server "on the server")',
  'GETMETADATA "" /private/vendor/vendor.postern/server',
  'GETMETADATA Nowhere /private/comment',
  'SETMETADATA Nowhere (/private/comment "x")',
  'GETMETADATA Notes /foo',
  'GETMETADATA Notes /private/a*',
  'GETMETADATA Notes /private//x',
  'GETMETADATA Notes /private/x/',
  'SETMETADATA Notes (/nope "x")',
  'GETMETADATA Notes (DEPTH 2) /private/comment',
  'RENAME Notes Renamed',
  'GETMETADATA Renamed /shared/comment',
  'DELETE Renamed',
  'CREATE Renamed',
  'GETMETADATA Renamed /shared/comment',
];

/**
 * Differences from Dovecot 2.3.19 that are deliberate: command index -> why.
 */
const KNOWN = new Map<number, string>([
  // RFC 5464 5's ABNF puts the options before the mailbox name, its examples (4.2.1, 4.2.2) after
  // it: Dovecot takes only the former (BAD), we take both.
  [6, 'options after the mailbox name'],
  // RFC 5530 NONEXISTENT on a mailbox that does not exist; Dovecot's NO has no code.
  [17, 'NO [NONEXISTENT]'],
  [18, 'NO [NONEXISTENT]'],
]);

/** A line with its literals (`{n}` CRLF and n characters, as Client inlines them) as quoted strings:
 * Dovecot sends every value as a literal, we quote short ones; both are the same string. */
function quoteLiterals(line: string): string {
  let out = '';
  let rest = line;
  for (let m = /\{(\d+)\}\r\n/.exec(rest); m; m = /\{(\d+)\}\r\n/.exec(rest)) {
    const start = m.index + m[0].length;
    const data = rest.slice(start, start + Number(m[1]));
    out += rest.slice(0, m.index) + JSON.stringify(data);
    rest = rest.slice(start + data.length);
  }
  return out + rest;
}

/** A METADATA response with its entry-value pairs sorted: Dovecot's file dictionary returns
 * entries in no fixed order, and RFC 5464 gives none. */
function sortPairs(line: string): string {
  const m = /^(\* METADATA \S+ \()(.*)\)$/s.exec(line);
  if (!m) return line;
  const pairs = [...m[2]!.matchAll(/(\S+) (NIL|"(?:[^"\\]|\\.)*")/g)].map((p) => p[0]);
  return `${m[1]}${pairs.sort().join(' ')})`;
}

/** The METADATA responses and the tagged status with its response code (texts differ by design). */
async function transcript(c: Client, cmd: string): Promise<string> {
  const r = await c.cmd(cmd);
  const code = /^\[[^\]]*\]/.exec(r.text)?.[0] ?? '';
  return [...r.untagged.filter((l) => l.startsWith('* METADATA')).map((l) => sortPairs(quoteLiterals(l))), `${r.status} ${code}`.trim()].join('\n');
}

describe('METADATA compared with Dovecot', () => {
  const pair = comparedWithDovecot({ extraConf: DOVECOT_METADATA });

  test('the same commands get the same answers', async () => {
    const p = await connectClient(pair.h.tlsPort, USER, PASSWORD);
    const v = await connectClient(pair.d.imapsPort, DOVECOT_USER, DOVECOT_PASSWORD);
    const diffs: string[] = [];
    for (const [i, cmd] of COMMANDS.entries()) {
      const [a, b] = [await transcript(p, cmd), await transcript(v, cmd)];
      if (a !== b && !KNOWN.has(i)) diffs.push(`#${i} ${cmd}\n  postern: ${a.replace(/\n/g, '\n           ')}\n  dovecot: ${b.replace(/\n/g, '\n           ')}`);
    }
    p.destroy();
    v.destroy();
    assert.deepEqual(diffs, [], `\n${diffs.join('\n')}\n${pair.d.log().slice(-2000)}`);
  });
});
