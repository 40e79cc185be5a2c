// BURL (RFC 4468) end to end: a draft APPENDed over IMAP, GENURLAUTHed for `submit+alice`, sent by
// submission with `BURL url LAST` (python3 imaplib and smtplib as the real client), and delivered
// byte for byte under our Received and DKIM-Signature fields. Also BURL mixed with BDAT chunks,
// URLs that fail (554, the session goes on), and BURL neither offered nor taken before AUTH or on
// port 25.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startImapListener, type ImapListener } from '../../src/imap/server/index.js';
import { generateUrlauth } from '../../src/imap/urlauth/authorize.js';
import { createLogger, type Logger } from '../../src/log/logger.js';
import { HOSTNAME, PASSWORD, SmtpClient, header, plain, startHarness, type Harness } from './harness.js';

const ALICE = 'alice@example.test';
const enc = (s: string): string => s.replace(/@/g, '%40');
const DRAFT = 'From: Alice <alice@example.test>\r\nTo: bob@example.test\r\nSubject: pawn ticket\r\nMessage-ID: <draft1@example.test>\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\nSent from the server, uploaded once.\r\n';

describe('BURL (RFC 4468)', () => {
  let h: Harness;
  let imap: ImapListener;
  let draftUid: number;
  before(async () => {
    h = await startHarness();
    imap = await startImapListener(h.ctx, { host: '127.0.0.1', port: 0, implicitTls: true, requestClientCert: false });
    const drafts = (await h.store.getMailbox(h.alice.id, 'Drafts'))!;
    const blob = await h.store.stageBlob(Buffer.from(DRAFT));
    draftUid = (await h.store.appendMessages(h.alice.id, drafts.id, [{ blob, flags: ['\\Draft'], internalDate: new Date(), cache: null }])).uids[0]!;
  });
  after(async () => {
    await imap?.close();
    await h?.close();
  });

  /** A URLAUTH URL for the draft, made the way GENURLAUTH makes it. */
  const urlFor = async (access: string, path = `Drafts/;uid=${draftUid}`): Promise<string> => {
    const r = await generateUrlauth(h.store, h.alice.id, `imap://${enc(ALICE)}@${HOSTNAME}/${path};urlauth=${enc(access)}`, 'INTERNAL', new Date());
    assert.ok(r.ok, r.ok ? '' : r.why);
    return r.url;
  };

  async function loggedIn(): Promise<SmtpClient> {
    const c = await SmtpClient.connect(h.ports.submissions, { tls: true });
    await c.expect(220);
    await c.ehlo();
    await c.cmd(`AUTH PLAIN ${plain(ALICE, PASSWORD)}`, 235, '2.7.0');
    return c;
  }

  it('python3: APPEND a draft, GENURLAUTH submit+alice, BURL it: delivered byte for byte, DKIM-signed', async () => {
    const before = (await h.inbox(h.bob.id)).length;
    const script = `
import imaplib, smtplib, ssl, re
imaplib.Commands['GENURLAUTH'] = ('AUTH', 'SELECTED')
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
draft = ${JSON.stringify(DRAFT)}.encode()
m = imaplib.IMAP4_SSL('127.0.0.1', ${imap.port}, ssl_context=ctx)
m.login('${ALICE}', '${PASSWORD}')
typ, dat = m.append('Drafts', '(\\\\Draft)', None, draft)
uid = int(re.search(rb'APPENDUID \\d+ (\\d+)', dat[0]).group(1))
rump = 'imap://${enc(ALICE)}@${HOSTNAME}/Drafts/;uid=' + str(uid) + ';urlauth=submit+${enc(ALICE)}'
typ, dat = m._simple_command('GENURLAUTH', '"' + rump + '"', 'INTERNAL')
url = m._untagged_response(typ, dat, 'GENURLAUTH')[1][0].decode().strip('"')
m.logout()
s = smtplib.SMTP_SSL('127.0.0.1', ${h.ports.submissions}, context=ctx)
s.ehlo()
print('before-auth', s.has_extn('burl'), s.docmd('BURL', url + ' LAST')[0])
s.login('${ALICE}', '${PASSWORD}')
s.ehlo()
print('after-auth', s.esmtp_features.get('burl'))
s.mail('${ALICE}')
s.rcpt('bob@example.test')
code, msg = s.docmd('BURL', url + ' LAST')
print('burl', code, msg.decode())
s.quit()
`;
    const { stdout } = await promisify(execFile)('python3', ['-c', script], { timeout: 20000 });
    // RFC 4468 3.1: BURL without arguments before AUTH (supported, authentication needed).
    assert.match(stdout, /^before-auth True 530$/m);
    assert.match(stdout, new RegExp(`^after-auth imap imap://${HOSTNAME}$`, 'm'));
    assert.match(stdout, /^burl 250 2\.6\.0 message accepted/m);
    const inbox = await h.inbox(h.bob.id);
    assert.equal(inbox.length, before + 1);
    const got = inbox[inbox.length - 1]!;
    assert.ok(got.toString('latin1').endsWith(DRAFT), 'the draft, byte for byte, after our fields');
    assert.match(header(got, 'received') ?? '', new RegExp(`by ${HOSTNAME.replace(/\./g, '\\.')}`));
    assert.match(header(got, 'dkim-signature') ?? '', /d=example\.test/);
  });

  it('BURL mixed with BDAT chunks, in order; BURL without LAST then BDAT 0 LAST', async () => {
    const url = await urlFor(`submit+${ALICE}`, `Drafts/;uid=${draftUid}/;section=TEXT`);
    const c = await loggedIn();
    await c.cmd(`MAIL FROM:<${ALICE}>`, 250);
    await c.cmd('RCPT TO:<bob@example.test>', 250);
    const head = 'From: alice@example.test\r\nTo: bob@example.test\r\nSubject: assembled\r\n\r\n';
    c.write(`BDAT ${head.length}\r\n${head}`);
    await c.expect(250);
    await c.cmd(`BURL ${url}`, 250, '2.5.0');
    const tail = '-- \r\nsig\r\n';
    c.write(`BDAT ${tail.length} LAST\r\n${tail}`);
    await c.expect(250, '2.6.0');
    let inbox = await h.inbox(h.bob.id);
    assert.ok(inbox[inbox.length - 1]!.toString('latin1').endsWith(head + 'Sent from the server, uploaded once.\r\n' + tail));

    await c.cmd(`MAIL FROM:<${ALICE}>`, 250);
    await c.cmd('RCPT TO:<bob@example.test>', 250);
    await c.cmd(`BURL ${await urlFor(`submit+${ALICE}`)}`, 250, '2.5.0');
    c.write('BDAT 0 LAST\r\n');
    await c.expect(250, '2.6.0');
    inbox = await h.inbox(h.bob.id);
    assert.ok(inbox[inbox.length - 1]!.toString('latin1').endsWith(DRAFT));
    c.close();
  });

  it('the user\'s own plain IMAP URL, and user+/authuser URLs, are taken too', async () => {
    const c = await loggedIn();
    for (const url of [`imap://${enc(ALICE)}@${HOSTNAME}/Drafts/;uid=${draftUid}`, await urlFor(`user+${ALICE}`), await urlFor('authuser')]) {
      await c.cmd(`MAIL FROM:<${ALICE}>`, 250);
      await c.cmd('RCPT TO:<bob@example.test>', 250);
      await c.cmd(`BURL ${url} LAST`, 250, '2.6.0');
    }
    c.close();
  });

  it('URLs that fail: 554 with the RFC 4468 codes, the session goes on', async () => {
    const good = await urlFor(`submit+${ALICE}`);
    const c = await loggedIn();
    const tx = async (): Promise<void> => {
      await c.cmd(`MAIL FROM:<${ALICE}>`, 250);
      await c.cmd('RCPT TO:<bob@example.test>', 250);
    };
    const cases: [string, number, string][] = [
      [good.slice(0, -1) + (good.endsWith('0') ? '1' : '0'), 554, '5.7.0'],
      [await urlFor('submit+bob%40example.test'), 554, '5.7.0'],
      [`imap://bob%40example.test@${HOSTNAME}/INBOX/;uid=1`, 554, '5.7.0'],
      [`imap://${enc(ALICE)}@${HOSTNAME}/Drafts/;uid=999`, 554, '5.6.6'],
      ['https://example.test/draft', 554, '5.5.4'],
      // A plain URL of another server: no trust relationship with it (RFC 4468 3.3).
      [`imap://${enc(ALICE)}@imap.elsewhere.test/Drafts/;uid=${draftUid}`, 554, '5.7.14'],
      ['imap://[bad', 554, '5.7.0'],
    ];
    for (const [url, code, enhanced] of cases) {
      await tx();
      await c.cmd(`BURL ${url} LAST`, code, enhanced);
    }
    // After a failed BURL without LAST the transaction takes no more chunks (RFC 3030 2).
    await tx();
    await c.cmd(`BURL ${cases[0]![0]}`, 554, '5.7.0');
    c.write('BDAT 3 LAST\r\nabc');
    await c.expect(503);
    // Syntax: 501 5.5.4, no MAIL: 503; the session still sends mail.
    await c.cmd('BURL', 501, '5.5.4');
    await c.cmd(`BURL ${good} LAST`, 503);
    await tx();
    await c.cmd(`BURL ${good} LAST`, 250, '2.6.0');
    c.close();
  });

  it('a message over the size limit: 552 5.3.4; tokens and keys never reach the log', async () => {
    const lines: string[] = [];
    const log = h.ctx.log;
    (h.ctx as { log: Logger }).log = createLogger({ level: 'debug', write: (l) => lines.push(l) });
    try {
      const max = h.ctx.config.limits.smtp.maxMessageSize;
      (h.ctx.config.limits.smtp as { maxMessageSize: number }).maxMessageSize = DRAFT.length - 1;
      const good = await urlFor(`submit+${ALICE}`);
      const c = await loggedIn();
      await c.cmd(`MAIL FROM:<${ALICE}>`, 250);
      await c.cmd('RCPT TO:<bob@example.test>', 250);
      await c.cmd(`BURL ${good} LAST`, 552, '5.3.4');
      (h.ctx.config.limits.smtp as { maxMessageSize: number }).maxMessageSize = max;
      await c.cmd(`MAIL FROM:<${ALICE}>`, 250);
      await c.cmd('RCPT TO:<bob@example.test>', 250);
      await c.cmd(`BURL ${good.slice(0, -1)}${good.endsWith('0') ? '1' : '0'} LAST`, 554, '5.7.0');
      await c.cmd(`MAIL FROM:<${ALICE}>`, 250);
      await c.cmd('RCPT TO:<bob@example.test>', 250);
      await c.cmd(`BURL ${good} LAST`, 250);
      c.close();
      const drafts = (await h.store.getMailbox(h.alice.id, 'Drafts'))!;
      const key = (await h.store.urlauthKeys.key(h.alice.id, drafts.id, 'INTERNAL', false))!;
      assert.ok(lines.some((l) => l.includes('BURL refused')), 'the refusal is logged');
      const all = lines.join('\n');
      for (const secret of [good.slice(good.lastIndexOf(':') + 1), good.slice(-40), key.toString('hex'), key.toString('base64')]) assert.ok(!all.includes(secret), 'secret in the log');
    } finally {
      (h.ctx as { log: Logger }).log = log;
    }
  });

  it('not on port 25, and not usable before authentication', async () => {
    const url = await urlFor(`submit+${ALICE}`);
    const mx = await SmtpClient.connect(h.ports.smtp);
    await mx.expect(220);
    const caps = await mx.ehlo();
    assert.ok(!caps.some((l) => l.startsWith('BURL')), caps.join(','));
    await mx.cmd(`BURL ${url} LAST`, 502, '5.5.1');
    mx.close();
    // Before TLS on 587 (no AUTH offered) there is no BURL at all; after it, bare BURL (3.1).
    const plainSub = await SmtpClient.connect(h.ports.submission);
    await plainSub.expect(220);
    assert.ok(!(await plainSub.ehlo()).some((l) => l.startsWith('BURL')));
    plainSub.close();
    const sub = await SmtpClient.connect(h.ports.submissions, { tls: true });
    await sub.expect(220);
    assert.deepEqual((await sub.ehlo()).filter((l) => l.startsWith('BURL')), ['BURL']);
    await sub.cmd(`BURL ${url} LAST`, 530, '5.7.0');
    await sub.cmd(`AUTH PLAIN ${plain(ALICE, PASSWORD)}`, 235);
    assert.ok((await sub.ehlo()).includes(`BURL imap imap://${HOSTNAME}`));
    sub.close();
  });
});
