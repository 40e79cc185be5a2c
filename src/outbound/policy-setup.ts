// The TLS policy `postern serve` delivers with, from the config: DANE and all outbound DNS through
// outbound.dnssecResolver when set, MTA-STS (with its background refresh) unless outbound.mtaSts
// is off. Tests inject their own TlsPolicy instead.

import { promises as dns } from 'node:dns';
import type { Config } from '../config/types.js';
import { DnssecResolver, dnsResolverOf } from '../dns/dnssec-resolver.js';
import type { Logger } from '../log/logger.js';
import type { Store } from '../store/types.js';
import type { DnsResolver } from './destination.js';
import { MtaSts } from './mta-sts.js';
import { OutboundTlsPolicy } from './policy-tls.js';
import { TLSRPT_RUN_INTERVAL_MS } from './limits.js';
import { sendTlsReports } from './tls-rpt.js';

export interface RunningTlsPolicy {
  policy: OutboundTlsPolicy;
  /** The queue's DNS when a DNSSEC resolver is configured (MX and addresses from the same
   * validating source as the TLSA records). */
  resolver?: DnsResolver;
  stop(): Promise<void>;
}

export function startOutboundTlsPolicy(config: Config, store: Store, log: Logger, kickQueue: () => void): RunningTlsPolicy {
  const r = config.outbound.dnssecResolver;
  const dnssec = r ? new DnssecResolver({ host: r.host, port: r.port }) : undefined;
  const viaDnssec = dnssec ? dnsResolverOf(dnssec) : undefined;
  const resolveTxt = viaDnssec ? viaDnssec.resolveTxt : (n: string) => dns.resolveTxt(n);
  const mtaSts = config.outbound.mtaSts ? new MtaSts({ store, resolveTxt, log }) : undefined;
  mtaSts?.start();
  const policy = new OutboundTlsPolicy({ ...(mtaSts && { mtaSts }), ...(dnssec && { dane: dnssec }), results: store, log });
  // TLS-RPT: the reports of finished days go out at the first run after midnight UTC (and after
  // a restart); sending forgets the day's counts, so a run that finds none does nothing.
  let reporting: Promise<void> | undefined;
  const report = () => {
    reporting ??= policy.flush().then(() => sendTlsReports({ store, resolveTxt, hostname: config.hostname, dkim: config, kick: kickQueue, log }))
      .then(() => undefined, (err) => log.error('tls reports failed', { err }))
      .finally(() => (reporting = undefined));
  };
  const timer = setInterval(report, TLSRPT_RUN_INTERVAL_MS);
  timer.unref();
  report();
  return {
    policy,
    ...(viaDnssec && { resolver: viaDnssec }),
    stop: async () => {
      clearInterval(timer);
      await reporting;
      await mtaSts?.stop();
      // The queue has stopped: the last counts go in before the store closes.
      await policy.flush();
    },
  };
}
