// Submission (587 STARTTLS, 465 implicit TLS): EHLO, AUTH, sender rules, added fields, delivery
// into local Inboxes and the queue, DKIM, and TLS client certificates (spec 2.4).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dkimVerify } from 'mailauth';
import { createSaslClient } from '../../src/sasl/index.js';
import { channelBindingOf } from '../../src/tls/channel-binding.js';
import { generateClientCertificate } from '../../src/tls/generate.js';
import type { TLSSocket } from 'node:tls';
import { BOB_PASSWORD, PASSWORD, SmtpClient, header, headers, message, plain, startHarness, type Harness } from './harness.js';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h.close();
});

async function loggedIn(): Promise<SmtpClient> {
  const c = await SmtpClient.connect(h.ports.submission);
  await c.expect(220);
  await c.ehlo();
  await c.startTls();
  await c.ehlo();
  await c.cmd(`AUTH PLAIN ${plain('alice@example.test', PASSWORD)}`, 235, '2.7.0');
  return c;
}

async function sendData(c: SmtpClient, body: string): Promise<void> {
  await c.cmd('DATA', 354);
  c.write(body.replace(/\r\n\.\r\n/g, '\r\n..\r\n') + '.\r\n');
}

describe('submission', () => {
  test('EHLO before and after STARTTLS', async () => {
    const c = await SmtpClient.connect(h.ports.submission);
    const greet = await c.expect(220);
    assert.match(greet.lines[0]!, /^mail\.example\.test ESMTP/);
    const before = await c.ehlo();
    for (const kw of ['PIPELINING', 'STARTTLS', 'ENHANCEDSTATUSCODES', '8BITMIME', 'SMTPUTF8', 'CHUNKING']) assert.ok(before.includes(kw), kw);
    assert.ok(before.some((l) => /^SIZE \d+$/.test(l)));
    // Spec 3.1: no mechanism at all before TLS (test/auth/no-auth-before-tls.test.ts tries each one).
    assert.ok(!before.some((l) => l.startsWith('AUTH')), before.join('|'));
    await c.cmd('AUTH PLAIN ' + plain('alice@example.test', PASSWORD), 538, '5.7.11');
    await c.startTls();
    const afterTls = await c.ehlo();
    assert.ok(!afterTls.includes('STARTTLS'));
    assert.match(afterTls.find((l) => l.startsWith('AUTH '))!, /\bPLAIN LOGIN$/);
    await c.cmd('STARTTLS', 503);
    await c.cmd('QUIT', 221);
    c.close();
  });

  test('unauthenticated: 530 5.7.0 for MAIL, RCPT, DATA', async () => {
    const c = await SmtpClient.connect(h.ports.submission);
    await c.expect(220);
    await c.ehlo();
    await c.startTls();
    await c.ehlo();
    await c.cmd('MAIL FROM:<alice@example.test>', 530, '5.7.0');
    await c.cmd('RCPT TO:<bob@example.test>', 530, '5.7.0');
    await c.cmd('DATA', 530, '5.7.0');
    c.close();
  });

  test('AUTH failures: wrong password 535, unknown mechanism 504, cancel, then success', async () => {
    const c = await SmtpClient.connect(h.ports.submissions, { tls: true });
    await c.expect(220);
    await c.ehlo();
    await c.cmd('AUTH PLAIN ' + plain('alice@example.test', 'wrong'), 535, '5.7.8');
    await c.cmd('AUTH NTLM', 504, '5.5.4');
    await c.cmd('AUTH LOGIN', 334);
    await c.cmd('*', 501);
    await c.cmd('AUTH LOGIN', 334);
    await c.cmd(Buffer.from('alice@example.test').toString('base64'), 334);
    await c.cmd(Buffer.from(PASSWORD).toString('base64'), 235, '2.7.0');
    await c.cmd('AUTH PLAIN ' + plain('alice@example.test', PASSWORD), 503);
    c.close();
  });

  test('SCRAM-SHA-256-PLUS with the server-final message as a 334 challenge', async () => {
    const c = await SmtpClient.connect(h.ports.submissions, { tls: true });
    await c.expect(220);
    await c.ehlo();
    const sasl = createSaslClient('SCRAM-SHA-256-PLUS', {
      username: 'alice@example.test',
      password: PASSWORD,
      channelBinding: channelBindingOf(c.sock as TLSSocket, false),
      serverOffersPlus: true,
    });
    let r = await c.cmd(`AUTH SCRAM-SHA-256-PLUS ${sasl.step(null).toString('base64')}`, 334);
    r = await c.cmd(sasl.step(Buffer.from(r.lines[0]!, 'base64')).toString('base64'), 334);
    sasl.step(Buffer.from(r.lines[0]!, 'base64'));
    assert.ok(sasl.done, 'server signature verified');
    await c.cmd('', 235, '2.7.0');
    c.close();
  });

  test('MAIL FROM and From header must be the account\'s; local and remote delivery', async () => {
    const c = await loggedIn();
    await c.cmd('MAIL FROM:<bob@example.test>', 550, '5.7.1');
    await c.cmd('MAIL FROM:<>', 550, '5.7.1');
    await c.cmd('MAIL FROM:<alias@example.test>', 250);
    await c.cmd('RCPT TO:<nobody@example.test>', 550, '5.1.1');
    await c.cmd('RCPT TO:<bob@example.test>', 250);
    await sendData(c, message('Mallory <bob@example.test>', 'bob@example.test'));
    await c.expect(550, '5.7.1');
    // The transaction is over after the refused DATA.
    await c.cmd('RCPT TO:<bob@example.test>', 503);

    // The queue is kicked after an enqueue, so remote mail leaves at once, not at the next poll.
    let kicks = 0;
    h.ctx.queue = { kick: () => void kicks++ };
    await c.cmd('MAIL FROM:<alice@example.test>', 250);
    await c.cmd('RCPT TO:<bob@example.test>', 250);
    await sendData(c, message('Alice <alice@example.test>', 'bob@example.test'));
    await c.expect(250, '2.6.0');
    assert.equal(kicks, 0, 'local-only mail does not kick the queue');

    const before = (await h.inbox(h.bob.id)).length;
    await c.cmd('MAIL FROM:<alice@example.test>', 250);
    await c.cmd('RCPT TO:<bob@example.test>', 250);
    await c.cmd('RCPT TO:<someone@remote.example>', 250);
    await c.cmd('RCPT TO:<Bob@Example.Test>', 250);
    await sendData(c, message('Alice <alias@example.test>', 'bob@example.test, someone@remote.example'));
    await c.expect(250, '2.6.0');
    assert.equal(kicks, 1, 'the queue was kicked for the remote recipient');
    delete h.ctx.queue;
    const inbox = await h.inbox(h.bob.id);
    assert.equal(inbox.length, before + 1, 'one copy for bob despite two RCPTs');
    const msg = inbox[inbox.length - 1]!;
    assert.equal(header(msg, 'Return-Path'), '<alice@example.test>');
    assert.match(header(msg, 'Received')!, /^from client\.example \(\[127\.0\.0\.1\]\) by mail\.example\.test \(Postern\) with ESMTPSA id \S+ \(version=TLSv1\.[23] cipher=\S+\); \w{3}, /);
    assert.match(header(msg, 'Message-ID')!, /^<[^@]+@mail\.example\.test>$/);
    assert.match(header(msg, 'Date')!, /^\w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d \+0000$/);
    assert.equal(headers(msg, 'DKIM-Signature').length, 2);
    const queue = await h.store.listQueue();
    const q = queue[queue.length - 1]!;
    assert.equal(q.sender, 'alice@example.test');
    assert.deepEqual(q.recipients.map((r) => r.address), ['someone@remote.example']);
    assert.equal(q.accountId, h.alice.id);
    const queued = await h.store.readBlob(q.fileId);
    assert.equal(header(queued, 'Return-Path'), null, 'no Return-Path on relayed copies');
    assert.equal(header(queued, 'Message-ID'), header(msg, 'Message-ID'));
    await c.cmd('QUIT', 221);
    c.close();
  });

  test('existing Date and Message-ID are kept; DKIM signatures verify (ed25519 and rsa)', async () => {
    const c = await loggedIn();
    await c.cmd('MAIL FROM:<alice@example.test>', 250);
    await c.cmd('RCPT TO:<bob@example.test>', 250);
    await sendData(c, message('alice@example.test', 'bob@example.test', 'signed', 'Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <given@example.test>\r\n'));
    await c.expect(250);
    const inbox = await h.inbox(h.bob.id);
    const msg = inbox[inbox.length - 1]!;
    assert.equal(header(msg, 'Message-ID'), '<given@example.test>');
    assert.equal(headers(msg, 'Date').length, 1);
    const res = await dkimVerify(msg, { resolver: h.resolver as never });
    const bySelector = Object.fromEntries(res.results.map((r) => [r.selector, r.status.result]));
    assert.deepEqual(bySelector, Object.fromEntries(h.dkimKeys.map((k) => [k.selector, 'pass'])));
    assert.deepEqual(h.dkimKeys.map((k) => k.algorithm), ['ed25519', 'rsa']);
    assert.match(headers(msg, 'DKIM-Signature').join('\n'), /a=ed25519-sha256[\s\S]*a=rsa-sha256|a=rsa-sha256[\s\S]*a=ed25519-sha256/);
    assert.ok(res.results.every((r) => r.signingDomain === 'example.test'));
    c.close();
  });

  test('recipient limit: 452 4.5.3 after maxRecipients; RSET keeps the login', async () => {
    const c = await loggedIn();
    await c.cmd('MAIL FROM:<alice@example.test>', 250);
    const max = h.ctx.config.limits.smtp.maxRecipients;
    // Pipelined: all RCPTs in one write, replies in order.
    const lines = [];
    for (let i = 0; i <= max; i++) lines.push(`RCPT TO:<r${i}@remote.example>\r\n`);
    c.write(lines.join(''));
    for (let i = 0; i < max; i++) await c.expect(250);
    await c.expect(452, '4.5.3');
    await c.cmd('RSET', 250);
    await c.cmd('MAIL FROM:<alice@example.test>', 250);
    c.close();
  });
});

