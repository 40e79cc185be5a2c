// MTA-STS (RFC 8461) in outbound delivery, against remote MX hosts on 127.0.0.x with certificates
// from a test CA (valid, self-signed, expired, for another name), one without STARTTLS and one
// whose STARTTLS breaks, and policies served over HTTPS by a host with a test-CA certificate.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/log/logger.js';
import { MtaSts } from '../../src/outbound/mta-sts.js';
import { OutboundTlsPolicy, utcDay } from '../../src/outbound/policy-tls.js';
import { TestBed } from './harness.js';

let bed: TestBed;

before(async () => {
  bed = await TestBed.create();
  await bed.addMx('mx1.sts.test');
  await bed.addMx('mx-self.sts.test', { cert: 'self-signed' });
  await bed.addMx('mx-old.sts.test', { cert: 'expired' });
  await bed.addMx('mx-name.sts.test', { cert: { for: 'other.sts.test' } });
  await bed.addMx('mx-plain.sts.test', { starttls: false });
  await bed.addMx('mx-broken.sts.test', { brokenStartTls: true });
  await bed.addMx('mx.elsewhere.test');
  const domains = ['good.test', 'mismatch.test', 'self.test', 'old.test', 'name.test', 'plain.test', 'broken.test', 'testing.test', 'cache.test', 'nopolicy.test'];
  await bed.startPolicyHost(domains);
  const route: Record<string, string> = {
    'good.test': 'mx1.sts.test', 'mismatch.test': 'mx.elsewhere.test', 'self.test': 'mx-self.sts.test', 'old.test': 'mx-old.sts.test',
    'name.test': 'mx-name.sts.test', 'plain.test': 'mx-plain.sts.test', 'broken.test': 'mx-broken.sts.test', 'testing.test': 'mx-self.sts.test',
    'cache.test': 'mx1.sts.test', 'nopolicy.test': 'mx-broken.sts.test',
  };
  for (const [d, mx] of Object.entries(route)) bed.dns.mx.set(d, [mx]);
  for (const d of domains.filter((x) => x !== 'testing.test' && x !== 'nopolicy.test')) bed.publishSts(d, 'id1', 'enforce', ['mx1.sts.test', '*.sts.test']);
  bed.publishSts('mismatch.test', 'id1', 'enforce', ['mx1.sts.test']);
  bed.publishSts('testing.test', 'id1', 'testing', ['*.sts.test']);
});
after(() => bed.close());

async function env() {
  const q0 = await bed.queue({ forDestination: () => Promise.reject(new Error('unused')) });
  const mtaSts = new MtaSts({ store: q0.store, resolveTxt: bed.dns.resolveTxt, fetch: { ca: bed.pki.caPem, port: bed.httpsPort, lookup: bed.lookup }, log: silentLogger });
  const policy = new OutboundTlsPolicy({ mtaSts, ca: [bed.pki.caPem], results: q0.store, log: silentLogger });
  const q = await bed.queue(policy, { store: q0.store });
  return { ...q, mtaSts, policy };
}

const conns = (name: string) => bed.mx.get(name)!.server.connections;
const txs = (name: string) => bed.mx.get(name)!.server.transactions.length;

async function deliverOnce(domain: string) {
  const e = await env();
  const id = await e.enqueue(`bob@${domain}`);
  await e.queue.runOnce();
  await e.policy.flush();
  const m = await e.store.getQueueMessage(id);
  const results = await e.store.listTlsResults(utcDay(new Date()), domain);
  return { ...e, pending: m?.recipients[0] ?? null, results: results.map((r) => `${r.mxHost} ${r.resultType} ${r.count}`) };
}

