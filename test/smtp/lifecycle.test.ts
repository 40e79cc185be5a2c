// Session lifecycle: repeated AUTH failures and the per-IP block (spec 3.4), revocation of a
// password login (spec 2.5), shutdown with 421.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveCredentials } from '../../src/auth/password.js';
import { PASSWORD, SmtpClient, message, plain, startHarness } from './harness.js';

test('a password change ends sessions logged in with the old password', async () => {
  const h = await startHarness();
  try {
    const c = await SmtpClient.connect(h.ports.submissions, { tls: true });
    await c.expect(220);
    await c.ehlo();
    await c.cmd('AUTH PLAIN ' + plain('alice@example.test', PASSWORD), 235);
    await h.store.setCredentials(h.alice.id, await deriveCredentials('a-new-password'));
    await c.expect(421, '4.7.0');
    await c.waitClosed();
  } finally {
    await h.close();
  }
});

test('shutdown: idle sessions and unfinished transfers get 421 4.3.2, nothing half-stored', async () => {
  const h = await startHarness();
  let closed = false;
  try {
    const idle = await SmtpClient.connect(h.ports.smtp);
    await idle.expect(220);
    await idle.ehlo();
    const busy = await SmtpClient.connect(h.ports.smtp);
    await busy.expect(220);
    await busy.ehlo();
    await busy.cmd('MAIL FROM:<a@sender.test>', 250);
    await busy.cmd('RCPT TO:<bob@example.test>', 250);
    await busy.cmd('DATA', 354);
    busy.write(message('a@sender.test', 'bob@example.test', 'in flight'));
    const closing = h.close().then(() => (closed = true));
    await idle.expect(421, '4.3.2');
    // The data phase is input too: the transfer is cut with 421, nothing half-stored.
    await busy.expect(421, '4.3.2');
    assert.equal((await h.inbox(h.bob.id)).length, 0);
    await closing;
  } finally {
    if (!closed) await h.close();
  }
});

test('AUTH failures: 535 each time, then 421 and the IP is refused once TLS shows no certificate', async () => {
  const h = await startHarness();
  try {
    const c = await SmtpClient.connect(h.ports.submissions, { tls: true });
    await c.expect(220);
    await c.ehlo();
    let last;
    for (let i = 0; i < 12; i++) {
      last = await c.cmd('AUTH PLAIN ' + plain('alice@example.test', `wrong${i}`));
      if (last.code === 421) break;
      assert.equal(last.code, 535);
    }
    assert.equal(last!.code, 421);
    assert.equal(last!.enhanced, '4.7.0');
    await c.waitClosed();
    assert.match(last!.lines[0]!, /too many failed logins from your network; try again in \d+ seconds/);
    // Implicit TLS: refused right after the handshake; STARTTLS: greeted (a certificate could come
    // with TLS, spec 3.4), refused after the handshake.
    const d = await SmtpClient.connect(h.ports.submissions, { tls: true });
    const r = await d.reply();
    assert.equal(r.code, 421);
    assert.match(r.lines[0]!, /too many failed logins from your network; try again in \d+ seconds/);
    await d.waitClosed();
    const p = await SmtpClient.connect(h.ports.submission);
    await p.expect(220);
    await p.ehlo();
    await p.startTls();
    await p.expect(421, '4.7.0');
    await p.waitClosed();
    // Port 25 still takes mail: it has no AUTH to protect.
    const e = await SmtpClient.connect(h.ports.smtp);
    await e.expect(220);
    e.close();
  } finally {
    await h.close();
  }
});
