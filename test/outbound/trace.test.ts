// The door's trace field: every message handed to another server gets a Received field on top
// saying which TLS policy applied to the hop and how TLS went, and the delivery's log line says
// the same. Checked at remote MX hosts on 127.0.0.x for each kind of hop, for a DSN and for a
// DKIM-signed message from submission (the signature still verifies at the next hop), with the
// content otherwise unchanged (canonical line ends, dot-stuffing undone by the receiver).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dkimVerify } from 'mailauth';
import { createLogger, silentLogger } from '../../src/log/logger.js';
import { MtaSts } from '../../src/outbound/mta-sts.js';
import { OutboundTlsPolicy } from '../../src/outbound/policy-tls.js';
import { message, PASSWORD, plain, SmtpClient, startHarness } from '../smtp/harness.js';
import { MESSAGE, TestBed } from './harness.js';

let bed: TestBed;
before(async () => {
  bed = await TestBed.create();
  await bed.addMx('mx1.tr.test');
  await bed.addMx('mx-self.tr.test', { cert: 'self-signed' });
  await bed.addMx('mx-plain.tr.test', { starttls: false });
  await bed.addMx('mx-picky.tr.test', { onRcpt: (to) => (to.startsWith('nobody@') ? '550 5.1.1 no such user' : undefined) });
  await bed.addMx('mx.home.test');
  await bed.startPolicyHost(['enforce.test', 'testing.test']);
  for (const [d, mx] of [['enforce.test', 'mx1.tr.test'], ['testing.test', 'mx-self.tr.test'], ['none.test', 'mx1.tr.test'], ['plain.test', 'mx-plain.tr.test'],
    ['picky.test', 'mx-picky.tr.test'], ['home.test', 'mx.home.test'], ['dkim.test', 'mx1.tr.test']] as const) bed.dns.mx.set(d, [mx]);
  bed.publishSts('enforce.test', 't1', 'enforce', ['*.tr.test']);
  bed.publishSts('testing.test', 't1', 'testing', ['*.tr.test']);
});
after(() => bed.close());

async function env() {
  const lines: string[] = [];
  const log = createLogger({ level: 'info', write: (l) => lines.push(l) });
  const q0 = await bed.queue({ forDestination: () => Promise.reject(new Error('unused')) });
  const mtaSts = new MtaSts({ store: q0.store, resolveTxt: bed.dns.resolveTxt, fetch: { ca: bed.pki.caPem, port: bed.httpsPort, lookup: bed.lookup }, log: silentLogger });
  const q = await bed.queue(new OutboundTlsPolicy({ mtaSts, ca: [bed.pki.caPem], results: q0.store, log: silentLogger }), { store: q0.store, log });
  return { ...q, lines };
}

const last = (mx: string) => bed.mx.get(mx)!.server.transactions.at(-1)!;

/** The leading Received field of a message, unfolded; and the rest. */
function split(data: Buffer): { received: string; rest: string } {
  const s = data.toString('latin1');
  const m = /^Received: ([^\r\n]*(?:\r\n\t[^\r\n]*)*)\r\n/.exec(s);
  assert.ok(m, `a Received field on top: ${JSON.stringify(s.slice(0, 200))}`);
  return { received: m[1]!.replace(/\r\n\t/g, ' '), rest: s.slice(m[0].length) };
}

const DATE = String.raw`\w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d \+0000`;