describe('MTA-STS enforce', () => {
  it('delivers over verified TLS to an MX the policy names, and counts the success', async () => {
    const before = txs('mx1.sts.test');
    const r = await deliverOnce('good.test');
    assert.equal(r.pending, null, 'delivered and dropped');
    assert.equal(txs('mx1.sts.test'), before + 1);
    assert.deepEqual(r.results, ['mx1.sts.test success 1']);
  });

  it('does not connect to an MX outside the policy, and defers the message', async () => {
    const before = conns('mx.elsewhere.test');
    const r = await deliverOnce('mismatch.test');
    assert.equal(conns('mx.elsewhere.test'), before, 'the MX outside the policy is never contacted');
    assert.equal(r.pending?.state, 'pending');
    assert.match(r.pending!.lastError!, /not an MX host that the MTA-STS policy of mismatch\.test allows/);
    assert.deepEqual(r.results, ['mx.elsewhere.test validation-failure 1']);
  });

  for (const [domain, mx, result] of [
    ['self.test', 'mx-self.sts.test', 'certificate-not-trusted'],
    ['old.test', 'mx-old.sts.test', 'certificate-expired'],
    ['name.test', 'mx-name.sts.test', 'certificate-host-mismatch'],
    ['plain.test', 'mx-plain.sts.test', 'starttls-not-supported'],
  ] as const) {
    it(`defers without sending anything when the MX fails the check: ${result}`, async () => {
      const [c0, t0] = [conns(mx), txs(mx)];
      const r = await deliverOnce(domain);
      assert.equal(r.pending?.state, 'pending');
      assert.match(r.pending!.lastError!, new RegExp(`mta-sts-enforce policy: .*\\(${result}\\)`));
      assert.equal(txs(mx), t0, 'no transaction');
      assert.equal(conns(mx), c0 + 1, 'one connection: no plain-text retry');
      assert.ok(!bed.mx.get(mx)!.server.commands.slice(-5).some((c) => c.startsWith('MAIL')), 'no MAIL command');
      assert.deepEqual(r.results, [`${mx} ${result} 1`]);
    });
  }

  it('never falls back to plain text when the STARTTLS handshake breaks', async () => {
    const c0 = conns('mx-broken.sts.test');
    const r = await deliverOnce('broken.test');
    assert.equal(r.pending?.state, 'pending');
    assert.equal(conns('mx-broken.sts.test'), c0 + 1);
    assert.deepEqual(r.results, ['mx-broken.sts.test validation-failure 1']);
  });
});

describe('MTA-STS testing and no policy', () => {
  it('testing mode delivers despite a certificate that does not verify, and records the failure', async () => {
    const t0 = txs('mx-self.sts.test');
    const r = await deliverOnce('testing.test');
    assert.equal(r.pending, null, 'delivered');
    assert.equal(txs('mx-self.sts.test'), t0 + 1);
    assert.deepEqual(r.results, ['mx-self.sts.test certificate-not-trusted 1']);
  });

  it('without a policy a broken STARTTLS is retried in plain text', async () => {
    const [c0, t0] = [conns('mx-broken.sts.test'), txs('mx-broken.sts.test')];
    const r = await deliverOnce('nopolicy.test');
    assert.equal(r.pending, null);
    assert.equal(conns('mx-broken.sts.test'), c0 + 2, 'TLS, then plain text');
    assert.equal(txs('mx-broken.sts.test'), t0 + 1);
  });
});

