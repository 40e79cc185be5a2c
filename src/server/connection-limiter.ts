// Concurrent connections per client address and per subnet around it (spec 3.4), one limiter per
// listener. Counted from TCP accept (TLS handshakes in progress hold sockets too) until the socket
// closes. An IPv6 /64 counts as one address (one host's allocation); the subnet is IPv4 /26 or
// IPv6 /48, as in the failed-auth limiter. Loopback clients (webmail, fetchmail, scripts on the
// host itself) share 127.0.0.0/8, so only the per-address limit applies to them.
//
// With several worker processes the counts live in the coordinator (cluster/connection-counts.ts)
// and a worker asks it on accept: listeners take any ConnectionAdmitter, whose answer may come
// now (this process's own limiter) or later (the coordinator's).

import { isIPv4, type Socket } from 'node:net';
import { subnetKeys } from '../auth/rate-limit.js';
import type { Logger } from '../log/logger.js';

export interface ConnectionLimits {
  perIp: number;
  perSubnet: number;
}

export type Admission = { ok: true; release: () => void } | { ok: false; over: 'address' | 'subnet' };

export interface ConnectionAdmitter {
  /** Counts a connection from `ip` unless that would pass a limit; release() uncounts it (once). */
  admit(ip: string): Admission | Promise<Admission>;
}

/** Makes the admitter of one listener (named for the counts it shares with other processes). */
export type AdmitterFactory = (listener: string, limits: ConnectionLimits) => ConnectionAdmitter;

export class ConnectionLimiter implements ConnectionAdmitter {
  private readonly counts = new Map<string, number>();

  constructor(private limits: ConnectionLimits) {}

  /** Counts a connection from `ip` unless that would pass a limit; release() uncounts it (once). */
  admit(ip: string, limits: ConnectionLimits = this.limits): Admission {
    const addr = ip.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
    const [one, subnet] = subnetKeys(addr);
    if ((this.counts.get(one) ?? 0) >= limits.perIp) return { ok: false, over: 'address' };
    const keys = isLoopback(addr) ? [one] : [one, subnet];
    if (keys.length > 1 && (this.counts.get(subnet) ?? 0) >= limits.perSubnet) return { ok: false, over: 'subnet' };
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

/**
 * Admits an accepted socket: `then` runs at once with a limiter of this process, or when the
 * coordinator answers. Meanwhile the socket reads nothing past its stream buffer (no data listener
 * yet, so nothing is lost); if it closes first, its count is given back and `then` never runs.
 */
export function admitSocket(admitter: ConnectionAdmitter, ip: string, sock: Socket, log: Logger, then: (a: Admission) => void): void {
  // Which process took the connection (tests tell workers apart by it).
  log.debug('connection accepted', { ip, remotePort: sock.remotePort, pid: process.pid });
  const a = admitter.admit(ip);
  if (!(a instanceof Promise)) return then(a);
  const ignore = (): void => {};
  sock.on('error', ignore);
  void a.then((r) => {
    sock.off('error', ignore);
    if (sock.destroyed) {
      if (r.ok) r.release();
      return;
    }
    then(r);
  });
}
