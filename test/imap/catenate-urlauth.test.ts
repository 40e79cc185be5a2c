// CATENATE with URLAUTH-authorized URLs (RFC 4469 5, RFC 4467): a URL that another user authorized
// with GENURLAUTH lets this session copy that message or part into its own mailbox, as URLFETCH
// would read it; a tampered token, an access identifier that does not admit this session's user,
// `submit+` (the submission server's alone), an expired URL and a wrong UIDVALIDITY are all the
// same NO [BADURL], the session going on and nothing appended.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deriveCredentials } from '../../src/auth/password.js';
import { internalToken } from '../../src/imap/urlauth/token.js';
import { appendUid, runPython, sendPieces } from './catenate-support.js';
import { message, PASSWORD, startHarness, USER, type Client, type Harness } from './harness.js';

const OTHER = 'other@example.org';
const OTHER_PASSWORD = 'other-password-1';
const THIRD = 'third@example.org';
const enc = (s: string): string => s.replace(/@/g, '%40');
/** A rump URL of `owner`'s message (part) with the access identifier `access`. */
const rump = (owner: string, path: string, access: string): string => `imap://${enc(owner)}@localhost/${path};urlauth=${enc(access)}`;

const BODY = 'Quarterly figures attached.\r\n';

describe('CATENATE with URLAUTH URLs (RFC 4469 5, RFC 4467)', () => {
  let h: Harness;
  let a: Client;
  let b: Client;
  before(async () => {
    h = await startHarness();
    for (const [name, addr] of [['other', OTHER], ['third', THIRD]] as const) {
      const acct = await h.store.createAccount(name, addr);
      await h.store.setCredentials(acct.id, (await deriveCredentials(OTHER_PASSWORD)) as never);
    }
    a = await h.client();
    b = await h.client({ login: false });
    await b.ok(`LOGIN ${OTHER} ${OTHER_PASSWORD}`);
    assert.equal((await a.append('INBOX', message('from A', BODY))).status, 'OK');
  });
  after(async () => {
    a?.destroy();
    b?.destroy();
    await h?.close();
  });

  const gen = async (client: Client, url: string): Promise<string> => {
    const r = await client.ok(`GENURLAUTH "${url}" INTERNAL`);
    const m = /^\* GENURLAUTH "([^"]*)"$/.exec(r.untagged.find((l) => l.startsWith('* GENURLAUTH ')) ?? '');
    assert.ok(m, r.untagged.join('\n'));
    return m[1]!;
  };
  const lastMessage = async (client: Client): Promise<string> => {
    const r = await client.ok('FETCH * (BODY.PEEK[])');
    const m = /BODY\[\] \{(\d+)\}\r\n([\s\S]*)\)$/.exec(r.untagged.find((l) => l.includes(' FETCH ')) ?? '');
    assert.ok(m, r.untagged.join('\n'));
    return m[2]!.slice(0, Number(m[1]));
  };

  it("user+<B>, authuser and anonymous URLs made by A: B's CATENATE copies A's message and part", async () => {
    const whole = await gen(a, rump(USER, 'INBOX/;uid=1', `user+${OTHER}`));
    const part = await gen(a, rump(USER, 'INBOX/;uid=1/;section=TEXT', 'authuser'));
    const anon = await gen(a, rump(USER, 'INBOX/;uid=1/;section=HEADER', 'anonymous'));
    const r = await sendPieces(b, ['APPEND INBOX CATENATE (URL "', whole, '" TEXT ', { lit: '--\r\n' }, ` URL "${part}" URL "${anon}")`]);
    assert.equal(r.status, 'OK', r.text);
    assert.ok(appendUid(r.text) > 0);
    await b.ok('SELECT INBOX');
    const got = await lastMessage(b);
    const original = message('from A', BODY);
    const header = original.slice(0, original.indexOf('\r\n\r\n') + 4);
    assert.equal(got, `${original}--\r\n${BODY}${header}`);
    await b.ok('UNSELECT');
  });

  it('a URL as a literal works too, and A may use its own authorized URL', async () => {
    const url = await gen(a, rump(USER, 'INBOX/;uid=1/;section=TEXT', `user+${USER}`));
    const r = await sendPieces(a, ['APPEND INBOX CATENATE (URL ', { lit: url }, ')']);
    assert.equal(r.status, 'OK', r.text);
  });

  it('tampered token, wrong access, submit+, expired, wrong UIDVALIDITY, missing verifier: NO [BADURL], nothing added', async () => {
    const inbox = (await h.store.getMailbox(h.accountId, 'INBOX'))!;
    const key = (await h.store.urlauthKeys.key(h.accountId, inbox.id, 'INTERNAL', false))!;
    const good = await gen(a, rump(USER, 'INBOX/;uid=1', `user+${OTHER}`));
    const past = new Date(Date.now() - 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    const expired = `imap://${enc(USER)}@localhost/INBOX/;uid=1;expire=${past};urlauth=user+${enc(OTHER)}`;
    const badValidity = `imap://${enc(USER)}@localhost/INBOX;uidvalidity=${inbox.uidValidity + 1}/;uid=1;urlauth=authuser`;
    const cases = [
      // One hex digit changed.
      good.slice(0, -1) + (good.endsWith('0') ? '1' : '0'),
      // The token of uid 1 on uid 2.
      good.replace(';uid=1', ';uid=2'),
      // Access for a third user only.
      await gen(a, rump(USER, 'INBOX/;uid=1', `user+${THIRD}`)),
      // RFC 4467 3: submit+ is for the submission server acting for that user, never an IMAP session.
      await gen(a, rump(USER, 'INBOX/;uid=1', `submit+${OTHER}`)),
      // Right token, past its EXPIRE (GENURLAUTH would not make it: computed here).
      `${expired}:internal:${internalToken(key, expired)}`,
      `${badValidity}:internal:${internalToken(key, badValidity)}`,
      // No verifier at all: another user's message, not readable.
      `imap://${enc(USER)}@localhost/INBOX/;uid=1`,
    ];
    await b.ok('CREATE Copies');
    for (const url of cases) {
      const r = await b.cmd(`APPEND Copies CATENATE (TEXT {1+}\r\nx URL "${url}")`);
      assert.equal(r.status, 'NO', url);
      assert.ok(r.text.startsWith(`[BADURL ${url}] `), `${url}: ${r.text}`);
    }
    assert.match((await b.ok('STATUS Copies (MESSAGES)')).untagged[0]!, /MESSAGES 0\)/);
    // The same tokens still work for URLFETCH only where they should: the good one, as a check.
    const r = await b.ok(`URLFETCH "${good}"`);
    assert.ok(r.untagged[0]!.startsWith(`* URLFETCH "${good}" {`), r.untagged[0]);
  });

  it('after RESETKEY the old URL is BADURL in CATENATE', async () => {
    const url = await gen(a, rump(USER, 'INBOX/;uid=1', 'authuser'));
    await b.ok(`APPEND Copies CATENATE (URL "${url}")`);
    await a.ok('RESETKEY INBOX INTERNAL');
    const r = await b.cmd(`APPEND Copies CATENATE (URL "${url}")`);
    assert.equal(r.status, 'NO');
    assert.ok(r.text.startsWith(`[BADURL ${url}] `), r.text);
  });

  it('python imaplib: A makes the URL with GENURLAUTH, B copies with CATENATE', async (t) => {
    const script = `
import imaplib, ssl, sys, re
imaplib.Commands['GENURLAUTH'] = ('AUTH', 'SELECTED')
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
def login(user, pw):
    m = imaplib.IMAP4_SSL('127.0.0.1', int(sys.argv[1]), ssl_context=ctx)
    m.login(user, pw)
    return m
a = login(sys.argv[2], sys.argv[3])
rump = 'imap://%s@localhost/INBOX/;uid=1/;section=TEXT;urlauth=user+%s' % (sys.argv[2].replace('@', '%40'), sys.argv[4].replace('@', '%40'))
typ, data = a._simple_command('GENURLAUTH', '"%s"' % rump, 'INTERNAL')
url = re.search(r'"([^"]*)"', a.untagged_responses['GENURLAUTH'][0].decode()).group(1)
b = login(sys.argv[4], sys.argv[5])
typ, data = b._simple_command('APPEND', 'INBOX', 'CATENATE', '(URL "%s")' % url)
print(typ, b.untagged_responses.get('APPENDUID'))
typ, data = b._simple_command('APPEND', 'INBOX', 'CATENATE', '(URL "%s")' % (url[:-1] + ('1' if url.endswith('0') else '0')))
print(typ, data[0].decode()[:8])
a.logout(); b.logout()
`;
    const out = await runPython(t, script, [String(h.tlsPort), USER, PASSWORD, OTHER, OTHER_PASSWORD]);
    if (out === null) return;
    const lines = out.trim().split('\n');
    assert.equal(lines.length, 2, out);
    assert.match(lines[0]!, /^OK \[b'\d+ \d+'\]$/);
    assert.equal(lines[1], 'NO [BADURL');
    await b.ok('SELECT INBOX');
    assert.equal(await lastMessage(b), BODY);
    await b.ok('UNSELECT');
  });
});
