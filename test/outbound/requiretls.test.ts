// REQUIRETLS (RFC 8689): offered and taken only over TLS by our SMTP server (submission and
// incoming), kept with the queued message, and honoured by outbound delivery: relayed only over
// TLS that an MTA-STS policy verifies, to a server that offers REQUIRETLS; else bounced with a DSN.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/log/logger.js';
import { parseMessage } from '../../src/mime/index.js';
import { MtaSts } from '../../src/outbound/mta-sts.js';
import { OutboundTlsPolicy } from '../../src/outbound/policy-tls.js';
import { message, PASSWORD, plain, SmtpClient, startHarness, type Harness } from '../smtp/harness.js';
import { TestBed } from './harness.js';

const WITH_REQUIRETLS = ['PIPELINING', '8BITMIME', 'ENHANCEDSTATUSCODES', 'REQUIRETLS'];

let bed: TestBed;
before(async () => {
  bed = await TestBed.create();
  await bed.addMx('mx-req.rt.test', { extensions: WITH_REQUIRETLS });
  await bed.addMx('mx-noreq.rt.test');
  await bed.addMx('mx-open.rt.test', { extensions: WITH_REQUIRETLS });
  await bed.startPolicyHost(['sts.test', 'noreq.test']);
  bed.dns.mx.set('sts.test', ['mx-req.rt.test']);
  bed.dns.mx.set('noreq.test', ['mx-noreq.rt.test']);
  bed.dns.mx.set('open.test', ['mx-open.rt.test']);
  bed.publishSts('sts.test', 'r1', 'enforce', ['*.rt.test']);
  bed.publishSts('noreq.test', 'r1', 'enforce', ['*.rt.test']);
});
after(() => bed.close());

async function stsQueue() {
  const q0 = await bed.queue({ forDestination: () => Promise.reject(new Error('unused')) });
  const mtaSts = new MtaSts({ store: q0.store, resolveTxt: bed.dns.resolveTxt, fetch: { ca: bed.pki.caPem, port: bed.httpsPort, lookup: bed.lookup }, log: silentLogger });
  return bed.queue(new OutboundTlsPolicy({ mtaSts, ca: [bed.pki.caPem], log: silentLogger }), { store: q0.store });
}

async function send(domain: string, requireTls: boolean) {
  const q = await stsQueue();
  const id = await q.enqueue(`bob@${domain}`, { requireTls });
  await q.queue.runOnce();
  return { left: await q.store.getQueueMessage(id), inbox: await q.inbox() };
}

function dsnStatus(dsn: Buffer): string {
  const part = parseMessage(dsn).children![1]!;
  return /Status: (\S+)/.exec(dsn.subarray(part.bodyStart, part.bodyEnd).toString())![1]!;
}

