// Outbound delivery rate with TLS policies in force, beside the same without them: the queue
// delivers N one-recipient messages to remote test MX hosts on 127.0.0.x (STARTTLS, certificates
// from a test CA) for a domain with no policy (without the policy hook, and with it: MTA-STS
// looked up and found missing, the session counted for TLS-RPT as no-policy-found), one with an
// MTA-STS enforce policy (verified WebPKI, policy cached after the first fetch), and one under
// DANE (TLSA 3 1 1, DNSSEC-validated by a local unbound) when unbound and ldnsutils are installed.
// Usage: node dist/bench/outbound-policies.js [messages]

import { silentLogger } from '../src/log/logger.js';
import { DnssecResolver, dnsResolverOf } from '../src/dns/dnssec-resolver.js';
import { MtaSts } from '../src/outbound/mta-sts.js';
import { OutboundTlsPolicy } from '../src/outbound/policy-tls.js';
import { defaultTlsPolicy, type DnsResolver, type TlsPolicy } from '../src/outbound/index.js';
import type { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { TestBed } from '../test/outbound/harness.js';
import { haveUnbound, tlsaData, Unbound } from '../test/outbound/unbound.js';
import { fmt, note, now } from './figures.js';

const N = Number(process.argv[2] ?? 300);

const bed = await TestBed.create();
let unbound: Unbound | undefined;
try {
  await bed.addMx('mx.bench.test');
  const ee = await bed.addMx('mx-ee.dane.test', { cert: 'self-signed' });
  await bed.startPolicyHost(['sts.test']);
  bed.dns.mx.set('plain.test', ['mx.bench.test']);
  bed.dns.mx.set('sts.test', ['mx.bench.test']);
  bed.publishSts('sts.test', 'b1', 'enforce', ['mx.bench.test']);

  async function run(label: string, domain: string, resolver?: DnsResolver): Promise<number> {
    const q0 = await bed.queue(defaultTlsPolicy);
    const tlsPolicy = makePolicy(label, q0.store);
    const q = await bed.queue(tlsPolicy, { store: q0.store, ...(resolver && { resolver }) });
    // One message first: policy fetch and caches warm, as on a running server.
    await q.enqueue(`warm@${domain}`);
    await q.queue.runOnce();
    for (let i = 0; i < N; i++) await q.enqueue(`user${i}@${domain}`);
    const t0 = now();
    while ((await q.store.listQueue()).length) await q.queue.runOnce();
    return N / ((now() - t0) / 1000);
  }

  let dnssec: DnssecResolver | undefined;
  /** `_mta-sts` TXT queries per run (a domain without a record is remembered a while). */
  const txtQueries = new Map<string, number>();
  const makePolicy = (label: string, store: SqliteStore): TlsPolicy => {
    if (label === 'none') return defaultTlsPolicy;
    const ask = dnssec ? dnsResolverOf(dnssec).resolveTxt : bed.dns.resolveTxt;
    const resolveTxt = (n: string) => {
      txtQueries.set(label, (txtQueries.get(label) ?? 0) + 1);
      return ask(n);
    };
    const mtaSts = new MtaSts({ store, resolveTxt, fetch: { ca: bed.pki.caPem, port: bed.httpsPort, lookup: bed.lookup }, log: silentLogger });
    return new OutboundTlsPolicy({ mtaSts, ca: [bed.pki.caPem], results: store, log: silentLogger, ...(label === 'dane' && dnssec && { dane: dnssec }) });
  };

  // A first round untimed: the process's first deliveries (JIT, TLS contexts) would otherwise
  // weigh on whichever figure comes first.
  await run('none', 'plain.test');
  const plain = await run('none', 'plain.test');
  const looked = await run('no-policy-found', 'plain.test');
  const sts = await run('mta-sts', 'sts.test');
  console.log(`outbound delivery to test MX hosts (${N} messages): no policy found (looked up, counted) ${fmt(looked)} msg/s, no policy ${fmt(plain)} msg/s, ratio ${(looked / plain).toFixed(2)}`);
  console.log(`outbound delivery to test MX hosts (${N} messages): mta-sts enforce ${fmt(sts)} msg/s, no policy ${fmt(plain)} msg/s, ratio ${(sts / plain).toFixed(2)}`);
  console.log(`_mta-sts TXT queries for ${N + 1} deliveries: no policy found ${txtQueries.get('no-policy-found') ?? 0}, mta-sts enforce ${txtQueries.get('mta-sts') ?? 0}`);
  if (haveUnbound()) {
    unbound = await Unbound.start(bed.dir, [{
      origin: 'dane.test', signed: true,
      records: ['ee IN MX 10 mx-ee.dane.test.', `mx-ee IN A ${ee.address}`, `_${bed.mxPort}._tcp.mx-ee IN TLSA 3 1 1 ${tlsaData(ee.certPem, 1, 1)}`],
    }]);
    dnssec = new DnssecResolver({ host: '127.0.0.1', port: unbound.port });
    const dane = await run('dane', 'ee.dane.test', dnsResolverOf(dnssec));
    console.log(`outbound delivery to test MX hosts (${N} messages): dane ${fmt(dane)} msg/s, no policy ${fmt(plain)} msg/s, ratio ${(dane / plain).toFixed(2)}`);
  } else {
    note('unbound or ldnsutils not installed: no DANE figure');
  }
} finally {
  await unbound?.close();
  await bed.close();
}
