// URLAUTH (RFC 4467) over a real socket: the RFC's GENURLAUTH / URLFETCH / RESETKEY examples on our
// own messages; every way a URL fails (tampered token, wrong access identifier, another account,
// expired, UIDVALIDITY, after RESETKEY) answered NIL; bad syntax and bad URLs BAD with the session
// going on; python3 imaplib as a real peer.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { deriveCredentials } from '../../src/auth/password.js';
import { internalToken } from '../../src/imap/urlauth/token.js';
import { message, PASSWORD, startHarness, USER, type Client, type Harness } from './harness.js';

const OTHER = 'other@example.org';
const OTHER_PASSWORD = 'other-password-1';
const enc = (s: string): string => s.replace(/@/g, '%40');
/** An RFC 5092 URL of a message (part) of `owner`'s mailbox, as a rump (`;urlauth=access`). */
const rump = (owner: string, path: string, access: string): string => `imap://${enc(owner)}@localhost/${path};urlauth=${enc(access)}`;

const BODY = 'Si vis pacem, para bellum.\r\n';

describe('URLAUTH (RFC 4467)', () => {
  let h: Harness;
  let c: Client;
  let o: Client;
  before(async () => {
    h = await startHarness();
    const other = await h.store.createAccount('other', OTHER);
    await h.store.setCredentials(other.id, (await deriveCredentials(OTHER_PASSWORD)) as never);
    c = await h.client();
    o = await h.client({ login: false });
    await o.ok(`LOGIN ${OTHER} ${OTHER_PASSWORD}`);
    assert.equal((await c.append('INBOX', message('draft', BODY))).status, 'OK');
    assert.equal((await o.append('INBOX', message('theirs', 'not yours\r\n'))).status, 'OK');
  });
  after(async () => {
    c?.destroy();
    o?.destroy();
    await h?.close();
  });

  const gen = async (client: Client, ...urls: string[]): Promise<string[]> => {
    const r = await client.ok(`GENURLAUTH ${urls.map((u) => `"${u}" INTERNAL`).join(' ')}`);
    const line = r.untagged.find((l) => l.startsWith('* GENURLAUTH '));
    assert.ok(line, r.untagged.join('\n'));
    return [...line.slice('* GENURLAUTH '.length).matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
  };
  /** URLFETCH of one URL: the data, or null for NIL. */
  const fetch = async (client: Client, url: string): Promise<string | null> => {
    const r = await client.ok(`URLFETCH "${url}"`);
    assert.equal(r.untagged.length, 1, r.untagged.join('\n'));
    const line = r.untagged[0]!;
    const head = `* URLFETCH "${url}" `;
    assert.ok(line.startsWith(head), line);
    const rest = line.slice(head.length);
    if (rest === 'NIL') return null;
    const m = /^\{(\d+)\}\r\n([\s\S]*)$/.exec(rest);
    assert.ok(m, rest);
    assert.equal(Buffer.byteLength(m[2]!, 'latin1'), Number(m[1]));
    return m[2]!;
  };

  it('advertises URLAUTH', async () => {
    const r = await c.ok('CAPABILITY');
    assert.ok(r.untagged[0]!.split(' ').includes('URLAUTH'));
  });

  it('RFC 4467 examples: GENURLAUTH of two URLs, URLFETCH of a part and of a whole message', async () => {
    const [part, whole] = await gen(c, rump(USER, 'INBOX/;uid=1/;section=1', 'anonymous'), rump(USER, 'INBOX/;uid=1', 'authuser'));
    assert.match(part!, new RegExp(`^${rump(USER, 'INBOX/;uid=1/;section=1', 'anonymous').replace(/[.+?^$()[\]\\|{}*]/g, '\\$&')}:internal:01[0-9a-f]{64}$`));
    assert.equal(await fetch(c, part!), BODY);
    assert.equal(await fetch(c, whole!), message('draft', BODY));
    // authuser and anonymous: any user of the server may fetch.
    assert.equal(await fetch(o, part!), BODY);
    assert.equal(await fetch(o, whole!), message('draft', BODY));
    // Several URLs in one URLFETCH: one response each, in order.
    const r = await c.ok(`URLFETCH "${part}" "${whole}x"`);
    assert.equal(r.untagged.length, 2);
    assert.ok(r.untagged[0]!.startsWith(`* URLFETCH "${part}" {${BODY.length}}`));
    assert.equal(r.untagged[1], `* URLFETCH "${whole}x" NIL`);
  });

  it('user+ and submit+ access: only the named user, and submit+ only for the submission server', async () => {
    const [mine, theirs, submit] = await gen(c, rump(USER, 'INBOX/;uid=1', `user+${USER}`), rump(USER, 'INBOX/;uid=1', `user+${OTHER}`), rump(USER, 'INBOX/;uid=1', `submit+${USER}`));
    assert.equal(await fetch(c, mine!), message('draft', BODY));
    assert.equal(await fetch(o, mine!), null);
    assert.equal(await fetch(o, theirs!), message('draft', BODY));
    assert.equal(await fetch(c, theirs!), null);
    // RFC 4467 3: submit+ is for the submission server acting for the user, not an IMAP session.
    assert.equal(await fetch(c, submit!), null);
    // A user that does not exist: made (GENURLAUTH does not tell which users exist), never works.
    const [nobody] = await gen(c, rump(USER, 'INBOX/;uid=1', 'user+nobody%40example.org'));
    assert.equal(await fetch(c, nobody!), null);
  });

  it('tampered tokens and URLs, other mechanisms, and URLs not authorized at all are NIL', async () => {
    const [u] = await gen(c, rump(USER, 'INBOX/;uid=1', 'authuser'));
    const flipped = u!.slice(0, -1) + (u!.endsWith('0') ? '1' : '0');
    assert.equal(await fetch(c, flipped), null);
    assert.equal(await fetch(c, u!.replace(';uid=1', ';uid=2')), null);
    assert.equal(await fetch(c, u!.replace(':internal:', ':xsample:')), null);
    assert.equal(await fetch(c, u!.slice(0, u!.lastIndexOf(':'))), null);
    assert.equal(await fetch(c, `imap://${enc(USER)}@localhost/INBOX/;uid=1`), null);
    assert.equal(await fetch(c, 'not a url at all'), null);
    // The token is the URL's: the same token on another message fails.
    assert.equal(await fetch(c, rump(OTHER, 'INBOX/;uid=1', 'authuser') + u!.slice(u!.lastIndexOf(':internal:'))), null);
    assert.equal((await c.ok('NOOP')).status, 'OK');
  });

  it("another account's mailbox: GENURLAUTH refused, a URL keyed by the wrong account NIL", async () => {
    await c.bad(`GENURLAUTH "${rump(OTHER, 'INBOX/;uid=1', 'authuser')}" INTERNAL`);
    // The other user's own URL works for us with authuser...
    const [theirs] = await gen(o, rump(OTHER, 'INBOX/;uid=1', 'authuser'));
    assert.equal(await fetch(c, theirs!), message('theirs', 'not yours\r\n'));
    // ...but a token computed with our key for their URL does not.
    const inbox = (await h.store.getMailbox(h.accountId, 'INBOX'))!;
    const ourKey = (await h.store.urlauthKeys.key(h.accountId, inbox.id, 'INTERNAL', true))!;
    const forgedRump = rump(OTHER, 'INBOX/;uid=1', 'authuser');
    assert.equal(await fetch(c, `${forgedRump}:internal:${internalToken(ourKey, forgedRump)}`), null);
  });

  it('EXPIRE and UIDVALIDITY are honoured', async () => {
    const inbox = (await h.store.getMailbox(h.accountId, 'INBOX'))!;
    const future = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const [later] = await gen(c, `imap://${enc(USER)}@localhost/INBOX;uidvalidity=${inbox.uidValidity}/;uid=1;expire=${future};urlauth=authuser`);
    assert.equal(await fetch(c, later!), message('draft', BODY));
    const past = new Date(Date.now() - 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    const expiredRump = `imap://${enc(USER)}@localhost/INBOX/;uid=1;expire=${past};urlauth=authuser`;
    await c.bad(`GENURLAUTH "${expiredRump}" INTERNAL`);
    // A URL made before its expiry (the token is right) stops working after it.
    const key = (await h.store.urlauthKeys.key(h.accountId, inbox.id, 'INTERNAL', false))!;
    assert.equal(await fetch(c, `${expiredRump}:internal:${internalToken(key, expiredRump)}`), null);
    const wrongValidity = `imap://${enc(USER)}@localhost/INBOX;uidvalidity=${inbox.uidValidity + 1}/;uid=1;urlauth=authuser`;
    await c.bad(`GENURLAUTH "${wrongValidity}" INTERNAL`);
    assert.equal(await fetch(c, `${wrongValidity}:internal:${internalToken(key, wrongValidity)}`), null);
  });

  it('RESETKEY: a mailbox key replaced (URLMECH), then all keys; old URLs NIL, new ones work', async () => {
    await c.ok('CREATE Drafts2');
    assert.equal((await c.append('Drafts2', message('second', BODY))).status, 'OK');
    const [a, b] = await gen(c, rump(USER, 'INBOX/;uid=1', 'authuser'), rump(USER, 'Drafts2/;uid=1', 'authuser'));
    assert.notEqual(await fetch(c, a!), null);
    const r = await c.ok('RESETKEY INBOX');
    assert.match(r.text, /^\[URLMECH INTERNAL\] /);
    assert.equal(await fetch(c, a!), null);
    assert.notEqual(await fetch(c, b!), null, 'other mailboxes keep their key');
    const [a2] = await gen(c, rump(USER, 'INBOX/;uid=1', 'authuser'));
    assert.notEqual(a2, a);
    assert.notEqual(await fetch(c, a2!), null);
    await c.ok('RESETKEY');
    assert.equal(await fetch(c, a2!), null);
    assert.equal(await fetch(c, b!), null);
    await c.no('RESETKEY NoSuchBox', 'NONEXISTENT');
    await c.no('RESETKEY INBOX XSAMPLE');
    assert.match((await c.ok('RESETKEY INBOX internal')).text, /^\[URLMECH INTERNAL\] /);
  });

  it('a mailbox name beyond ASCII: UTF-8 percent-encoded in the URL (RFC 5092), modified UTF-7 in RESETKEY', async () => {
    await c.ok('CREATE "Entw&APw-rfe"');
    assert.equal((await c.append('"Entw&APw-rfe"', message('umlaut', BODY))).status, 'OK');
    const [u] = await gen(c, rump(USER, 'Entw%C3%BCrfe/;uid=1', 'authuser'));
    assert.equal(await fetch(c, u!), message('umlaut', BODY));
    await c.ok('RESETKEY "Entw&APw-rfe"');
    assert.equal(await fetch(c, u!), null);
  });

  it('bad syntax and bad URLs: BAD, the session goes on', async () => {
    const ok = rump(USER, 'INBOX/;uid=1', 'authuser');
    await c.bad('GENURLAUTH');
    await c.bad(`GENURLAUTH "${ok}"`);
    await c.bad(`GENURLAUTH "${ok}" XSAMPLE`);
    await c.bad(`GENURLAUTH "imap://${enc(USER)}@localhost/INBOX/;uid=1" INTERNAL`);
    await c.bad(`GENURLAUTH "imap://localhost/INBOX/;uid=1;urlauth=authuser" INTERNAL`);
    await c.bad(`GENURLAUTH "${rump(USER, 'INBOX/;uid=99', 'authuser')}" INTERNAL`);
    await c.bad(`GENURLAUTH "${rump(USER, 'Nope/;uid=1', 'authuser')}" INTERNAL`);
    await c.bad(`GENURLAUTH "${rump(USER, 'INBOX/;uid=1', 'someone')}" INTERNAL`);
    await c.bad('GENURLAUTH "not a url" INTERNAL');
    await c.bad('URLFETCH');
    await c.bad(`URLFETCH ("${ok}" BODY BINARY)`);
    await c.bad(`URLFETCH ("${ok}" FOO)`);
    await c.bad('RESETKEY INBOX (INTERNAL)');
    const pre = await h.client({ login: false });
    assert.equal((await pre.cmd(`URLFETCH "${ok}"`)).status, 'BAD');
    pre.destroy();
    assert.equal((await c.ok('NOOP')).status, 'OK');
  });

  it('URLAUTH=BINARY (RFC 5524): BINARY decoded (literal8 with NUL), BODYPARTSTRUCTURE, BODY', async () => {
    const raw = Buffer.from([0, 1, 2, 255, 0x0d, 0x0a, 0x41]);
    const mixed =
      'From: a@example.org\r\nSubject: parts\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n' +
      '--b\r\nContent-Type: text/plain\r\n\r\nplain text\r\n' +
      `--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n${raw.toString('base64')}\r\n--b--\r\n`;
    const appended = await c.append('INBOX', mixed);
    const uid = Number(/APPENDUID \d+ (\d+)/.exec(appended.text)![1]);
    assert.ok((await c.ok('CAPABILITY')).untagged[0]!.split(' ').includes('URLAUTH=BINARY'));
    const [att, text, head] = await gen(c, rump(USER, `INBOX/;uid=${uid}/;section=2`, 'authuser'), rump(USER, `INBOX/;uid=${uid}/;section=1`, 'authuser'), rump(USER, `INBOX/;uid=${uid}/;section=HEADER`, 'authuser'));
    const one = async (arg: string): Promise<string> => {
      const r = await c.ok(`URLFETCH ${arg}`);
      assert.equal(r.untagged.length, 1, r.untagged.join('\n'));
      return r.untagged[0]!;
    };
    assert.equal(await one(`("${att}" BINARY)`), `* URLFETCH "${att}" (BINARY ~{${raw.length}}\r\n${raw.toString('latin1')})`);
    // The part's structure is the one FETCH BODYSTRUCTURE shows for it inside the message's.
    const bs = (await c.ok('SELECT INBOX'), (await c.ok(`UID FETCH ${uid} BODYSTRUCTURE`)).untagged.find((l) => l.includes('BODYSTRUCTURE'))!);
    await c.ok('UNSELECT');
    const structure = /^\* URLFETCH "[^"]+" \(BODYPARTSTRUCTURE (\(.*\))\)$/.exec(await one(`("${att}" BODYPARTSTRUCTURE)`));
    assert.ok(structure, 'BODYPARTSTRUCTURE only');
    assert.ok(bs.includes(structure[1]!), `${structure[1]} in ${bs}`);
    assert.match(structure[1]!, /^\("application" "octet-stream"/i);
    const both = await one(`("${text}" BODYPARTSTRUCTURE BODY)`);
    assert.match(both, /^\* URLFETCH "[^"]+" \(BODYPARTSTRUCTURE \("text" "plain" .*\) BODY \{10\}\r\nplain text\)$/is);
    assert.equal(await one(`("${text}")`), `* URLFETCH "${text}" (BODY {10}\r\nplain text)`);
    assert.equal(await one(`("${text}" BINARY)`), `* URLFETCH "${text}" (BINARY {10}\r\nplain text)`);
    // The plain form gives the part as stored (base64 here), BINARY decodes it.
    assert.equal(await one(`"${att}"`), `* URLFETCH "${att}" {12}\r\n${raw.toString('base64')}`);
    // HEADER is no body part: its BINARY is its bytes, its structure the message's (as Dovecot).
    const header = mixed.slice(0, mixed.indexOf('\r\n\r\n') + 4);
    assert.equal(await one(`("${head}" BINARY)`), `* URLFETCH "${head}" (BINARY {${header.length}}\r\n${header})`);
    assert.match(await one(`("${head}" BODYPARTSTRUCTURE)`), /^\* URLFETCH "[^"]+" \(BODYPARTSTRUCTURE \(\("text" "plain"/i);
    assert.equal(await one(`("${att.slice(0, -1)}${att.endsWith('0') ? '1' : '0'}" BINARY)`), `* URLFETCH "${att.slice(0, -1)}${att.endsWith('0') ? '1' : '0'}" NIL`);
  });

  it('python3 imaplib: GENURLAUTH and URLFETCH', async () => {
    const u = rump(USER, 'INBOX/;uid=1/;section=1', 'authuser');
    const script = `
import imaplib, ssl
imaplib.Commands['GENURLAUTH'] = ('AUTH', 'SELECTED')
imaplib.Commands['URLFETCH'] = ('AUTH', 'SELECTED')
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
m = imaplib.IMAP4_SSL('127.0.0.1', ${h.tlsPort}, ssl_context=ctx)
m.login('${USER}', '${PASSWORD}')
print('caps', 'URLAUTH' in m.capabilities)
typ, dat = m._simple_command('GENURLAUTH', '"${u}"', 'INTERNAL')
url = m._untagged_response(typ, dat, 'GENURLAUTH')[1][0].decode().strip('"')
print('gen', typ, url.startswith('${u}:internal:'))
typ, dat = m._simple_command('URLFETCH', '"%s"' % url)
print('fetch', typ, m._untagged_response(typ, dat, 'URLFETCH')[1])
m.logout()
`;
    const { stdout } = await promisify(execFile)('python3', ['-c', script], { timeout: 20000 });
    assert.match(stdout, /^caps True$/m);
    assert.match(stdout, /^gen OK True$/m);
    assert.match(stdout, /^fetch OK \[\(b'"imap:\/\/.*" \{28\}', b'Si vis pacem, para bellum\.\\r\\n'\), b''\]$/m);
  });
});