describe('trace field and log line of each delivery', () => {
  for (const [domain, mx, withProto, tls] of [
    ['enforce.test', 'mx1.tr.test', 'ESMTPS', String.raw`version=TLSv1\.3 cipher=TLS_\w+ policy=mta-sts-enforce verified`],
    ['testing.test', 'mx-self.tr.test', 'ESMTPS', String.raw`version=TLSv1\.3 cipher=TLS_\w+ policy=mta-sts-testing failed=certificate-not-trusted`],
    ['none.test', 'mx1.tr.test', 'ESMTPS', String.raw`version=TLSv1\.3 cipher=TLS_\w+ policy=none unverified`],
    ['plain.test', 'mx-plain.tr.test', 'ESMTP', 'plaintext policy=none'],
  ] as const) {
    it(`${domain}: the Received field and the log line name the policy and the TLS result`, async () => {
      const e = await env();
      const id = await e.enqueue(`bob@${domain}`);
      await e.queue.runOnce();
      assert.equal(await e.store.getQueueMessage(id), null, 'delivered');
      const { received, rest } = split(last(mx).data);
      assert.match(received, new RegExp(`^by mail\\.example\\.org \\(Postern\\) with ${withProto} id ${id} \\((${tls})\\) for <bob@${domain.replace('.', '\\.')}>; ${DATE}$`));
      assert.equal(rest, MESSAGE, 'the message itself unchanged');
      const note = new RegExp(`\\((${tls})\\)`).exec(received)![1]!;
      const logged = e.lines.filter((l) => / info queue delivered /.test(l));
      assert.equal(logged.length, 1);
      assert.ok(logged[0]!.includes(` mta=${mx} tls=${JSON.stringify(note)}`), `the log line says the same: ${logged[0]}`);
    });
  }

  it('one field per transaction: several recipients of one domain are not named', async () => {
    const e = await env();
    const t0 = bed.mx.get('mx1.tr.test')!.server.transactions.length;
    await e.enqueue(['a@none.test', 'b@none.test']);
    await e.queue.runOnce();
    const txs = bed.mx.get('mx1.tr.test')!.server.transactions.slice(t0);
    assert.equal(txs.length, 1);
    const { received, rest } = split(txs[0]!.data);
    assert.doesNotMatch(received, /\bfor\b/);
    assert.doesNotMatch(rest, /^Received:/m, 'exactly one added');
  });

  it('content stays canonical under the field: dots, bare line ends and a last line without CRLF', async () => {
    const e = await env();
    const body = 'From: alice@example.org\nTo: bob@none.test\nSubject: dots\n\n.\n..two\r.\rlast';
    await e.enqueue('bob@none.test', { content: body });
    await e.queue.runOnce();
    const t = last('mx1.tr.test');
    assert.equal(t.via, 'DATA');
    assert.equal(split(t.data).rest, 'From: alice@example.org\r\nTo: bob@none.test\r\nSubject: dots\r\n\r\n.\r\n..two\r\n.\r\nlast\r\n');
  });

  it('a DSN leaves through the same door, with the field for its one recipient', async () => {
    const e = await env();
    await e.enqueue('nobody@picky.test', { sender: 'carol@home.test' });
    await e.queue.runOnce();
    assert.deepEqual(await e.store.listQueue(), [], 'bounced, and the DSN delivered');
    const t = last('mx.home.test');
    assert.equal(t.from, '');
    assert.deepEqual(t.to, ['carol@home.test']);
    const { received, rest } = split(t.data);
    assert.match(received, /with ESMTPS id \d+ \(version=TLSv1\.3 cipher=TLS_\w+ policy=none unverified\) for <carol@home\.test>;/);
    assert.match(rest, /^Content-Type: multipart\/report; report-type=delivery-status/m);
  });
});

describe('a DKIM-signed message from submission', () => {
  it('still verifies at the next hop, with the trace field on top', async () => {
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
      await c.cmd('RCPT TO:<dan@dkim.test>', 250);
      await c.cmd('DATA', 354);
      c.write(message('Alice <alice@example.test>', 'dan@dkim.test', 'signed') + '.\r\n');
      await c.expect(250);
      c.close();
      const [queued] = await h.store.listQueue();
      const signed = await h.store.readBlob(queued!.fileId);

      const e = await env();
      await e.enqueue('dan@dkim.test', { content: signed });
      await e.queue.runOnce();
      const t = last('mx1.tr.test');
      const { rest } = split(t.data);
      assert.equal(rest, signed.toString('latin1'), 'the signed message below the field, byte for byte');
      const res = await dkimVerify(t.data, { resolver: h.resolver as never });
      assert.deepEqual(res.results.map((r) => [r.selector, r.status.result]).sort(), h.dkimKeys.map((k) => [k.selector, 'pass']).sort());
    } finally {
      delete h.ctx.queue;
      await h.close();
    }
  });
});