describe('MTA-STS policy cache', () => {
  it('fetches once, keeps the policy in the store across restarts and outages, refetches on a new id, refreshes before expiry', async () => {
    const e = await env();
    const f = () => bed.fetches.get('cache.test') ?? 0;
    const f0 = f();
    assert.equal((await e.mtaSts.lookup('cache.test')).kind, 'policy');
    assert.equal((await e.mtaSts.lookup('cache.test')).kind, 'policy');
    assert.equal(f(), f0 + 1, 'second lookup from the cache');
    const cached = (await e.store.getMtaStsPolicy('cache.test'))!;
    assert.equal(cached.policyId, 'id1');
    assert.equal(cached.expires.getTime() - cached.fetched.getTime(), 86400_000, 'kept for max_age');

    // A new MtaSts on the same store (a restart) while the policy host is down: the cached
    // policy still applies, and a domain whose record vanished keeps it too (RFC 8461 5.1).
    const saved = bed.policies.get('cache.test')!;
    bed.policies.delete('cache.test');
    const restarted = new MtaSts({ store: e.store, resolveTxt: bed.dns.resolveTxt, fetch: { ca: bed.pki.caPem, port: bed.httpsPort, lookup: bed.lookup }, log: silentLogger });
    const l = await restarted.lookup('cache.test');
    assert.equal(l.kind, 'policy');
    assert.equal(f(), f0 + 1);

    // A new id: fetched again (the host is down: the cached policy stays in force).
    bed.dns.txt.set('_mta-sts.cache.test', ['v=STSv1; id=id2;']);
    assert.equal((await restarted.lookup('cache.test')).kind, 'policy');
    assert.equal(f(), f0 + 2);
    bed.policies.set('cache.test', { body: saved.body.replace('mode: enforce', 'mode: testing') });
    const l2 = await restarted.lookup('cache.test');
    assert.equal(l2.kind === 'policy' && l2.active.policy.mode, 'testing');
    assert.equal((await e.store.getMtaStsPolicy('cache.test'))!.policyId, 'id2');

    // Refresh: an hour before expiry the policy is fetched again and its expiry moves on.
    const entry = (await e.store.getMtaStsPolicy('cache.test'))!;
    const clock = { now: entry.expires.getTime() - 3600_000 };
    const refresher = new MtaSts({ store: e.store, resolveTxt: bed.dns.resolveTxt, fetch: { ca: bed.pki.caPem, port: bed.httpsPort, lookup: bed.lookup }, now: () => new Date(clock.now), log: silentLogger });
    const f1 = f();
    await refresher.refreshDue();
    assert.equal(f(), f1 + 1);
    assert.equal((await e.store.getMtaStsPolicy('cache.test'))!.expires.getTime(), clock.now + 86400_000);

    // Expired, and the domain no longer publishes a record: dropped from the cache.
    bed.dns.txt.delete('_mta-sts.cache.test');
    clock.now += 2 * 86400_000;
    await refresher.refreshDue();
    assert.equal(await e.store.getMtaStsPolicy('cache.test'), null);
    assert.equal((await refresher.lookup('cache.test')).kind, 'none');
  });

  it('a domain without a record is remembered for a while: a second delivery asks DNS no more', async () => {
    bed.dns.mx.set('absent.test', ['mx1.sts.test']);
    const clock = { now: Date.now() };
    const asked: string[] = [];
    let failing = false;
    const resolveTxt = (n: string) => {
      asked.push(n);
      return failing ? Promise.reject(Object.assign(new Error('servfail'), { code: 'ESERVFAIL' })) : bed.dns.resolveTxt(n);
    };
    const q0 = await bed.queue({ forDestination: () => Promise.reject(new Error('unused')) });
    const mtaSts = new MtaSts({ store: q0.store, resolveTxt, fetch: { ca: bed.pki.caPem, port: bed.httpsPort, lookup: bed.lookup }, now: () => new Date(clock.now), log: silentLogger });
    const q = await bed.queue(new OutboundTlsPolicy({ mtaSts, ca: [bed.pki.caPem], log: silentLogger }), { store: q0.store });
    const stsQueries = () => asked.filter((n) => n === '_mta-sts.absent.test').length;
    const t0 = txs('mx1.sts.test');
    for (let i = 0; i < 2; i++) {
      await q.enqueue('bob@absent.test');
      await q.queue.runOnce();
    }
    assert.equal(txs('mx1.sts.test'), t0 + 2, 'both delivered');
    assert.equal(stsQueries(), 1, 'the second delivery used the remembered answer');
    // After MTA_STS_NEGATIVE_TTL_MS the record is asked for again, and a new policy is found.
    bed.publishSts('absent.test', 'n1', 'enforce', ['mx1.sts.test']);
    assert.equal((await mtaSts.lookup('absent.test')).kind, 'none', 'still remembered');
    clock.now += 5 * 60_000 + 1;
    // (Found and fetched: the policy host has no certificate for absent.test, so the fetch fails.)
    const found = await mtaSts.lookup('absent.test');
    assert.equal(found.kind === 'failed' && found.failure, 'sts-webpki-invalid');
    assert.equal(stsQueries(), 2);
    // A DNS failure is not remembered as "no record".
    failing = true;
    assert.equal((await mtaSts.lookup('nopolicy.test')).kind, 'none');
    assert.equal((await mtaSts.lookup('nopolicy.test')).kind, 'none');
    assert.equal(asked.filter((n) => n === '_mta-sts.nopolicy.test').length, 2);
    bed.dns.txt.delete('_mta-sts.absent.test');
    bed.policies.delete('absent.test');
  });

  it('a policy host whose certificate does not verify gives no policy, reported as sts-webpki-invalid', async () => {
    const e = await env();
    const m = new MtaSts({ store: e.store, resolveTxt: bed.dns.resolveTxt, fetch: { port: bed.httpsPort, lookup: bed.lookup }, log: silentLogger });
    const l = await m.lookup('good.test');
    assert.equal(l.kind === 'failed' && l.failure, 'sts-webpki-invalid');
  });

  it('a policy served with another media type is invalid', async () => {
    const e = await env();
    const saved = bed.policies.get('good.test')!;
    bed.policies.set('good.test', { ...saved, type: 'text/html' });
    try {
      const l = await e.mtaSts.lookup('good.test');
      assert.equal(l.kind === 'failed' && l.failure, 'sts-policy-invalid');
    } finally {
      bed.policies.set('good.test', saved);
    }
  });
});
