// URLAUTH (RFC 4467) answers compared with Dovecot's (Debian 12: 2.3.19 with imap_urlauth_host and
// an attribute dictionary for its mailbox keys): the same commands on both servers; the GENURLAUTH
// and URLFETCH responses (tokens and user names masked: each server has its own keys, users and
// token format) and the tagged status with its response code must be identical, apart from the
// differences listed in KNOWN with the reason.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DOVECOT_PASSWORD, DOVECOT_USER } from '../imap-client/dovecot.js';
import { message, PASSWORD, tlsLogin as loginOverTls, USER, type Client } from './harness.js';
import { comparedWithDovecot } from './harness-dovecot.js';

const DOVECOT_URLAUTH = `
imap_urlauth_host = *
mail_attribute_dict = file:%h/dovecot-attributes
`;

const enc = (s: string): string => s.replace(/@/g, '%40');
const past = new Date(Date.now() - 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');

/** A command from the user's (URL-encoded) name and the URLs GENURLAUTH gave so far. */
type Step = (u: string, made: string[]) => string;
const STEPS: Step[] = [
  (u) => `GENURLAUTH "imap://${u}@localhost/INBOX/;uid=1;urlauth=authuser" INTERNAL`,
  (u) => `GENURLAUTH "imap://${u}@localhost/INBOX/;uid=1/;section=1;urlauth=anonymous" INTERNAL "imap://${u}@localhost/INBOX/;uid=1;urlauth=user+${u}" INTERNAL`,
  (_, m) => `URLFETCH "${m[0]}"`,
  (_, m) => `URLFETCH "${m[1]}" "${m[2]}"`,
  (_, m) => `URLFETCH "${m[0]!.slice(0, -1)}${m[0]!.endsWith('0') ? '1' : '0'}"`,
  (u) => `GENURLAUTH "imap://${u}@localhost/INBOX/;uid=1;urlauth=submit+${u}" INTERNAL`,
  (_, m) => `URLFETCH "${m[3]}"`,
  (u) => `GENURLAUTH "imap://${u}@localhost/INBOX/;uid=1" INTERNAL`,
  (u) => `GENURLAUTH "imap://${u}@localhost/INBOX/;uid=1;urlauth=authuser" XSAMPLE`,
  () => 'GENURLAUTH "imap://localhost/INBOX/;uid=1;urlauth=authuser" INTERNAL',
  (u) => `GENURLAUTH "imap://${u}@localhost/INBOX/;uid=99;urlauth=authuser" INTERNAL`,
  (u) => `GENURLAUTH "imap://${u}@localhost/Nowhere/;uid=1;urlauth=authuser" INTERNAL`,
  () => 'GENURLAUTH "imap://someone%40example.net@localhost/INBOX/;uid=1;urlauth=authuser" INTERNAL',
  (u) => `GENURLAUTH "imap://${u}@localhost/INBOX/;uid=1;expire=${past};urlauth=authuser" INTERNAL`,
  () => 'GENURLAUTH "not a url" INTERNAL',
  () => 'GENURLAUTH',
  () => 'URLFETCH "not a url"',
  () => 'URLFETCH',
  () => 'RESETKEY INBOX',
  (_, m) => `URLFETCH "${m[0]}"`,
  (u) => `GENURLAUTH "imap://${u}@localhost/INBOX/;uid=1;urlauth=authuser" INTERNAL`,
  (_, m) => `URLFETCH "${m[4]}"`,
  () => 'RESETKEY Nowhere',
  () => 'RESETKEY INBOX XSAMPLE',
  () => 'RESETKEY INBOX INTERNAL',
  () => 'RESETKEY',
  (_, m) => `URLFETCH "${m[4]}"`,
  // URLAUTH=BINARY (RFC 5524).
  (u) => `GENURLAUTH "imap://${u}@localhost/INBOX/;uid=1;urlauth=authuser" INTERNAL "imap://${u}@localhost/INBOX/;uid=1/;section=1;urlauth=authuser" INTERNAL "imap://${u}@localhost/INBOX/;uid=1/;section=HEADER;urlauth=authuser" INTERNAL`,
  (_, m) => `URLFETCH ("${m[5]}" BINARY)`,
  (_, m) => `URLFETCH ("${m[5]}" BODYPARTSTRUCTURE)`,
  (_, m) => `URLFETCH ("${m[6]}" BODYPARTSTRUCTURE BODY)`,
  (_, m) => `URLFETCH ("${m[6]}") ("${m[6]}" BINARY)`,
  (_, m) => `URLFETCH ("${m[7]}" BINARY)`,
  (_, m) => `URLFETCH ("${m[7]}" BODY)`,
  (_, m) => `URLFETCH ("${m[7]}" BODYPARTSTRUCTURE)`,
  (_, m) => `URLFETCH ("${m[5]}" BODY BINARY)`,
  (_, m) => `URLFETCH ("${m[5]}x" BINARY)`,
];

/** Deliberate differences from Dovecot 2.3.19: step index -> why. */
const KNOWN = new Map<number, string>([
  // RFC 4467 9: genurlauth = "GENURLAUTH" 1*(SP url-rump SP mechanism): at least one URL. Dovecot
  // answers an empty `* GENURLAUTH` and OK.
  [15, 'GENURLAUTH without arguments is BAD'],
  // RFC 5530 NONEXISTENT on a mailbox that does not exist; Dovecot's NO has no code.
  [22, 'NO [NONEXISTENT]'],
]);

/** The GENURLAUTH and URLFETCH responses (tokens and the user masked) and the tagged status and code. */
async function transcript(c: Client, u: string, made: string[], cmd: string): Promise<string> {
  const r = await c.cmd(cmd);
  const mask = (l: string): string => l.split(u).join('<user>').replace(/:internal:[0-9a-f]+/g, ':internal:<token>');
  const lines: string[] = [];
  for (const l of r.untagged) {
    if (l.startsWith('* GENURLAUTH ')) {
      for (const m of l.matchAll(/"([^"]*)"/g)) made.push(m[1]!);
      lines.push(mask(l));
    } else if (l.startsWith('* URLFETCH ')) {
      // Body structure strings compared without case: the defaults of a part without
      // Content-Type are upper case in ours (as our FETCH BODYSTRUCTURE), lower case in Dovecot's.
      lines.push(l.includes('BODYPARTSTRUCTURE') ? mask(l).toLowerCase() : mask(l));
    }
  }
  const code = /^\[[^\]]*\]/.exec(r.text)?.[0] ?? '';
  return [...lines, `${r.status} ${code}`.trim()].join('\n');
}

