// The outbound queue runner. A loop picks the recipients whose next attempt is due, groups
// them by message and destination domain (one SMTP transaction per group), and delivers the
// groups concurrently within an overall and a per-domain limit. Results go back to the store
// per recipient: delivered, failed (permanent, or expired) with a DSN to the sender, or
// pending with a later next attempt. A message whose recipients are all done is dropped.
//
// Invariants:
// - A recipient is in at most one delivery at a time, across every runner sharing the store:
//   a runner delivers only the recipients it leased (one store transaction decides), renews the
//   leases while the attempt runs, and records a result only while it still holds the lease.
//   A runner that dies leaves leases that expire (QUEUE_LEASE_MS); another runner then takes the
//   recipients, at once when it sees that the holder was a process of its host that is gone
//   (lease-owner.ts). Within a runner the in-flight set also keeps a kick() from starting one twice.
// - State is written only after the attempt ended; a crash mid-delivery leaves the recipient
//   pending, so delivery is at-least-once (as in every MTA: the remote may have taken it).
// - A DSN is stored before the failure it reports is recorded: a crash in between repeats the
//   attempt and the DSN (at-least-once), never loses the DSN.
// - A message whose recipients are all done is dropped; one left behind by a crash between the
//   last recipient's update and the drop is dropped when the queue starts.
// - DSNs are never sent for DSNs or to the null sender (send-dsn.ts).
// - Every delivery goes through the outbound door (outbound/deliver.ts), which re-checks the
//   content it sends (line ends, dot-stuffing) and where it connects.
// - The clock is injectable: tests drive retries and expiry without sleeping.

import type { ServerContext } from '../server/context.js';
import type { SmtpTimeouts } from '../smtp/client/index.js';
import type { QueueMessage, QueueRecipient } from '../store/types.js';
import { nextAttempt, type RetryPolicy } from './backoff.js';
import { deliverToDomain, systemResolver, type DnsResolver, type RecipientOutcome, type TlsPolicy } from '../outbound/index.js';
import type { DsnRecipient } from './dsn.js';
import {
  FIRST_RETRY_DELAY_MS,
  MAX_CONCURRENT_DELIVERIES,
  MAX_CONCURRENT_PER_DOMAIN,
  MAX_RETRY_DELAY_MS,
  POLL_INTERVAL_MS,
  QUEUE_EXPIRY_MS,
  QUEUE_LEASE_MS,
  STOP_GRACE_MS,
} from './limits.js';
import { isNullSender, sendDsn } from './send-dsn.js';
import { StoreError } from '../store/errors.js';
import { leaseOwnerIsDead, newLeaseOwner } from './lease-owner.js';

export interface QueueOptions {
  /** Clock; default the real one. */
  now?: () => Date;
  /** DNS for MX delivery; default node:dns. */
  resolver?: DnsResolver;
  /** Port for MX delivery (25); tests point it at a fake server. */
  mxPort?: number;
  maxConcurrent?: number;
  maxPerDomain?: number;
  pollIntervalMs?: number;
  firstRetryDelayMs?: number;
  maxRetryDelayMs?: number;
  expiryMs?: number;
  /** SMTP client timeouts for deliveries. */
  timeouts?: SmtpTimeouts;
  stopGraceMs?: number;
  /** How long a lease on recipients being delivered lasts (renewed meanwhile); QUEUE_LEASE_MS. */
  leaseMs?: number;
  /** Tie-break for MX hosts of equal preference. */
  random?: () => number;
  /** TLS policy for deliveries (serve: DANE and MTA-STS); default transport settings or opportunistic. */
  tlsPolicy?: TlsPolicy;
}

/** What `postern serve` holds. */
export interface QueueHandle {
  /** Look at the queue now (after an enqueue, or `queue retry`). */
  kick(): void;
  /** Stops looking; waits for deliveries in flight (closing them after a grace period). */
  stop(): Promise<void>;
}

interface Decision {
  recipient: QueueRecipient;
  update: Parameters<ServerContext['store']['updateQueueRecipient']>[1];
  event: string;
  fields: Record<string, unknown>;
  dsn: DsnRecipient | null;
}

