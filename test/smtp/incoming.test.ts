// Incoming mail on port 25: our domains only, SPF/DKIM/DMARC recorded, delivery to the Inbox (DMARC
// enforcement itself: test/dmarc).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dkimSign } from 'mailauth';
import { generateDkimKeys } from '../../src/smtp/server/index.js';
import { HOSTNAME, SmtpClient, header, headers, message, startHarness, type Harness } from './harness.js';

let h: Harness;
before(async () => {
  h = await startHarness();
  await h.store.addAddress('alice', 'postmaster@example.test');
});
after(async () => {
  await h.close();
});

async function session(): Promise<SmtpClient> {
  const c = await SmtpClient.connect(h.ports.smtp);
  await c.expect(220);
  return c;
}

async function sendData(c: SmtpClient, body: string | Buffer): Promise<void> {
  await c.cmd('DATA', 354);
  c.write(body);
  c.write('.\r\n');
}

describe('incoming (port 25)', () => {
  test('EHLO offers STARTTLS and no AUTH; AUTH is refused', async () => {
    const c = await session();
    const ehlo = await c.ehlo('mx.sender.test');
    for (const kw of ['PIPELINING', 'STARTTLS', 'ENHANCEDSTATUSCODES', '8BITMIME', 'SMTPUTF8', 'CHUNKING']) assert.ok(ehlo.includes(kw), kw);
    assert.ok(!ehlo.some((l) => l.startsWith('AUTH')));
    await c.cmd('AUTH PLAIN AGFsaWNlAHg=', 502);
    await c.startTls();
    const tlsEhlo = await c.ehlo('mx.sender.test');
    assert.ok(!tlsEhlo.some((l) => l.startsWith('AUTH') || l === 'STARTTLS'));
    await c.cmd('AUTH EXTERNAL =', 502);
    c.close();
  });

  test('relay refused, unknown users refused, postmaster accepted', async () => {
    const c = await session();
    await c.ehlo('mx.sender.test');
    await c.cmd('MAIL FROM:<someone@sender.test>', 250);
    await c.cmd('RCPT TO:<victim@elsewhere.example>', 554, '5.7.1');
    await c.cmd('RCPT TO:<"bob"@[127.0.0.1]>', 554, '5.7.1');
    await c.cmd('RCPT TO:<nobody@example.test>', 550, '5.1.1');
    await c.cmd('DATA', 503);
    await c.cmd('RCPT TO:<Postmaster>', 250);
    await c.cmd('RSET', 250);
    c.close();
  });

  test('delivery to several local users, with SPF, DKIM and DMARC verdicts', async () => {
    const [senderKey] = generateDkimKeys('sender.test');
    h.txt.set(senderKey!.dnsName, [senderKey!.dnsRecord]);
    h.txt.set('sender.test', ['v=spf1 ip4:127.0.0.1 -all']);
    h.txt.set('_dmarc.sender.test', ['v=DMARC1; p=reject']);
    const raw = message('Sender <news@sender.test>', 'bob@example.test', 'signed news',
      `Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <n1@sender.test>\r\nAuthentication-Results: ${HOSTNAME}; dkim=pass (forged)\r\nAuthentication-Results: other.example; spf=none\r\n`);
    const sig = await dkimSign(raw, { signingDomain: 'sender.test', selector: senderKey!.selector, privateKey: senderKey!.privateKeyPem, algorithm: 'ed25519-sha256', signatureData: [{ signingDomain: 'sender.test', selector: senderKey!.selector, privateKey: senderKey!.privateKeyPem, algorithm: 'ed25519-sha256' }] });
    const signed = sig.signatures + raw;

    const c = await session();
    await c.ehlo('mx.sender.test');
    await c.cmd('MAIL FROM:<bounces@sender.test>', 250);
    await c.cmd('RCPT TO:<bob@example.test>', 250);
    await c.cmd('RCPT TO:<alice@example.test>', 250);
    await c.cmd('RCPT TO:<alias@example.test>', 250);
    await sendData(c, signed);
    await c.expect(250, '2.6.0');

    const bob = (await h.inbox(h.bob.id)).at(-1)!;
    const alice = await h.inbox(h.alice.id);
    assert.equal(alice.length, 1, 'one copy for alice although two of her addresses were recipients');
    for (const msg of [bob, alice[0]!]) {
      assert.equal(header(msg, 'Return-Path'), '<bounces@sender.test>');
      const ar = headers(msg, 'Authentication-Results');
      const ours = ar.filter((v) => v.startsWith(`${HOSTNAME};`));
      assert.equal(ours.length, 1, ar.join('\n'));
      assert.match(ours[0]!, /spf=pass/);
      assert.match(ours[0]!, /dkim=pass header\.i=@sender\.test/);
      assert.match(ours[0]!, /dmarc=pass/);
      assert.ok(!ar.some((v) => v.includes('(forged)')), 'forged results with our authserv-id removed');
      assert.ok(ar.some((v) => v.startsWith('other.example;')), 'other authserv-ids kept');
      assert.match(header(msg, 'Received-SPF')!, /^pass/);
      assert.match(header(msg, 'Received')!, /^from mx\.sender\.test \(\[127\.0\.0\.1\]\) by mail\.example\.test \(Postern\) with ESMTP id \S+;/);
      assert.ok(msg.toString().endsWith('\r\nHello there.\r\n'));
      // Verdicts are on top, above our Received field (RFC 8601 5).
      const text = msg.toString();
      assert.ok(text.indexOf('Authentication-Results: mail.example.test') < text.indexOf('Received: from'));
    }
    c.close();
  });

  test('SPF fail and DMARC fail are recorded; p=quarantine delivers to Junk', async () => {
    h.txt.set('spoof.test', ['v=spf1 -all']);
    h.txt.set('_dmarc.spoof.test', ['v=DMARC1; p=quarantine']);
    const c = await session();
    await c.ehlo('[127.0.0.1]');
    await c.cmd('MAIL FROM:<ceo@spoof.test>', 250);
    await c.cmd('RCPT TO:<bob@example.test>', 250);
    await sendData(c, message('ceo@spoof.test', 'bob@example.test', 'wire money'));
    await c.expect(250);
    const msg = (await h.mailbox(h.bob.id, 'Junk')).at(-1)!;
    const ar = header(msg, 'Authentication-Results')!;
    assert.match(ar, /spf=fail/);
    assert.match(ar, /dmarc=fail/);
    assert.match(ar, /dkim=none/);
    c.close();
  });

  test('STARTTLS, then BDAT in chunks with bare LF normalised; Received says ESMTPS', async () => {
    const c = await session();
    await c.ehlo('mx.sender.test');
    await c.startTls();
    await c.ehlo('mx.sender.test');
    await c.cmd('MAIL FROM:<x@sender.test> BODY=8BITMIME SMTPUTF8', 250);
    await c.cmd('RCPT TO:<bob@example.test>', 250);
    const part1 = Buffer.from('From: x@sender.test\nSubject: chunked\r\n\r\nGrüße');
    const part2 = Buffer.from(' aus dem Netz\n.\r\n');
    c.write(Buffer.concat([Buffer.from(`BDAT ${part1.length}\r\n`), part1]));
    await c.expect(250, '2.0.0');
    c.write(Buffer.concat([Buffer.from(`BDAT ${part2.length} LAST\r\n`), part2]));
    await c.expect(250, '2.6.0');
    const msg = (await h.inbox(h.bob.id)).at(-1)!;
    assert.match(header(msg, 'Received')!, /with UTF8SMTPS id/);
    assert.ok(msg.toString('utf8').endsWith('From: x@sender.test\r\nSubject: chunked\r\n\r\nGrüße aus dem Netz\r\n.\r\n'));
    c.close();
  });
});
