// Training by moving mail, from real clients: mail arrives on port 25 (DNS from unbound), imapflow
// moves the spam (and by mistake one ham) into Junk, Python's imaplib moves that ham back out and
// flags the rest of the ham $NotJunk. The filter learns from those actions alone, and the next
// spam is delivered to Junk with its verdict, the next ham to the Inbox.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { ImapFlow } from 'imapflow';
import { resolverAt } from '../../src/server/dns-resolver.js';
import { ADDRESS, PASSWORD, startTestServer, type TestServer } from '../e2e/server-harness.js';
import { SmtpClient, header } from '../smtp/harness.js';
import { startUnbound, unboundInstalled, type Unbound } from '../dmarc/unbound.js';
import { generateMessage, rng } from './corpus.js';

let dns: Unbound | undefined;
let srv: TestServer;

before(async () => {
  if (!unboundInstalled()) return;
  // The corpus senders' domains exist in no DNS: SPF/DKIM/DMARC give none, quickly.
  dns = await startUnbound(['example', 'test'], [{ name: 'ns.example', type: 'A', value: '127.0.0.1' }]);
  srv = await startTestServer({ services: ['smtp', 'imaps'], hooks: { resolver: resolverAt(dns.address) }, config: { junk: { threshold: 0.9 } } });
});
after(async () => {
  await srv?.stop();
  await dns?.stop();
});

async function deliver(raw: Buffer): Promise<void> {
  const c = await SmtpClient.connect(srv.ports.smtp!);
  await c.expect(220);
  await c.ehlo('mx.sender.example');
  await c.cmd('MAIL FROM:<x@sender.example>', 250);
  await c.cmd(`RCPT TO:<${ADDRESS}>`, 250);
  await c.cmd('DATA', 354);
  c.write(Buffer.concat([raw, Buffer.from('.\r\n')]));
  await c.expect(250);
  c.close();
}

/** Messages of each class delivered, then sorted by the clients. */
const PER_CLASS = 60;

const isSpam = (messageId: string) => /\.s@/.test(messageId);

async function waitTrained(spam: number, ham: number): Promise<void> {
  const id = (await srv.server.ctx.store.getAccount('alice'))?.id ?? (await srv.server.ctx.store.lookupAddress(ADDRESS))!.accountId;
  const deadline = Date.now() + 20_000;
  for (;;) {
    await srv.server.ctx.junk!.idle();
    const s = await srv.server.ctx.store.junk.state(id);
    if (s.spamMessages === spam && s.hamMessages === ham) return;
    if (Date.now() > deadline) assert.fail(`trained ${s.spamMessages} spam / ${s.hamMessages} ham, want ${spam} / ${ham}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('imapflow and imaplib moving mail train the filter; new mail is then sorted', async (t) => {
  if (!dns) {
    if (process.env.CI) throw new Error('unbound is not installed (.ci/apt-packages)');
    return t.skip('unbound not installed');
  }
  const py = spawnSync('python3', ['-c', 'import imaplib']);
  if (py.status !== 0) {
    if (process.env.CI) throw new Error('python3 missing');
    return t.skip('python3 missing');
  }
  const r = rng(4242);
  const first: Buffer[] = [];
  for (let i = 0; i < 2 * PER_CLASS; i++) first.push(generateMessage(r, i % 2 === 0, 1000 + i));
  for (const m of first) await deliver(m);

  const flow = new ImapFlow({ host: '127.0.0.1', port: srv.ports.imaps!, secure: true, tls: { rejectUnauthorized: false }, auth: { user: ADDRESS, pass: PASSWORD }, logger: false });
  await flow.connect();
  let mistaken = '';
  const lock = await flow.getMailboxLock('INBOX');
  try {
    const toJunk: number[] = [];
    for await (const m of flow.fetch('1:*', { uid: true, envelope: true, headers: ['x-postern-junk'] })) {
      assert.match(m.headers!.toString(), /X-Postern-Junk: untrained/i);
      const spam = isSpam(m.envelope!.messageId!);
      if (spam) toJunk.push(m.uid);
      else if (!mistaken) {
        mistaken = m.envelope!.messageId!;
        toJunk.push(m.uid);
      }
    }
    assert.equal(toJunk.length, PER_CLASS + 1);
    await flow.messageMove(toJunk.join(','), 'Junk', { uid: true });
  } finally {
    lock.release();
  }
  await flow.logout();
  await waitTrained(PER_CLASS + 1, 0);

  // imaplib: the mistaken ham goes back to the INBOX; the other ham is flagged $NotJunk.
  const script = `
import imaplib, ssl, sys
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
M = imaplib.IMAP4_SSL('127.0.0.1', ${srv.ports.imaps}, ssl_context=ctx)
M.login('${ADDRESS}', '${PASSWORD}')
M.select('Junk')
typ, data = M.uid('SEARCH', None, 'HEADER', 'Message-ID', '${mistaken.replace(/[<>]/g, '')}')
uids = data[0].split()
assert len(uids) == 1, data
typ, resp = M.uid('MOVE', uids[0].decode(), 'INBOX')
assert typ == 'OK', resp
M.select('INBOX')
typ, data = M.uid('SEARCH', None, 'NOT', 'HEADER', 'Message-ID', '.s@')
uids = [u.decode() for u in data[0].split()]
assert len(uids) == ${PER_CLASS}, uids
typ, resp = M.uid('STORE', ','.join(uids), '+FLAGS', '($NotJunk)')
assert typ == 'OK', resp
M.logout()
`;
  // Asynchronously: the server runs in this process.
  await promisify(execFile)('python3', ['-c', script], { encoding: 'utf8', timeout: 30_000 });
  // The mistaken message moved from spam to ham; the others flagged.
  await waitTrained(PER_CLASS, PER_CLASS);

  const next: Buffer[] = [];
  for (let i = 0; i < 20; i++) next.push(generateMessage(r, i % 2 === 0, 2000 + i));
  for (const m of next) await deliver(m);
  const store = srv.server.ctx.store;
  const id = (await store.lookupAddress(ADDRESS))!.accountId;
  const box = async (name: string) => {
    const mb = (await store.getMailbox(id, name))!;
    return Promise.all((await store.listMessages(mb.id)).map((m) => store.readBlob(m.fileId)));
  };
  const fresh = (msgs: Buffer[]) => msgs.filter((m) => /@/.test(header(m, 'Message-ID') ?? '') && /<c2\d{3}\./.test(header(m, 'Message-ID')!));
  const junk = fresh(await box('Junk'));
  const inbox = fresh(await box('INBOX'));
  const fp = junk.filter((m) => !isSpam(header(m, 'Message-ID')!)).length;
  const caught = junk.filter((m) => isSpam(header(m, 'Message-ID')!)).length;
  console.log(`# after training by IMAP moves: ${caught}/10 new spam to Junk, ${fp}/10 ham to Junk`);
  assert.equal(fp, 0, 'no ham in Junk');
  assert.ok(caught >= 9, `spam caught ${caught}`);
  for (const m of junk) assert.match(header(m, 'X-Postern-Junk')!, /^yes; score=0\.9\d*|^yes; score=1\.000/);
  for (const m of inbox) assert.match(header(m, 'X-Postern-Junk')!, /^no; score=/);
});
