// The TLS policy of MX delivery (the TlsPolicy hook of tls-policy.ts): DANE (RFC 7672) when the
// MX host has secure TLSA records, else the domain's MTA-STS policy (RFC 8461), else
// opportunistic STARTTLS. Transports and address literals keep their own settings. Every
// connection to an MX host is counted for TLS-RPT (RFC 8460) in the store: under its policy, or
// as no-policy-found.

import type { DnssecResolver } from '../dns/dnssec-resolver.js';
import type { Logger } from '../log/logger.js';
import type { Store, TlsResultKey } from '../store/types.js';
import type { Destination, DestinationHost } from './destination.js';
import { daneCheck, daneForHosts, tlsaText, type DaneState } from './dane.js';
import type { MtaSts, MtaStsLookup } from './mta-sts.js';
import { mxAllowed } from './mta-sts-policy.js';
import { webpkiCheck } from './tls-check.js';
import { defaultTlsPolicy, type DestinationTlsPolicy, type HostTlsDecision, type TlsOutcome, type TlsPolicy } from './tls-policy.js';

export interface OutboundTlsPolicyOptions {
  mtaSts?: MtaSts;
  /** DNSSEC-validating resolver for DANE (RFC 7672); none: DANE is off. */
  dane?: DnssecResolver;
  /** Trusted CAs for WebPKI checks of MX hosts (tests); default the system's. */
  ca?: string[];
  /** Where TLS results are counted for TLS-RPT; none: not counted. */
  results?: Pick<Store, 'addTlsResults'>;
  now?: () => Date;
  log: Logger;
}

/** UTC day of a date, as TLS-RPT reports cover (RFC 8460 4.4 date-range). */
export function utcDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

export class OutboundTlsPolicy implements TlsPolicy {
  constructor(private readonly o: OutboundTlsPolicyOptions) {}