describe('REQUIRETLS outbound', () => {
  it('relays over MTA-STS verified TLS to a server that offers REQUIRETLS, passing the parameter on', async () => {
    const s = bed.mx.get('mx-req.rt.test')!.server;
    const r = await send('sts.test', true);
    assert.equal(r.left, null);
    assert.match(s.transactions.at(-1)!.mailParams, /\bREQUIRETLS\b/);
  });

  it('bounces with 5.7.10 when no policy verifies the next hop, without contacting it', async () => {
    const s = bed.mx.get('mx-open.rt.test')!.server;
    const c0 = s.connections;
    const r = await send('open.test', true);
    assert.equal(r.left, null, 'bounced at once');
    assert.equal(s.connections, c0);
    assert.equal(r.inbox.length, 1);
    assert.equal(dsnStatus(r.inbox[0]!), '5.7.10');
    // The same message without REQUIRETLS goes there by opportunistic TLS.
    const plainRun = await send('open.test', false);
    assert.equal(plainRun.left, null);
    assert.equal(s.connections, c0 + 1);
    assert.doesNotMatch(s.transactions.at(-1)!.mailParams, /REQUIRETLS/);
  });

  it('bounces with 5.7.30 when the verified next hop does not offer REQUIRETLS', async () => {
    const s = bed.mx.get('mx-noreq.rt.test')!.server;
    const t0 = s.transactions.length;
    const r = await send('noreq.test', true);
    assert.equal(r.left, null);
    assert.equal(s.transactions.length, t0);
    assert.equal(dsnStatus(r.inbox[0]!), '5.7.30');
  });

  it('sends the DSN of a REQUIRETLS message with REQUIRETLS itself, only over verified TLS (RFC 8689 5)', async () => {
    const req = bed.mx.get('mx-req.rt.test')!.server;
    const open = bed.mx.get('mx-open.rt.test')!.server;
    // A remote sender at sts.test: its bounce is queued, and relayed over MTA-STS verified TLS
    // to a server that offers REQUIRETLS, with the parameter.
    const q = await stsQueue();
    const id = await q.enqueue('bob@open.test', { requireTls: true, sender: 'carol@sts.test' });
    const c0 = open.connections;
    const t0 = req.transactions.length;
    await q.queue.runOnce(); // the bounce, then its DSN
    assert.equal(await q.store.getQueueMessage(id), null, 'bounced');
    assert.equal(req.transactions.length, t0 + 1);
    const t = req.transactions.at(-1)!;
    assert.equal(t.from, '');
    assert.match(t.mailParams, /\bREQUIRETLS\b/);
    assert.match(t.data.toString(), /text\/rfc822-headers/, 'the original header section only (RFC 8689 5: as RET=HDRS)');

    // A sender whose domain has no policy that verifies TLS: the bounce is not relayed there.
    const id2 = await q.enqueue('bob@open.test', { requireTls: true, sender: 'dave@open.test' });
    await q.queue.runOnce();
    assert.equal(await q.store.getQueueMessage(id2), null);
    assert.equal(open.connections, c0, 'neither the message nor its bounce went to the unverified host');
    assert.equal((await q.store.listQueue()).length, 0, 'the undeliverable bounce is dropped, with no DSN about it');
  });
});

describe('REQUIRETLS on our SMTP server', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('incoming: offered only after STARTTLS; MAIL FROM REQUIRETLS without TLS is refused with 5.7.10', async () => {
    const c = await SmtpClient.connect(h.ports.smtp);
    await c.expect(220);
    assert.ok(!(await c.ehlo('mx.sender.test')).includes('REQUIRETLS'));
    await c.cmd('MAIL FROM:<x@sender.test> REQUIRETLS', 530, '5.7.10');
    await c.startTls();
    assert.ok((await c.ehlo('mx.sender.test')).includes('REQUIRETLS'));
    await c.cmd('MAIL FROM:<x@sender.test> REQUIRETLS', 250);
    await c.cmd('RSET', 250);
    await c.cmd('MAIL FROM:<x@sender.test> REQUIRETLS=yes', 501);
    c.close();
  });

  it('submission: a REQUIRETLS message is queued marked as such', async () => {
    h.ctx.queue = { kick: () => {} };
    const c = await SmtpClient.connect(h.ports.submission);
    await c.expect(220);
    await c.ehlo();
    await c.startTls();
    assert.ok((await c.ehlo()).includes('REQUIRETLS'));
    await c.cmd(`AUTH PLAIN ${plain('alice@example.test', PASSWORD)}`, 235);
    await c.cmd('MAIL FROM:<alice@example.test> REQUIRETLS', 250);
    await c.cmd('RCPT TO:<someone@remote.example>', 250);
    await c.cmd('DATA', 354);
    c.write(message('Alice <alice@example.test>', 'someone@remote.example') + '.\r\n');
    await c.expect(250);
    c.close();
    const q = await h.store.listQueue();
    assert.equal(q.length, 1);
    assert.equal(q[0]!.requireTls, true);
    delete h.ctx.queue;
  });
});
