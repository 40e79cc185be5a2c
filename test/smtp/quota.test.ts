// Storage quota on SMTP delivery, driven by a real client (Python smtplib) on the incoming port:
// a recipient whose account is full is refused at RCPT with 552 5.2.2; a message that would take
// its only recipient over the quota is refused after DATA with 552 5.2.2; with several recipients
// the others get it (250) and the sender gets a DSN (RFC 3464, status 5.2.2) for the one over quota.
// External binary: python3; under CI=true a missing one is a failure.

import { needPeer } from '../e2e/need-peer.js';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { header, startHarness, type Harness } from './harness.js';

const run = promisify(execFile);

/** Sends one message; prints each reply as `RCPT <addr> <code> <text>` and `DATA <code> <text>`. */
const PY = `
import smtplib, sys
port, sender, rcpts, size, subject = int(sys.argv[1]), sys.argv[2], sys.argv[3].split(','), int(sys.argv[4]), sys.argv[5]
line = 'x' * 76 + '\\r\\n'
body = 'From: <%s>\\r\\nTo: <%s>\\r\\nSubject: %s\\r\\n\\r\\n' % (sender, rcpts[0], subject) + line * (size // len(line))
s = smtplib.SMTP('127.0.0.1', port, timeout=10)
s.ehlo('client.sender.test')
# With a sixth argument the client declares the message size (RFC 1870 SIZE).
s.mail(sender, ['SIZE=%d' % len(body)] if len(sys.argv) > 6 else [])
for r in rcpts:
    code, msg = s.rcpt(r)
    print('RCPT', r, code, msg.decode())
try:
    code, msg = s.data(body.encode())
except smtplib.SMTPDataError as e:
    code, msg = e.smtp_code, e.smtp_error
print('DATA', code, msg.decode())
s.quit()
`;

async function send(h: Harness, sender: string, rcpts: string[], size: number, subject: string, declareSize = false): Promise<string[]> {
  const r = await run('python3', ['-c', PY, String(h.ports.smtp), sender, rcpts.join(','), String(size), subject, ...(declareSize ? ['declare'] : [])]);
  return r.stdout.trim().split('\n');
}

describe('smtp delivery over quota (python smtplib)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  test('a full account is refused at RCPT with 552 5.2.2; the other recipient gets the message', async (t) => {
    if (!(await needPeer(t, 'python3'))) return;
    await h.store.setQuota('bob', 0);
    const out = await send(h, 'someone@sender.test', ['bob@example.test', 'alice@example.test'], 500, 'full at rcpt');
    assert.match(out[0]!, /^RCPT bob@example\.test 552 5\.2\.2 /);
    assert.match(out[1]!, /^RCPT alice@example\.test 250 /);
    assert.match(out[2]!, /^DATA 250 /);
    assert.ok((await h.inbox(h.alice.id)).some((m) => header(m, 'Subject') === 'full at rcpt'));
    assert.equal((await h.inbox(h.bob.id)).length, 0);
    await h.store.setQuota('bob', null);
  });

  test('a message that would take its only recipient over the quota: 552 5.2.2 after DATA, nothing stored', async (t) => {
    if (!(await needPeer(t, 'python3'))) return;
    await h.store.setQuota('bob', 4000);
    const out = await send(h, 'someone@sender.test', ['bob@example.test'], 8000, 'over at data');
    assert.match(out[0]!, /^RCPT bob@example\.test 250 /);
    assert.match(out[1]!, /^DATA 552 5\.2\.2 /);
    assert.equal((await h.inbox(h.bob.id)).length, 0);
    assert.equal((await h.store.getQuota(h.bob.id)).used, 0);
    // Declared with SIZE at MAIL, the same message is refused at RCPT already.
    const declared = await send(h, 'someone@sender.test', ['bob@example.test'], 8000, 'declared', true);
    assert.match(declared[0]!, /^RCPT bob@example\.test 552 5\.2\.2 /);
    // A message that fits is delivered, up to the limit.
    const ok = await send(h, 'someone@sender.test', ['bob@example.test'], 2000, 'fits');
    assert.match(ok[1]!, /^DATA 250 /);
    assert.equal((await h.inbox(h.bob.id)).length, 1);
    assert.equal((await h.store.listQueue()).length, 0, 'no DSN when the whole message was refused');
    await h.store.setQuota('bob', null);
  });

  test('several recipients, one over quota: 250, the others have it, the remote sender gets a DSN for that one', async (t) => {
    if (!(await needPeer(t, 'python3'))) return;
    const before = (await h.inbox(h.bob.id)).length;
    await h.store.setQuota('bob', (await h.store.getQuota(h.bob.id)).used + 1000);
    const out = await send(h, 'someone@sender.test', ['bob@example.test', 'alice@example.test'], 5000, 'partly over');
    assert.match(out[0]!, /^RCPT bob@example\.test 250 /);
    assert.match(out[1]!, /^RCPT alice@example\.test 250 /);
    assert.match(out[2]!, /^DATA 250 /);
    assert.ok((await h.inbox(h.alice.id)).some((m) => header(m, 'Subject') === 'partly over'));
    assert.equal((await h.inbox(h.bob.id)).length, before);
    // RFC 3464: the DSN goes to the envelope sender with the null reverse path.
    const queued = await h.store.listQueue();
    assert.equal(queued.length, 1);
    const dsn = queued[0]!;
    assert.equal(dsn.isDsn, true);
    assert.equal(dsn.sender, '');
    assert.deepEqual(dsn.recipients.map((r) => r.address), ['someone@sender.test']);
    const text = (await h.store.readBlob(dsn.fileId)).toString();
    assert.match(text, /Final-Recipient: rfc822; bob@example\.test\r\nAction: failed\r\nStatus: 5\.2\.2\r\n/);
    assert.match(text, /Diagnostic-Code: smtp; 552 5\.2\.2 /);
    assert.match(text, /Subject: partly over\r\n/);
    assert.doesNotMatch(text, /alice@example\.test/);
    await h.store.setQuota('bob', null);
  });
});
