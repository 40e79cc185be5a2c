// DANE for SMTP (RFC 7672) in outbound delivery: a real unbound validates a zone signed in the
// test (ldns-keygen/ldns-signzone) and serves an unsigned one; the queue asks it for MX, A,
// TLSA and _mta-sts records through the DNSSEC-aware resolver, and delivers to remote MX hosts
// on 127.0.0.x.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DnssecResolver, dnsResolverOf } from '../../src/dns/dnssec-resolver.js';
import { silentLogger } from '../../src/log/logger.js';
import { MtaSts } from '../../src/outbound/mta-sts.js';
import { OutboundTlsPolicy, utcDay } from '../../src/outbound/policy-tls.js';
import { TestBed } from './harness.js';
import { haveUnbound, tlsaData, Unbound } from './unbound.js';

let bed: TestBed;
let unbound: Unbound;
let resolver: DnssecResolver;
const available = haveUnbound();

before(async () => {
  if (!available) return;
  bed = await TestBed.create();
  const ee = await bed.addMx('mx-ee.dane.test', { cert: 'self-signed' });
  const ta = await bed.addMx('mx-ta.dane.test');
  const wrong = await bed.addMx('mx-wrong.dane.test');
  const bogus = await bed.addMx('mx-bogus.bogus.test', { cert: 'self-signed' });
  const ins = await bed.addMx('mx-ins.insecure.test', { cert: 'self-signed' });
  await bed.startPolicyHost(['sts.dane.test']);
  bed.publishSts('sts.dane.test', 'd1', 'enforce', ['mx-other.dane.test']);
  const p = bed.mxPort;
  unbound = await Unbound.start(bed.dir, [
    {
      origin: 'dane.test', signed: true, records: [
        'ee IN MX 10 mx-ee.dane.test.', 'ta IN MX 10 mx-ta.dane.test.', 'wrong IN MX 10 mx-wrong.dane.test.', 'sts IN MX 10 mx-ee.dane.test.',
        '_mta-sts.sts IN TXT "v=STSv1; id=d1;"',
        // Larger than the 1232-octet UDP answer: truncated over UDP, complete over TCP.
        `big IN TXT ${Array.from({ length: 8 }, (_, i) => `"${String(i).repeat(250)}"`).join(' ')}`,
        `mx-ee IN A ${ee.address}`, `mx-ta IN A ${ta.address}`, `mx-wrong IN A ${wrong.address}`,
        `_${p}._tcp.mx-ee IN TLSA 3 1 1 ${tlsaData(ee.certPem, 1, 1)}`,
        `_${p}._tcp.mx-ta IN TLSA 2 1 1 ${tlsaData(bed.pki.caPem, 1, 1)}`,
        // A key nobody has, on a host whose certificate WebPKI would accept.
        `_${p}._tcp.mx-wrong IN TLSA 3 1 1 ${randomBytes(32).toString('hex')}`,
      ],
    },
    {
      // Signed, then a TLSA record changed under its signature: the resolver answers SERVFAIL.
      origin: 'bogus.test', signed: true, records: [
        'b IN MX 10 mx-bogus.bogus.test.', `mx-bogus IN A ${bogus.address}`,
        `_${p}._tcp.mx-bogus IN TLSA 3 1 1 ${tlsaData(bogus.certPem, 1, 1)}`,
      ],
      tamper: (z) => z.replace(/(IN\s+TLSA\s+3 1 1 )([0-9a-f])/i, (_m, pre: string, c: string) => pre + (c === '0' ? '1' : '0')),
    },
    {
      origin: 'insecure.test', signed: false, records: [
        'ins IN MX 10 mx-ins.insecure.test.', `mx-ins IN A ${ins.address}`,
        `_${p}._tcp.mx-ins IN TLSA 3 1 1 ${randomBytes(32).toString('hex')}`,
      ],
    },
  ]);
  resolver = new DnssecResolver({ host: '127.0.0.1', port: unbound.port });
});
after(async () => {
  await unbound?.close();
  await bed?.close();
});

async function deliverOnce(domain: string, content?: string) {
  const dns = dnsResolverOf(resolver);
  const q0 = await bed.queue({ forDestination: () => Promise.reject(new Error('unused')) });
  const mtaSts = new MtaSts({ store: q0.store, resolveTxt: dns.resolveTxt, fetch: { ca: bed.pki.caPem, port: bed.httpsPort, lookup: bed.lookup }, log: silentLogger });
  const policy = new OutboundTlsPolicy({ dane: resolver, mtaSts, ca: [bed.pki.caPem], results: q0.store, log: silentLogger });
  const q = await bed.queue(policy, { store: q0.store, resolver: dns });
  const id = await q.enqueue(`bob@${domain}`, content === undefined ? {} : { content });
  await q.queue.runOnce();
  await policy.flush();
  const rcpt = (await q.store.getQueueMessage(id))?.recipients[0] ?? null;
  const results = (await q.store.listTlsResults(utcDay(new Date()), domain)).map((r) => `${r.policyType} ${r.mxHost} ${r.resultType} ${r.count}`);
  return { pending: rcpt, results };
}

const txs = (name: string) => bed.mx.get(name)!.server.transactions.length;
/** The trace field the door put on the last message `name` received, unfolded. */
const received = (name: string) => /^Received: ([^\r\n]*(?:\r\n\t[^\r\n]*)*)\r\n/.exec(bed.mx.get(name)!.server.transactions.at(-1)!.data.toString())![1]!.replace(/\r\n\t/g, ' ');
const TLS_REQUIRED_NO = 'From: alice@example.org\r\nTo: bob@remote.example\r\nSubject: not secret\r\nTLS-Required: No\r\n\r\nHello.\r\n';

