// The TLS policy `postern serve` delivers with, from the config: MTA-STS (with its background
// refresh) unless outbound.mtaSts is off. Tests inject their own TlsPolicy instead.

import { promises as dns } from 'node:dns';
import type { Config } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import type { Store } from '../store/types.js';
import { MtaSts } from './mta-sts.js';
import { OutboundTlsPolicy } from './policy-tls.js';

export interface RunningTlsPolicy {
  policy: OutboundTlsPolicy;
  stop(): Promise<void>;
}

export function startOutboundTlsPolicy(config: Config, store: Store, log: Logger): RunningTlsPolicy {
  const mtaSts = config.outbound.mtaSts ? new MtaSts({ store, resolveTxt: (n) => dns.resolveTxt(n), log }) : undefined;
  mtaSts?.start();
  return {
    policy: new OutboundTlsPolicy({ ...(mtaSts && { mtaSts }), results: store, log }),
    stop: async () => mtaSts?.stop(),
  };
}