  async forDestination(domainIn: string, dest: Destination, o: { uncounted?: boolean } = {}): Promise<DestinationTlsPolicy> {
    const domain = domainIn.toLowerCase();
    // RFC 8460 5.3: the sessions that deliver reports are left out of later reports (else a
    // failing domain's report would add to the next one, a loop of reports about reports).
    const count = o.uncounted ? () => Promise.resolve() : (k: Omit<TlsResultKey, 'day'>) => this.#count(k);
    // Transports (the admin's choice) and address literals have no policy domain.
    if (dest.transport !== null || !dest.hosts.some((h) => h.lookup === 'dns')) return defaultTlsPolicy.forDestination(domain, dest);
    const implicitMx = dest.hosts.length === 1 && dest.hosts[0]!.name === domain;
    const [dane, sts] = await Promise.all([
      this.o.dane ? daneForHosts(this.o.dane, domain, dest.hosts, dest.port, implicitMx) : new Map<string, DaneState>(),
      this.o.mtaSts ? this.o.mtaSts.lookup(domain) : Promise.resolve<MtaStsLookup>({ kind: 'none' }),
    ]);
    const plain = await defaultTlsPolicy.forDestination(domain, dest);
    if (sts.kind === 'failed') {
      // RFC 8461 5.1: no usable policy and none cached: deliver as without one, and report it.
      await count({ policyDomain: domain, policyType: 'sts', policyString: [], mxHost: '', receivingIp: '', resultType: sts.failure });
    }
    const stsPolicy = sts.kind === 'policy' ? sts.active : null;
    const hostType = new Map<string, 'tlsa' | 'sts'>();
    const report = (o: TlsOutcome) => {
      const d = dane.get(o.host.name);
      if (hostType.get(o.host.name) === 'tlsa' && d) {
        const policyString = d.kind === 'dane' ? d.records.map(tlsaText) : [];
        return count({ policyDomain: domain, policyType: 'tlsa', policyString, mxHost: o.host.name, receivingIp: o.address, resultType: o.result });
      }
      if (hostType.get(o.host.name) === 'sts' && stsPolicy) {
        return count({ policyDomain: domain, policyType: 'sts', policyString: stsPolicy.lines, mxHost: o.host.name, receivingIp: o.address, resultType: o.result });
      }
      // A policy that should exist but could not be had was counted as its failure, above.
      if (sts.kind === 'failed') return Promise.resolve();
      // RFC 8460 4.4: sessions without any policy are reported as no-policy-found (the report
      // goes out only to domains that publish a TLSRPT record, tls-rpt.ts).
      return count({ policyDomain: domain, policyType: 'no-policy-found', policyString: [], mxHost: o.host.name, receivingIp: o.address, resultType: o.result });
    };
    return {
      forHost: (host: DestinationHost): HostTlsDecision => {
        if (host.lookup !== 'dns') return plain.forHost(host);
        // RFC 8461 2 / RFC 7672: DANE, where it applies to a host, takes precedence over MTA-STS.
        const d = dane.get(host.name);
        if (d?.kind === 'failed') {
          hostType.set(host.name, 'tlsa');
          // RFC 7672 2.2: a host whose TLSA records cannot be had securely is not used.
          return { ok: false, permanent: false, status: '4.7.5', message: `DANE: ${d.message}`, result: d.result, policy: 'dane' };
        }
        if (d?.kind === 'dane') {
          hostType.set(host.name, 'tlsa');
          const records = d.records;
          return {
            ok: true,
            tls: {
              mode: 'opportunistic', insecure: false, servername: host.name, plainFallback: false, policy: 'dane', enforce: true,
              verify: (socket) => daneCheck(socket, records, host.name),
            },
          };
        }
        if (!stsPolicy) return plain.forHost(host);
        hostType.set(host.name, 'sts');
        const { policy } = stsPolicy;
        const mode = policy.mode;
        const allowed = mxAllowed(policy, host.name);
        // RFC 8461 4.1/5.1: in enforce mode an MX outside the policy is not used at all.
        if (!allowed && mode === 'enforce') {
          return { ok: false, permanent: false, status: '4.7.5', message: `not an MX host that the MTA-STS policy of ${domain} allows`, result: 'validation-failure', policy: 'mta-sts-enforce' };
        }
        return {
          ok: true,
          tls: {
            // STARTTLS is asked for whenever offered; its absence is the check's failure (below).
            mode: 'opportunistic',
            insecure: false,
            servername: host.name,
            // RFC 8461 5: enforce never falls back to plain text; testing delivers whatever happens.
            plainFallback: mode === 'testing',
            policy: `mta-sts-${mode}`,
            enforce: mode === 'enforce',
            ...(this.o.ca && { ca: this.o.ca }),
            verify: (socket) => (allowed ? webpkiCheck(socket, host.name) : { result: 'validation-failure', message: `${host.name} is not an MX host of the MTA-STS policy` }),
          },
        };
      },
      report,
    };
  }

  // Counts are gathered here and written in batches: a delivery does not wait for the store (a
  // counter is not worth slowing or failing a delivery for), and concurrent deliveries share one
  // write. A crash loses at most the counts of the last moment, as TLS-RPT tolerates.
  readonly #pending = new Map<string, { key: TlsResultKey; count: number }>();
  #writing: Promise<void> | null = null;

  #count(k: Omit<TlsResultKey, 'day'>): Promise<void> {
    if (!this.o.results) return Promise.resolve();
    const key = { ...k, day: utcDay(this.o.now?.() ?? new Date()) };
    const id = JSON.stringify([key.day, key.policyDomain, key.policyType, key.policyString, key.mxHost, key.receivingIp, key.resultType]);
    const p = this.#pending.get(id);
    if (p) p.count++;
    else this.#pending.set(id, { key, count: 1 });
    this.#writing ??= this.#write().finally(() => (this.#writing = null));
    return Promise.resolve();
  }

  async #write(): Promise<void> {
    // One turn of the event loop first, so that what other deliveries count now joins the batch.
    await new Promise((r) => setImmediate(r));
    while (this.#pending.size > 0) {
      const batch = [...this.#pending.values()];
      this.#pending.clear();
      try {
        await this.o.results!.addTlsResults(batch);
      } catch (err) {
        this.o.log.error('tls results not recorded', { domains: [...new Set(batch.map((b) => b.key.policyDomain))].join(' '), err });
      }
    }
  }

  /** Resolves when every count so far is in the store (before a report is made, at stop). */
  async flush(): Promise<void> {
    while (this.#writing) await this.#writing;
  }
}