describe('DANE', () => {
  it('the resolver sees the signed zone as secure and the unsigned one as not', async (t) => {
    if (!available) return skip(t);
    const s = await resolver.tlsa(`_${bed.mxPort}._tcp.mx-ee.dane.test`);
    assert.equal(s.secure, true);
    assert.equal(s.records.length, 1);
    assert.equal((await resolver.mx('ins.insecure.test')).secure, false);
    // A truncated UDP answer is asked again over TCP.
    const big = await resolver.txt('big.dane.test');
    assert.equal(big.secure, true);
    assert.equal(big.records[0]?.join('').length, 2000);
    // The AD bit is not believed from a resolver off loopback.
    assert.equal(new DnssecResolver({ host: '192.0.2.1' }).trusted, false);
  });

  it('accepts the pinned key of a DANE-EE 3 1 1 record, for a self-signed certificate', async (t) => {
    if (!available) return skip(t);
    const t0 = txs('mx-ee.dane.test');
    const r = await deliverOnce('ee.dane.test');
    assert.equal(r.pending, null, 'delivered');
    assert.equal(txs('mx-ee.dane.test'), t0 + 1);
    assert.deepEqual(r.results, ['tlsa mx-ee.dane.test success 1']);
    assert.match(received('mx-ee.dane.test'), /with ESMTPS id \d+ \(version=TLSv1\.3 cipher=TLS_\w+ policy=dane verified\) for <bob@ee\.dane\.test>;/);
  });

  it('accepts a chain to the trust anchor of a DANE-TA 2 1 1 record', async (t) => {
    if (!available) return skip(t);
    const r = await deliverOnce('ta.dane.test');
    assert.equal(r.pending, null);
    assert.deepEqual(r.results, ['tlsa mx-ta.dane.test success 1']);
  });

  it('refuses a server whose key matches no TLSA record, even with a WebPKI-valid certificate', async (t) => {
    if (!available) return skip(t);
    const t0 = txs('mx-wrong.dane.test');
    const r = await deliverOnce('wrong.dane.test');
    assert.equal(r.pending?.state, 'pending');
    assert.match(r.pending!.lastError!, /dane policy: .*matches none of its TLSA records \(validation-failure\)/);
    assert.equal(txs('mx-wrong.dane.test'), t0);
    assert.deepEqual(r.results, ['tlsa mx-wrong.dane.test validation-failure 1']);
  });

  it('does not apply for an insecure zone: its TLSA records are ignored', async (t) => {
    if (!available) return skip(t);
    const t0 = txs('mx-ins.insecure.test');
    const r = await deliverOnce('ins.insecure.test');
    assert.equal(r.pending, null);
    assert.equal(txs('mx-ins.insecure.test'), t0 + 1);
    // RFC 8460 4.4: counted as a session without a policy.
    assert.deepEqual(r.results, ['no-policy-found mx-ins.insecure.test success 1']);
    assert.match(received('mx-ins.insecure.test'), /\(version=TLSv1\.3 cipher=TLS_\w+ policy=none unverified\)/);
  });

  it('does not use a host whose TLSA lookup fails DNSSEC validation (bogus), even with the right key', async (t) => {
    if (!available) return skip(t);
    const c0 = bed.mx.get('mx-bogus.bogus.test')!.server.connections;
    const r = await deliverOnce('b.bogus.test');
    assert.equal(r.pending?.state, 'pending');
    assert.match(r.pending!.lastError!, /DANE: TLSA lookup for mx-bogus\.bogus\.test failed \(SERVFAIL\)/);
    assert.equal(bed.mx.get('mx-bogus.bogus.test')!.server.connections, c0, 'not contacted');
    assert.deepEqual(r.results, ['tlsa mx-bogus.bogus.test dnssec-invalid 1']);
  });

  it('TLS-Required: No (RFC 8689): a key that matches no TLSA record, and a bogus TLSA lookup, no longer stop delivery', async (t) => {
    if (!available) return skip(t);
    const t0 = txs('mx-wrong.dane.test');
    const r = await deliverOnce('wrong.dane.test', TLS_REQUIRED_NO);
    assert.equal(r.pending, null, 'delivered');
    assert.equal(txs('mx-wrong.dane.test'), t0 + 1);
    assert.match(received('mx-wrong.dane.test'), /\(version=TLSv1\.3 cipher=TLS_\w+ policy=dane tls-required=no failed=validation-failure\)/);
    // The check still ran and is reported under the DANE policy.
    assert.deepEqual(r.results, ['tlsa mx-wrong.dane.test validation-failure 1']);
    const b = await deliverOnce('b.bogus.test', TLS_REQUIRED_NO);
    assert.equal(b.pending, null, 'delivered despite the bogus TLSA lookup');
    assert.match(received('mx-bogus.bogus.test'), /policy=dane tls-required=no failed=dnssec-invalid\)/);
    assert.deepEqual(b.results, ['tlsa mx-bogus.bogus.test dnssec-invalid 1']);
  });

  it('takes precedence over MTA-STS: an MX outside the enforce policy is used under DANE', async (t) => {
    if (!available) return skip(t);
    const r = await deliverOnce('sts.dane.test');
    assert.equal(r.pending, null);
    assert.deepEqual(r.results, ['tlsa mx-ee.dane.test success 1']);
  });
});

function skip(t: { skip(msg: string): void }): void {
  if (process.env.CI === 'true') assert.fail('unbound and ldnsutils are needed (.ci/apt-packages)');
  t.skip('unbound or ldns-keygen missing');
}
