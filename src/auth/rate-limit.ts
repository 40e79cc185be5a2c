// Failed-password limiter shared by IMAP, SMTP and the web (spec 3.4). Failures are counted per
// IP and for the subnets around it, in a minute window and a day window; over any budget, password
// attempts from that IP are refused (a client certificate never is: attempt-policy.ts). Budgets
// follow mox: an address, then growing subnets; the figures are in limits.ts.

import { isIPv4 } from 'node:net';
import { DEFAULT_FAILURE_WINDOWS, type FailureWindow } from './limits.js';

type Window = FailureWindow;

/** IPv4: /32, /26, /21; IPv6: /64, /48, /32. */
export function subnetKeys(ip: string): [string, string, string] {
  if (isIPv4(ip)) {
    const n = ip.split('.').reduce((a, o) => (a << 8) + Number(o), 0) >>> 0;
    const mask = (bits: number) => ((n & (bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0)) >>> 0).toString(16) + '/' + bits;
    return [mask(32), mask(26), mask(21)];
  }
  const groups = expandIPv6(ip);
  const prefix = (g: number) => groups.slice(0, g).join(':') + '/' + g * 16;
  return [prefix(4), prefix(3), prefix(2)];
}

function expandIPv6(ip: string): string[] {
  const s = ip.replace(/%.*$/, '');
  const [head, tail] = s.includes('::') ? s.split('::') as [string, string] : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  // An embedded IPv4 tail (::ffff:1.2.3.4) counts as two groups.
  const fix = (parts: string[]) => parts.flatMap((p) => (p.includes('.') ? ipv4Groups(p) : [p]));
  const hh = fix(h);
  const tt = fix(t);
  const fill = tail === undefined ? [] : Array(8 - hh.length - tt.length).fill('0');
  return [...hh, ...fill, ...tt].map((g) => parseInt(g || '0', 16).toString(16));
}

function ipv4Groups(v4: string): string[] {
  const o = v4.split('.').map(Number);
  return [((o[0]! << 8) | o[1]!).toString(16), ((o[2]! << 8) | o[3]!).toString(16)];
}

export class FailureLimiter {
  // key -> timestamps of failures (pruned to the longest window).
  private readonly failures = new Map<string, number[]>();
  private readonly longest: number;
  /** No budget is bigger: older timestamps beyond this many per key never change blocked(). */
  private readonly keep: number;

  constructor(private readonly windows: Window[] = DEFAULT_FAILURE_WINDOWS, protected readonly now: () => number = Date.now) {
    this.longest = Math.max(...windows.map((w) => w.ms));
    this.keep = Math.max(...windows.flatMap((w) => w.limits));
  }

  private keyed(ip: string): string[] {
    return subnetKeys(ip.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1'));
  }

  /** Records one failed authentication from ip. */
  fail(ip: string): void {
    this.record(ip, this.now());
  }

  /** Records a failure from ip at time `t` (another process's, with its time: cluster/failure-limiter.ts). */
  record(ip: string, t: number): void {
    for (const k of this.keyed(ip)) {
      const list = (this.failures.get(k) ?? []).filter((x) => x > t - this.longest);
      list.push(t);
      // Another process's failure may arrive after a newer one of ours: keep time order.
      if (list.length > 1 && list[list.length - 2]! > t) list.sort((a, b) => a - b);
      // The newest `keep` are enough to reach any budget, so one busy key stays bounded too.
      if (list.length > this.keep) list.splice(0, list.length - this.keep);
      this.failures.set(k, list);
    }
    if (this.failures.size > 100_000) this.prune();
  }

  /** Whether ip is over any budget. */
  blocked(ip: string): boolean {
    return this.retryAfterMs(ip) > 0;
  }

  /**
   * How long until ip is under every budget again (0: it is now): for each budget it is over, the
   * time until enough of its failures leave the window; the longest of those.
   */
  retryAfterMs(ip: string): number {
    const t = this.now();
    const keys = this.keyed(ip);
    let wait = 0;
    for (const w of this.windows) {
      keys.forEach((k, i) => {
        const list = this.failures.get(k);
        if (!list) return;
        const inWindow = list.filter((x) => x > t - w.ms);
        const limit = w.limits[i]!;
        if (inWindow.length < limit) return;
        // The list is in time order: once this one leaves the window, the count is under the limit.
        const freeing = inWindow[inWindow.length - limit]!;
        wait = Math.max(wait, freeing + w.ms - t + 1);
      });
    }
    return wait;
  }

  /**
   * The recorded failures, newest keys first, as far as `maxKeys` go (a new worker starts from the
   * coordinator's copy instead of from nothing).
   */
  snapshot(maxKeys: number): [string, number[]][] {
    const t = this.now();
    const live = [...this.failures].map(([k, l]) => [k, l.filter((x) => x > t - this.longest)] as [string, number[]]).filter(([, l]) => l.length > 0);
    live.sort((a, b) => b[1][b[1].length - 1]! - a[1][a[1].length - 1]!);
    return live.slice(0, maxKeys);
  }

  /** Adds a snapshot's failures (keys as snapshot() gives them). */
  restore(entries: [string, number[]][]): void {
    for (const [k, times] of entries) {
      const merged = [...(this.failures.get(k) ?? []), ...times.filter((x) => Number.isFinite(x))].sort((a, b) => a - b);
      this.failures.set(k, merged.slice(-this.keep));
    }
  }

  private prune(): void {
    const t = this.now();
    for (const [k, list] of this.failures) {
      const kept = list.filter((x) => x > t - this.longest);
      if (kept.length === 0) this.failures.delete(k);
      else this.failures.set(k, kept);
    }
  }
}
