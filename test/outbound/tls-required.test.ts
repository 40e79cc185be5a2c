// RFC 8689 TLS-Required: No in outbound delivery, against MTA-STS enforce domains whose MX hosts
// fail the policy (self-signed certificate, no STARTTLS, an MX the policy does not name): the
// sender's field makes the policy advisory, so the message goes with opportunistic TLS (plain
// text if need be), the check is still reported for TLS-RPT, and the Received field says so.
// REQUIRETLS wins over the field. Submission keeps the field as the sender wrote it.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/log/logger.js';
import { MtaSts } from '../../src/outbound/mta-sts.js';
import { OutboundTlsPolicy, utcDay } from '../../src/outbound/policy-tls.js';
import { PASSWORD, plain, SmtpClient, startHarness } from '../smtp/harness.js';
import { TestBed } from './harness.js';

const WITH_REQUIRETLS = ['PIPELINING', '8BITMIME', 'ENHANCEDSTATUSCODES', 'REQUIRETLS'];

let bed: TestBed;
before(async () => {
  bed = await TestBed.create();
  await bed.addMx('mx-self.tq.test', { cert: 'self-signed' });
  await bed.addMx('mx-plain.tq.test', { starttls: false });
  await bed.addMx('mx-outside.other.test');
  await bed.addMx('mx-req.tq.test', { extensions: WITH_REQUIRETLS });
  await bed.addMx('mx-selfreq.tq.test', { cert: 'self-signed', extensions: WITH_REQUIRETLS });
  const domains = { 'self.test': 'mx-self.tq.test', 'plain.test': 'mx-plain.tq.test', 'outside.test': 'mx-outside.other.test', 'req.test': 'mx-req.tq.test', 'selfreq.test': 'mx-selfreq.tq.test' };
  await bed.startPolicyHost(Object.keys(domains));
  for (const [d, mx] of Object.entries(domains)) {
    bed.dns.mx.set(d, [mx]);
    bed.publishSts(d, 'q1', 'enforce', ['*.tq.test']);
  }
});
after(() => bed.close());

function msg(extra: string): string {
  return `From: alice@example.org\r\nTo: bob@remote.example\r\nSubject: not secret\r\n${extra}\r\nHello.\r\n`;
}
const NO = msg('TLS-Required: No\r\n');

async function deliverOnce(domain: string, content: string, requireTls = false) {
  const q0 = await bed.queue({ forDestination: () => Promise.reject(new Error('unused')) });
  const mtaSts = new MtaSts({ store: q0.store, resolveTxt: bed.dns.resolveTxt, fetch: { ca: bed.pki.caPem, port: bed.httpsPort, lookup: bed.lookup }, log: silentLogger });
  const policy = new OutboundTlsPolicy({ mtaSts, ca: [bed.pki.caPem], results: q0.store, log: silentLogger });
  const q = await bed.queue(policy, { store: q0.store });
  const id = await q.enqueue(`bob@${domain}`, { content, requireTls });
  await q.queue.runOnce();
  await policy.flush();
  const results = (await q.store.listTlsResults(utcDay(new Date()), domain)).map((r) => `${r.policyType} ${r.mxHost} ${r.resultType} ${r.count}`);
  return { pending: (await q.store.getQueueMessage(id))?.recipients[0] ?? null, results, inbox: await q.inbox() };
}

const txs = (mx: string) => bed.mx.get(mx)!.server.transactions;
const receivedOf = (data: Buffer) => /^Received: ([^\r\n]*(?:\r\n\t[^\r\n]*)*)\r\n/.exec(data.toString())![1]!.replace(/\r\n\t/g, ' ');

