// Concurrent connections per client address and per subnet around it (spec 3.4), one limiter per
// listener. Counted from TCP accept (TLS handshakes in progress hold sockets too) until the socket
// closes. An IPv6 /64 counts as one address (one host's allocation); the subnet is IPv4 /26 or
// IPv6 /48, as in the failed-auth limiter. Loopback clients (webmail, fetchmail, scripts on the
// host itself) share 127.0.0.0/8, so only the per-address limit applies to them.

import { isIPv4 } from 'node:net';
import { subnetKeys } from '../auth/rate-limit.js';

export interface ConnectionLimits {
  perIp: number;
  perSubnet: number;
}

export type Admission = { ok: true; release: () => void } | { ok: false; over: 'address' | 'subnet' };

export class ConnectionLimiter {
  private readonly counts = new Map<string, number>();

  constructor(private readonly limits: ConnectionLimits) {}

  /** Counts a connection from `ip` unless that would pass a limit; release() uncounts it (once). */
  admit(ip: string): Admission {
    const addr = ip.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
    const [one, subnet] = subnetKeys(addr);
    if ((this.counts.get(one) ?? 0) >= this.limits.perIp) return { ok: false, over: 'address' };
    const keys = isLoopback(addr) ? [one] : [one, subnet];
    if (keys.length > 1 && (this.counts.get(subnet) ?? 0) >= this.limits.perSubnet) return { ok: false, over: 'subnet' };
    for (const k of keys) this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        for (const k of keys) {
          const left = (this.counts.get(k) ?? 1) - 1;
          if (left > 0) this.counts.set(k, left);
          else this.counts.delete(k);
        }
      },
    };
  }

  /** Keys counted now (for tests: everything released leaves nothing behind). */
  get size(): number {
    return this.counts.size;
  }
}

function isLoopback(addr: string): boolean {
  return isIPv4(addr) ? addr.startsWith('127.') : addr === '::1';
}