interface Group {
  messageId: number;
  domain: string;
  recipientIds: number[];
}

export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : address.slice(at + 1).toLowerCase();
}

export class Queue implements QueueHandle {
  readonly #ctx: ServerContext;
  readonly #now: () => Date;
  readonly #resolver: DnsResolver;
  readonly #policy: RetryPolicy;
  readonly #o: QueueOptions;
  readonly #inFlight = new Set<number>();
  /** Names this runner's leases in the store: unique per runner, readable in `queue list` dumps. */
  readonly #owner = newLeaseOwner();
  readonly #perDomain = new Map<string, number>();
  readonly #jobs = new Set<Promise<void>>();
  readonly #abort = new AbortController();
  #stopped = false;
  #kicked = false;
  #wake: (() => void) | null = null;
  #loop: Promise<void> | null = null;
  #stopping: Promise<void> | null = null;

  constructor(ctx: ServerContext, opts: QueueOptions = {}) {
    this.#ctx = ctx;
    this.#o = opts;
    this.#now = opts.now ?? (() => new Date());
    this.#resolver = opts.resolver ?? systemResolver;
    this.#policy = {
      firstDelayMs: opts.firstRetryDelayMs ?? FIRST_RETRY_DELAY_MS,
      maxDelayMs: opts.maxRetryDelayMs ?? MAX_RETRY_DELAY_MS,
      expiryMs: opts.expiryMs ?? QUEUE_EXPIRY_MS,
    };
  }

  /** Starts the loop; it also stops when the server shuts down. */
  start(): void {
    if (this.#loop) return;
    this.#ctx.shutdown.addEventListener('abort', () => void this.stop(), { once: true });
    this.#loop = this.#run();
  }

  kick(): void {
    this.#kicked = true;
    this.#wake?.();
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#stopped = true;
      this.#wake?.();
      await this.#loop;
      const grace = setTimeout(() => this.#abort.abort(), this.#o.stopGraceMs ?? STOP_GRACE_MS);
      await Promise.allSettled([...this.#jobs]);
      clearTimeout(grace);
    })();
    return this.#stopping;
  }

  /**
   * Delivers everything due now and waits until nothing due is left (new DSNs included).
   * For tests and tools; the loop does the same over time.
   */
  async runOnce(): Promise<void> {
    for (;;) {
      const started = await this.#scan();
      if (started === 0 && this.#jobs.size === 0) return;
      await Promise.allSettled([...this.#jobs]);
    }
  }

  async #run(): Promise<void> {
    try {
      await this.#dropFinished();
    } catch (err) {
      this.#ctx.log.error('queue cleanup failed', { err });
    }
    while (!this.#stopped) {
      this.#kicked = false;
      try {
        await this.#scan();
      } catch (err) {
        this.#ctx.log.error('queue scan failed', { err });
      }
      if (this.#stopped) break;
      if (this.#kicked) continue;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.#wake = null;
          resolve();
        };
        const timer = setTimeout(done, this.#o.pollIntervalMs ?? POLL_INTERVAL_MS);
        this.#wake = done;
      });
    }
  }

  /** Starts deliveries for due groups within the limits; returns how many it started. */
  async #scan(): Promise<number> {
    if (this.#stopped) return 0;
    await this.#releaseDeadLeases();
    const due = await this.#ctx.store.dueQueueRecipients(this.#now());
    const groups = new Map<string, Group>();
    for (const r of due) {
      if (this.#inFlight.has(r.id)) continue;
      const domain = domainOf(r.address);
      const key = `${r.messageId}\0${domain}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { messageId: r.messageId, domain, recipientIds: [] }));
      g.recipientIds.push(r.id);
    }
    let started = 0;
    const max = this.#o.maxConcurrent ?? MAX_CONCURRENT_DELIVERIES;
    const maxDomain = this.#o.maxPerDomain ?? MAX_CONCURRENT_PER_DOMAIN;
    for (const g of groups.values()) {
      if (this.#stopped || this.#jobs.size >= max) break;
      if ((this.#perDomain.get(g.domain) ?? 0) >= maxDomain) continue;
      // Another runner may have taken some (or all) since they were listed.
      const now = this.#now();
      g.recipientIds = await this.#ctx.store.leaseQueueRecipients(g.recipientIds, this.#owner, now, new Date(now.getTime() + this.#leaseMs));
      if (g.recipientIds.length === 0) continue;
      this.#start(g);
      started++;
    }
    return started;
  }

  /** Leases of runners of this host that died (killed worker, crashed server): free at once. */
  async #releaseDeadLeases(): Promise<void> {
    for (const owner of await this.#ctx.store.queueLeaseOwners(this.#now())) {
      if (!leaseOwnerIsDead(owner)) continue;
      const n = await this.#ctx.store.releaseAllQueueLeases(owner);
      if (n) this.#ctx.log.info('queue leases of a dead runner released', { owner, recipients: n });
    }
  }

  get #leaseMs(): number {
    return this.#o.leaseMs ?? QUEUE_LEASE_MS;
  }

  #start(g: Group): void {
    for (const id of g.recipientIds) this.#inFlight.add(id);
    this.#perDomain.set(g.domain, (this.#perDomain.get(g.domain) ?? 0) + 1);
    const renew = setInterval(() => void this.#renew(g), Math.max(1, Math.floor(this.#leaseMs / 3)));
    renew.unref();
    const job: Promise<void> = this.#deliver(g)
      .catch((err) => {
        if (!this.#abort.signal.aborted) this.#ctx.log.error('queue delivery failed', { msgid: g.messageId, domain: g.domain, err });
      })
      .finally(async () => {
        clearInterval(renew);
        // Leases the attempt did not end with a result (stopped, failed): free for any runner now
        // rather than when they expire.
        await this.#ctx.store.releaseQueueLeases(g.recipientIds, this.#owner).catch((err) => this.#ctx.log.error('queue lease release failed', { msgid: g.messageId, err }));
        for (const id of g.recipientIds) this.#inFlight.delete(id);
        const n = (this.#perDomain.get(g.domain) ?? 1) - 1;
        if (n > 0) this.#perDomain.set(g.domain, n);
        else this.#perDomain.delete(g.domain);
        this.#jobs.delete(job);
        // A slot is free: others may be waiting for it.
        if (!this.#stopped) this.kick();
      });
    this.#jobs.add(job);
  }

  async #renew(g: Group): Promise<void> {
    try {
      const held = await this.#ctx.store.renewQueueLeases(g.recipientIds, this.#owner, new Date(this.#now().getTime() + this.#leaseMs));
      // Lost only when this process was stalled past the lease and another runner took over: its
      // result then counts, this one's is not recorded (see #deliver).
      if (held.length < g.recipientIds.length) this.#ctx.log.warn('queue lease lost', { msgid: g.messageId, domain: g.domain, lost: g.recipientIds.length - held.length });
    } catch (err) {
      this.#ctx.log.error('queue lease renewal failed', { msgid: g.messageId, err });
    }
  }

  async #deliver(g: Group): Promise<void> {
    const { store, config, log } = this.#ctx;
    const msg = await store.getQueueMessage(g.messageId);
    if (!msg) return; // dropped meanwhile (`postern queue drop`)
    const rcpts = msg.recipients.filter((r) => r.state === 'pending' && g.recipientIds.includes(r.id));
    if (rcpts.length === 0) return;
    const content = await store.readBlob(msg.fileId);
    const outcomes = await deliverToDomain(
      { id: String(msg.id), domain: g.domain, sender: isNullSender(msg.sender) ? '' : msg.sender, recipients: rcpts.map((r) => r.address), content, requireTls: msg.requireTls, report: msg.isReport },
      {
        resolve: { transports: config.transports, resolver: this.#resolver, hostname: config.hostname, mxPort: this.#o.mxPort, random: this.#o.random },
        allowPrivateAddresses: config.outbound.allowPrivateAddresses,
        ...(this.#o.tlsPolicy && { tlsPolicy: this.#o.tlsPolicy }),
        clientName: config.hostname,
        timeouts: this.#o.timeouts,
        signal: this.#abort.signal,
        log: log.child({ msgid: msg.id }),
      },
    );
    const now = this.#now();
    const results = rcpts.map((r, i) => this.#decide(msg, r, outcomes[i]!, now));
    const dsn = results.flatMap((x) => (x.dsn ? [x.dsn] : []));
    if (dsn.length) {
      // Before the failures are recorded: see the invariants.
      const sent = await sendDsn(store, msg, dsn, { hostname: config.hostname, now, log });
      if (sent === 'queued') this.kick();
    }
    for (const x of results) {
      if (await store.updateQueueRecipient(x.recipient.id, x.update, this.#owner)) log.info(x.event, x.fields);
      else log.warn('queue result not recorded: lease taken over', x.fields);
    }
    await this.#dropIfDone(msg.id);
  }

  /** One recipient's new state after an attempt, and the DSN entry when it failed for good. */
  #decide(msg: QueueMessage, r: QueueRecipient, o: RecipientOutcome, now: Date): Decision {
    const attempts = r.attempts + 1;
    const fields: Record<string, unknown> = { msgid: msg.id, rcpt: r.address, attempts };
    if (o.kind === 'delivered') {
      return { recipient: r, update: { state: 'delivered', attempts, lastError: null }, event: 'queue delivered', fields: { ...fields, mta: o.remoteMta, tls: o.tls }, dsn: null };
    }
    const base = { address: r.address, action: 'failed' as const, message: o.message, reply: o.reply, remoteMta: o.remoteMta, lastAttempt: now };
    if (o.permanent) {
      return {
        recipient: r, update: { state: 'failed', attempts, lastError: o.message },
        event: 'queue bounced', fields: { ...fields, status: o.status, err: o.message }, dsn: { ...base, status: o.status },
      };
    }
    const next = nextAttempt(msg.created, now, attempts, this.#policy);
    if (next === null) {
      const days = Math.round((this.#policy.expiryMs / 86400_000) * 10) / 10;
      const message = `${o.message} (gave up after ${days} days)`;
      return {
        recipient: r, update: { state: 'failed', attempts, lastError: message },
        event: 'queue expired', fields: { ...fields, status: o.status, err: o.message },
        // RFC 3463 4.4.7: delivery time expired, unless the last error says more.
        dsn: { ...base, message, status: o.status === '4.4.1' || o.status === '4.0.0' ? '4.4.7' : o.status },
      };
    }
    return { recipient: r, update: { attempts, nextAttempt: next, lastError: o.message }, event: 'queue deferred', fields: { ...fields, next, err: o.message }, dsn: null };
  }

  /** Drops messages with no pending recipient: left by a crash between the last update and the drop. */
  async #dropFinished(): Promise<void> {
    for (const m of await this.#ctx.store.listQueue()) {
      if (m.recipients.some((r) => r.state === 'pending')) continue;
      try {
        await this.#ctx.store.dropQueueMessage(m.id);
        this.#ctx.log.info('queue message done (after restart)', { msgid: m.id });
      } catch (err) {
        // Another runner sharing the store dropped it first.
        if (!(err instanceof StoreError && err.code === 'notfound')) throw err;
      }
    }
  }

  async #dropIfDone(id: number): Promise<void> {
    const { store } = this.#ctx;
    const m = await store.getQueueMessage(id);
    if (!m || m.recipients.some((r) => r.state === 'pending')) return;
    try {
      await store.dropQueueMessage(id);
      this.#ctx.log.info('queue message done', { msgid: id });
    } catch (err) {
      // Another group of the same message finished at the same moment and dropped it.
      if (await store.getQueueMessage(id)) throw err;
    }
  }
}

/** Starts the queue runner for `postern serve`. */
export function startQueue(ctx: ServerContext, opts?: QueueOptions): Queue {
  const q = new Queue(ctx, opts);
  q.start();
  return q;
}