describe('submission with a TLS client certificate (spec 2.4)', () => {
  test('implicit TLS: authenticated without AUTH, EXTERNAL first; other account refused, identity kept', async () => {
    const key = generateClientCertificate('alice phone');
    await h.store.addTlsPubKey(h.alice.id, { fingerprint: key.fingerprint, type: 'ed25519', name: 'phone', loginAddress: 'alice@example.test', noImapPreauth: false, certDer: key.certDer });
    const c = await SmtpClient.connect(h.ports.submissions, { tls: true, cert: key });
    await c.expect(220);
    const ehlo = await c.ehlo();
    assert.match(ehlo.find((l) => l.startsWith('AUTH '))!, /^AUTH EXTERNAL /);
    // Another account's password: 535, and the certificate identity stays.
    await c.cmd('AUTH PLAIN ' + plain('bob@example.test', BOB_PASSWORD), 535, '5.7.8');
    await c.cmd('RSET', 250);
    await c.ehlo();
    await c.cmd('MAIL FROM:<alice@example.test>', 250);
    await c.cmd('RCPT TO:<bob@example.test>', 250);
    await sendData(c, message('alice@example.test', 'bob@example.test', 'by certificate'));
    await c.expect(250);
    await c.cmd('AUTH EXTERNAL =', 235, '2.7.0');
    c.close();

    // STARTTLS on 587 with the certificate: the same, and AUTH EXTERNAL with an identity of the account.
    const d = await SmtpClient.connect(h.ports.submission);
    await d.expect(220);
    const plainEhlo = await d.ehlo();
    assert.ok(!plainEhlo.some((l) => l.includes('EXTERNAL')));
    await d.startTls(key);
    assert.match((await d.ehlo()).find((l) => l.startsWith('AUTH '))!, /^AUTH EXTERNAL /);
    await d.cmd(`AUTH EXTERNAL ${Buffer.from('bob@example.test').toString('base64')}`, 535, '5.7.8');
    await d.cmd(`AUTH EXTERNAL ${Buffer.from('alias@example.test').toString('base64')}`, 235);
    await d.cmd('MAIL FROM:<alias@example.test>', 250);
    d.close();

    // Removing the key ends live sessions (spec 2.5): 421 and close.
    const e = await SmtpClient.connect(h.ports.submissions, { tls: true, cert: key });
    await e.expect(220);
    await e.ehlo();
    await h.store.removeTlsPubKey(key.fingerprint);
    await e.expect(421, '4.7.0');
    await e.waitClosed();
  });

  test('an unknown certificate does not fail the handshake and gives no identity', async () => {
    const key = generateClientCertificate('stranger');
    const c = await SmtpClient.connect(h.ports.submissions, { tls: true, cert: key });
    await c.expect(220);
    const ehlo = await c.ehlo();
    assert.ok(!ehlo.some((l) => l.includes('EXTERNAL')));
    await c.cmd('MAIL FROM:<alice@example.test>', 530, '5.7.0');
    await c.cmd('AUTH EXTERNAL =', 535);
    c.close();
  });
});
