// Connection limits across workers (spec 3.4): the coordinator holds the counts of every listener
// and answers each accept; a worker's connection holds a lease until its socket closes. A worker
// that dies gives back all its leases at once, so a crash leaves no phantom connections behind.

import type { Logger } from '../log/logger.js';
import { ConnectionLimiter, type Admission, type ConnectionAdmitter, type ConnectionLimits } from '../server/connection-limiter.js';
import type { ClusterBus } from './bus.js';
import { TOPIC } from './topics.js';

interface AdmitRequest {
  l: string;
  ip: string;
  perIp: number;
  perSubnet: number;
}

type AdmitAnswer = { ok: true; lease: number } | { ok: false; over: 'address' | 'subnet' };

function isAdmitRequest(p: unknown): p is AdmitRequest {
  const r = p as AdmitRequest;
  return typeof r === 'object' && r !== null && typeof r.l === 'string' && typeof r.ip === 'string' && Number.isInteger(r.perIp) && Number.isInteger(r.perSubnet);
}

/** The coordinator's side. */
export class ConnectionCounts {
  private readonly limiters = new Map<string, ConnectionLimiter>();
  /** worker -> lease -> release. */
  private readonly leases = new Map<number, Map<number, () => void>>();
  private nextLease = 1;
  private readonly unhandle: (() => void)[];

  constructor(bus: ClusterBus) {
    this.unhandle = [
      bus.handle(TOPIC.connAdmit, (p, from) => this.admit(from, p)),
      bus.handle(TOPIC.connRelease, (p, from) => this.release(from, (p as { lease?: unknown }).lease)),
    ];
  }

  private admit(from: number, p: unknown): AdmitAnswer {
    if (!isAdmitRequest(p)) throw new Error('malformed conn.admit');
    let limiter = this.limiters.get(p.l);
    if (!limiter) this.limiters.set(p.l, (limiter = new ConnectionLimiter({ perIp: p.perIp, perSubnet: p.perSubnet })));
    // The limits come with each request: after a reload the new workers' figures apply.
    const a = limiter.admit(p.ip, { perIp: p.perIp, perSubnet: p.perSubnet });
    if (!a.ok) return a;
    const lease = this.nextLease++;
    let mine = this.leases.get(from);
    if (!mine) this.leases.set(from, (mine = new Map()));
    mine.set(lease, a.release);
    return { ok: true, lease };
  }

  private release(from: number, lease: unknown): void {
    const mine = this.leases.get(from);
    if (typeof lease !== 'number' || !mine) return;
    mine.get(lease)?.();
    mine.delete(lease);
  }

  /** A worker exited: its connections are gone with it. */
  workerGone(worker: number): void {
    const mine = this.leases.get(worker);
    if (!mine) return;
    for (const release of mine.values()) release();
    this.leases.delete(worker);
  }

  /** Connections counted now, over all workers (tests, the status line). */
  get size(): number {
    let n = 0;
    for (const m of this.leases.values()) n += m.size;
    return n;
  }

  close(): void {
    for (const u of this.unhandle) u();
  }
}

/** A worker's side: each accept is a request to the coordinator. */
export class RemoteAdmitter implements ConnectionAdmitter {
  /** Used only while the coordinator cannot be reached: limits then hold per worker. */
  private readonly fallback: ConnectionLimiter;

  constructor(
    private readonly bus: ClusterBus,
    private readonly listener: string,
    private readonly limits: ConnectionLimits,
    private readonly log: Logger,
  ) {
    this.fallback = new ConnectionLimiter(limits);
  }

  async admit(ip: string): Promise<Admission> {
    let answer: AdmitAnswer;
    try {
      answer = (await this.bus.request(TOPIC.connAdmit, { l: this.listener, ip, perIp: this.limits.perIp, perSubnet: this.limits.perSubnet })) as AdmitAnswer;
    } catch (err) {
      this.log.warn('connection count: coordinator not reachable, counting in this process', { err });
      return this.fallback.admit(ip);
    }
    if (!answer.ok) return { ok: false, over: answer.over };
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.bus.notify(TOPIC.connRelease, { lease: answer.lease });
      },
    };
  }
}
