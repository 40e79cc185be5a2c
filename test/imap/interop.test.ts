// Interop with real clients: imapflow (npm), python3 imaplib, curl imap(s)://.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ImapFlow } from 'imapflow';
import { PASSWORD, USER, message, startHarness, type Harness } from './harness.js';

const run = promisify(execFile);

describe('imap interop', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    const c = await h.client();
    await c.append('INBOX', message('interop hello', 'a body with kumquat\r\n'));
    c.destroy();
  });
  after(async () => {
    await h.close();
  });

  it('imapflow: login, list, fetch, search, append, idle-free flags', async () => {
    const client = new ImapFlow({ host: '127.0.0.1', port: h.tlsPort, secure: true, tls: { rejectUnauthorized: false }, auth: { user: USER, pass: PASSWORD }, logger: false });
    await client.connect();
    const boxes = await client.list();
    assert.ok(boxes.some((b) => b.path === 'Sent' && b.specialUse === '\\Sent'));
    const lock = await client.getMailboxLock('INBOX');
    try {
      const msgs = [];
      for await (const m of client.fetch('1:*', { envelope: true, flags: true, source: true })) msgs.push(m);
      assert.equal(msgs[0]!.envelope!.subject, 'interop hello');
      assert.match(msgs[0]!.source!.toString(), /kumquat/);
      const found = await client.search({ body: 'kumquat' });
      assert.deepEqual(found, [1]);
      await client.messageFlagsAdd('1', ['\\Flagged']);
      const r = await client.append('INBOX', message('from imapflow'), ['\\Seen']);
      assert.ok(r && typeof r === 'object' && r.uid === 2);
    } finally {
      lock.release();
    }
    await client.logout();
  });

  it('python3 imaplib: STARTTLS, login, select, search, fetch', async () => {
    const script = `
import imaplib, ssl, sys
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
m = imaplib.IMAP4('127.0.0.1', ${h.plainPort})
m.starttls(ssl_context=ctx)
m.login('${USER}', '${PASSWORD}')
typ, data = m.select('INBOX')
print('select', typ, data[0].decode())
typ, data = m.search(None, 'SUBJECT', '"interop hello"')
print('search', typ, data[0].decode())
typ, data = m.fetch('1', '(BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
print('fetch', typ, data[0][1].decode().strip())
typ, data = m.list()
print('list', typ, len(data))
m.logout()
`;
    const { stdout } = await run('python3', ['-c', script], { timeout: 20000 });
    assert.match(stdout, /select OK \d+/);
    assert.match(stdout, /search OK 1/);
    assert.match(stdout, /fetch OK Subject: interop hello/);
    assert.match(stdout, /list OK \d+/);
  });

  it('curl: list, fetch, search, append', async () => {
    const base = `imaps://127.0.0.1:${h.tlsPort}`;
    const auth = ['-k', '-s', '--user', `${USER}:${PASSWORD}`];
    let r = await run('curl', [...auth, `${base}/`], { timeout: 20000 });
    assert.match(r.stdout, /\* LIST \(.*\) "\/" INBOX/);
    r = await run('curl', [...auth, `${base}/INBOX/;UID=1`], { timeout: 20000 });
    assert.match(r.stdout, /kumquat/);
    r = await run('curl', [...auth, `${base}/INBOX`, '-X', 'SEARCH BODY kumquat'], { timeout: 20000 });
    assert.match(r.stdout, /\* SEARCH 1/);
    const file = join(h.dir, 'curl-upload.eml');
    writeFileSync(file, message('via curl'));
    await run('curl', [...auth, `${base}/Drafts`, '-T', file], { timeout: 20000 });
    r = await run('curl', [...auth, `${base}/Drafts`, '-X', 'SEARCH SUBJECT "via curl"'], { timeout: 20000 });
    assert.match(r.stdout, /\* SEARCH 1/);
  });
});