describe('TLS-Required: No', () => {
  for (const [domain, mx, withProto, note, result] of [
    ['self.test', 'mx-self.tq.test', 'ESMTPS', String.raw`version=TLSv1\.3 cipher=TLS_\w+ policy=mta-sts-enforce tls-required=no failed=certificate-not-trusted`, 'certificate-not-trusted'],
    ['plain.test', 'mx-plain.tq.test', 'ESMTP', 'plaintext policy=mta-sts-enforce tls-required=no failed=starttls-not-supported', 'starttls-not-supported'],
    ['outside.test', 'mx-outside.other.test', 'ESMTPS', String.raw`version=TLSv1\.3 cipher=TLS_\w+ policy=mta-sts-enforce tls-required=no failed=validation-failure`, 'validation-failure'],
  ] as const) {
    it(`${domain}: the enforce policy's ${result} defers the message, unless the sender wrote TLS-Required: No`, async () => {
      const t0 = txs(mx).length;
      const strict = await deliverOnce(domain, msg(''));
      assert.equal(strict.pending?.state, 'pending', 'deferred without the field');
      assert.equal(txs(mx).length, t0);

      const r = await deliverOnce(domain, NO);
      assert.equal(r.pending, null, 'delivered');
      assert.equal(txs(mx).length, t0 + 1);
      const data = txs(mx).at(-1)!.data;
      assert.match(receivedOf(data), new RegExp(`with ${withProto} id \\d+ \\(${note}\\) for <bob@${domain.replace('.', '\\.')}>;`));
      assert.ok(data.toString().endsWith(NO), 'the field is relayed as the sender wrote it');
      // The check ran all the same: TLS-RPT counts the session under the policy.
      assert.deepEqual(r.results, [`sts ${mx} ${result} 1`]);
    });
  }

  it('is taken case-insensitively and folded, but not when it says something else or appears twice', async () => {
    const mx = 'mx-self.tq.test';
    const t0 = txs(mx).length;
    assert.equal((await deliverOnce('self.test', msg('tls-required:\r\n no\r\n'))).pending, null);
    assert.equal(txs(mx).length, t0 + 1);
    assert.equal((await deliverOnce('self.test', msg('TLS-Required: Yes\r\n'))).pending?.state, 'pending');
    assert.equal((await deliverOnce('self.test', msg('TLS-Required: No\r\nTLS-Required: No\r\n'))).pending?.state, 'pending');
    assert.equal((await deliverOnce('self.test', 'Subject: body only\r\n\r\nTLS-Required: No\r\n')).pending?.state, 'pending', 'a field in the body is not one');
    assert.equal(txs(mx).length, t0 + 1);
  });

  it('REQUIRETLS wins: the field is ignored, the message goes only over verified TLS and keeps the field', async () => {
    const ok = await deliverOnce('req.test', NO, true);
    assert.equal(ok.pending, null, 'delivered over TLS the policy verified');
    const t = txs('mx-req.tq.test').at(-1)!;
    assert.match(t.mailParams, /\bREQUIRETLS\b/);
    assert.match(receivedOf(t.data), /policy=mta-sts-enforce verified\)/);
    assert.ok(t.data.toString().endsWith(NO));

    const t0 = txs('mx-selfreq.tq.test').length;
    const refused = await deliverOnce('selfreq.test', NO, true);
    assert.equal(refused.pending?.state, 'pending', 'the policy failure defers it as without the field');
    assert.match(refused.pending!.lastError!, /certificate-not-trusted/);
    assert.equal(txs('mx-selfreq.tq.test').length, t0);
  });
});

describe('TLS-Required on submission', () => {
  it('is kept in the queued message as the sender wrote it', async () => {
    const h = await startHarness();
    try {
      h.ctx.queue = { kick: () => {} };
      const c = await SmtpClient.connect(h.ports.submission);
      await c.expect(220);
      await c.ehlo();
      await c.startTls();
      await c.ehlo();
      await c.cmd(`AUTH PLAIN ${plain('alice@example.test', PASSWORD)}`, 235);
      await c.cmd('MAIL FROM:<alice@example.test>', 250);
      await c.cmd('RCPT TO:<someone@remote.example>', 250);
      await c.cmd('DATA', 354);
      c.write('From: Alice <alice@example.test>\r\nTo: someone@remote.example\r\nSubject: newsletter\r\nTLS-Required:  no\r\n\r\nHello.\r\n.\r\n');
      await c.expect(250);
      c.close();
      const [q] = await h.store.listQueue();
      const queued = (await h.store.readBlob(q!.fileId)).toString();
      assert.match(queued, /\r\nSubject: newsletter\r\nTLS-Required:  no\r\n\r\nHello\.\r\n$/);
    } finally {
      delete h.ctx.queue;
      await h.close();
    }
  });
});
