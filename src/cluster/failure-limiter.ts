// The failed-password budgets (auth/rate-limit.ts) across workers. Every process keeps a copy of
// the failures, so checking a budget stays a synchronous look-up on each login; each failure is
// recorded where it happened and published to the others. The coordinator keeps a copy too and
// hands it to a worker that starts (or restarts) later. A failure reaches the other workers within
// one IPC hop (well under a millisecond), so a guesser spreading connections over workers gains at
// most the attempts in flight at that moment.

import { FailureLimiter } from '../auth/rate-limit.js';
import type { FailureWindow } from '../auth/limits.js';
import type { ClusterBus } from './bus.js';
import { TOPIC } from './topics.js';

/** Keys handed to a new worker: the newest this many (well under the message cap). */
const SNAPSHOT_KEYS = 5_000;

function applyFailure(limiter: FailureLimiter, p: unknown): void {
  const f = p as { ip?: unknown; at?: unknown } | null;
  if (typeof f?.ip === 'string' && typeof f.at === 'number') limiter.record(f.ip, f.at);
}

function isSnapshot(v: unknown): v is [string, number[]][] {
  return Array.isArray(v) && v.every((e) => Array.isArray(e) && typeof e[0] === 'string' && Array.isArray(e[1]));
}

/** A worker's limiter: its own failures are published, the others' applied. */
export class SharedFailureLimiter extends FailureLimiter {
  private readonly unsubscribe: () => void;

  constructor(
    private readonly bus: ClusterBus,
    windows?: FailureWindow[],
  ) {
    super(windows);
    this.unsubscribe = bus.subscribe(TOPIC.authFailure, (p) => applyFailure(this, p));
  }

  override fail(ip: string): void {
    const at = this.now();
    this.record(ip, at);
    this.bus.publish(TOPIC.authFailure, { ip, at });
  }

  /** Starts from the coordinator's copy (what other workers counted before this one started). */
  async catchUp(): Promise<void> {
    const v = await this.bus.request(TOPIC.authFailures, {});
    if (isSnapshot(v)) this.restore(v);
  }

  close(): void {
    this.unsubscribe();
  }
}

/** The coordinator's copy, fed by every worker's publishes. */
export function serveFailureCopy(bus: ClusterBus, windows?: FailureWindow[]): () => void {
  const copy = new FailureLimiter(windows);
  const unsubscribe = bus.subscribe(TOPIC.authFailure, (p) => applyFailure(copy, p));
  const unhandle = bus.handle(TOPIC.authFailures, () => copy.snapshot(SNAPSHOT_KEYS));
  return () => {
    unsubscribe();
    unhandle();
  };
}