describe('URLAUTH compared with Dovecot', () => {
  const pair = comparedWithDovecot({ extraConf: DOVECOT_URLAUTH });

  test('the same commands get the same answers', async () => {
    const p = await loginOverTls(pair.h.tlsPort, USER, PASSWORD);
    const v = await loginOverTls(pair.d.imapsPort, DOVECOT_USER, DOVECOT_PASSWORD);
    const msg = message('urlauth', 'Si vis pacem, para bellum.\r\n');
    assert.equal((await p.append('INBOX', msg)).status, 'OK');
    assert.equal((await v.append('INBOX', msg)).status, 'OK');
    const madeP: string[] = [];
    const madeV: string[] = [];
    const diffs: string[] = [];
    for (const [i, step] of STEPS.entries()) {
      const [cp, cv] = [step(enc(USER), madeP), step(enc(DOVECOT_USER), madeV)];
      const [a, b] = [await transcript(p, enc(USER), madeP, cp), await transcript(v, enc(DOVECOT_USER), madeV, cv)];
      if (a !== b && !KNOWN.has(i)) diffs.push(`#${i} ${cp}\n  postern: ${a.replace(/\n/g, '\n           ')}\n  dovecot: ${b.replace(/\n/g, '\n           ')}`);
    }
    p.destroy();
    v.destroy();
    assert.deepEqual(diffs, [], `\n${diffs.join('\n')}\n${pair.d.log().slice(-2000)}`);
  });
});
