// MTA-STS (RFC 8461) for outbound delivery: find a domain's policy (TXT record, then the policy
// file over HTTPS with a verified certificate), cache it in the store for max_age so it survives
// restarts and DNS or HTTPS outages (5.1), and refresh cached policies before they expire (10.2).

import { request, type RequestOptions } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { Logger } from '../log/logger.js';
import type { MtaStsCacheEntry, Store } from '../store/types.js';
import { MTA_STS_FETCH_TIMEOUT_MS, MTA_STS_MAX_POLICY_BYTES, MTA_STS_NEGATIVE_MAX, MTA_STS_NEGATIVE_TTL_MS, MTA_STS_REFRESH_AHEAD_MS, MTA_STS_REFRESH_INTERVAL_MS } from './limits.js';
import { MtaStsParseError, mtaStsIdFromTxt, parseMtaStsPolicy, type MtaStsPolicy } from './mta-sts-policy.js';

/** RFC 8460 4.3.1 policy failure types of a fetch. */
export type MtaStsFetchFailure = 'sts-policy-fetch-error' | 'sts-policy-invalid' | 'sts-webpki-invalid';

export class MtaStsFetchError extends Error {
  override name = 'MtaStsFetchError';
  constructor(readonly failure: MtaStsFetchFailure, message: string) {
    super(message);
  }
}

export interface MtaStsFetchOptions {
  /** Trusted CAs for the policy host (tests); default the system's. */
  ca?: string | string[];
  /** HTTPS port; 443 except in tests. */
  port?: number;
  /** Address lookup for the policy host (tests point mta-sts.<domain> at loopback). */
  lookup?: LookupFunction;
  timeoutMs?: number;
}

const TLS_CERT_ERRORS = new Set([
  'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_NOT_YET_VALID', 'CERT_UNTRUSTED',
]);

/** Fetches and parses https://mta-sts.<domain>/.well-known/mta-sts.txt (RFC 8461 3.3). */
export function fetchMtaStsPolicy(domain: string, o: MtaStsFetchOptions = {}): Promise<{ text: string; policy: MtaStsPolicy }> {
  const host = `mta-sts.${domain}`;
  const opts: RequestOptions = {
    host, servername: host, port: o.port ?? 443, path: '/.well-known/mta-sts.txt', method: 'GET',
    // RFC 8461 3.3: the certificate must verify for the policy host (Node checks chain and name).
    rejectUnauthorized: true, minVersion: 'TLSv1.2', ...(o.ca !== undefined && { ca: o.ca }), ...(o.lookup && { lookup: o.lookup }),
    headers: { accept: 'text/plain' }, agent: false,
  };
  return new Promise((resolve, reject) => {
    const fail = (e: MtaStsFetchError) => {
      clearTimeout(timer);
      req.destroy();
      reject(e);
    };
    const timer = setTimeout(() => fail(new MtaStsFetchError('sts-policy-fetch-error', `policy fetch from ${host} timed out`)), o.timeoutMs ?? MTA_STS_FETCH_TIMEOUT_MS);
    const req = request(opts, (res) => {
      // RFC 8461 3.3: no redirects; only a 200 with text/plain is a policy.
      if (res.statusCode !== 200) return fail(new MtaStsFetchError('sts-policy-fetch-error', `policy host ${host} answered HTTP ${res.statusCode}`));
      const type = (res.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'text/plain') return fail(new MtaStsFetchError('sts-policy-invalid', `policy from ${host} has media type ${JSON.stringify(type)}, not text/plain`));
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MTA_STS_MAX_POLICY_BYTES) return fail(new MtaStsFetchError('sts-policy-invalid', `policy from ${host} is larger than ${MTA_STS_MAX_POLICY_BYTES} bytes`));
        chunks.push(c);
      });
      res.on('end', () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve({ text, policy: parseMtaStsPolicy(text) });
        } catch (err) {
          if (!(err instanceof MtaStsParseError)) throw err;
          reject(new MtaStsFetchError('sts-policy-invalid', `policy from ${host}: ${err.message}`));
        }
      });
      res.on('error', (err) => fail(new MtaStsFetchError('sts-policy-fetch-error', `policy fetch from ${host}: ${err.message}`)));
    });
    req.on('error', (err: Error & { code?: string }) => {
      clearTimeout(timer);
      const webpki = err.code !== undefined && TLS_CERT_ERRORS.has(err.code);
      reject(new MtaStsFetchError(webpki ? 'sts-webpki-invalid' : 'sts-policy-fetch-error', `policy fetch from ${host}: ${err.message}`));
    });
    req.end();
  });
}

/** A policy in force for a domain. */
export interface ActiveMtaSts {
  policy: MtaStsPolicy;
  /** The policy file's lines, for TLS-RPT policy-string (RFC 8460 4.4). */
  lines: string[];
}

/** A domain's MTA-STS state: a policy, none published, or one that should exist but could not be had. */
export type MtaStsLookup = { kind: 'policy'; active: ActiveMtaSts } | { kind: 'none' } | { kind: 'failed'; failure: MtaStsFetchFailure; message: string };

export interface MtaStsOptions {
  store: Pick<Store, 'getMtaStsPolicy' | 'putMtaStsPolicy' | 'listMtaStsPolicies' | 'deleteMtaStsPolicy'>;
  /** TXT lookup (node:dns resolveTxt shape). */
  resolveTxt: (name: string) => Promise<string[][]>;
  fetch?: MtaStsFetchOptions;
  now?: () => Date;
  log: Logger;
}

function active(e: MtaStsCacheEntry): ActiveMtaSts {
  return { policy: parseMtaStsPolicy(e.policyText), lines: e.policyText.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.trim() !== '') };
}

export class MtaSts {
  #timer: NodeJS.Timeout | undefined;
  #refreshing: Promise<void> | undefined;
  /** Domains being fetched: concurrent deliveries share one fetch. */
  readonly #inflight = new Map<string, Promise<MtaStsLookup>>();
  /** Domains without a record (and no cached policy), until when that holds; oldest first. */
  readonly #absent = new Map<string, number>();

  constructor(private readonly o: MtaStsOptions) {}

  #now(): Date {
    return this.o.now?.() ?? new Date();
  }

  /** The TXT record's id, null when there is none (or DNS fails: then the cache decides);
   * `definite`: DNS said there is none (not a failure to ask). */
  async #record(domain: string): Promise<{ id: string | null; definite: boolean }> {
    try {
      return { id: mtaStsIdFromTxt(await this.o.resolveTxt(`_mta-sts.${domain}`)), definite: true };
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      return { id: null, definite: code === 'ENOTFOUND' || code === 'ENODATA' };
    }
  }

  async #recordId(domain: string): Promise<string | null> {
    return (await this.#record(domain)).id;
  }

  /** True while `domain` is remembered as without a record (MTA_STS_NEGATIVE_TTL_MS). */
  #knownAbsent(domain: string, now: Date): boolean {
    const until = this.#absent.get(domain);
    if (until === undefined) return false;
    if (until > now.getTime()) return true;
    this.#absent.delete(domain);
    return false;
  }

  #rememberAbsent(domain: string, now: Date): void {
    this.#absent.delete(domain);
    if (this.#absent.size >= MTA_STS_NEGATIVE_MAX) this.#absent.delete(this.#absent.keys().next().value!);
    this.#absent.set(domain, now.getTime() + MTA_STS_NEGATIVE_TTL_MS);
  }

  /** What applies to mail for `domain` now (RFC 8461 5.1). */
  lookup(domainIn: string): Promise<MtaStsLookup> {
    const domain = domainIn.toLowerCase();
    let p = this.#inflight.get(domain);
    if (!p) {
      p = this.#lookup(domain).finally(() => this.#inflight.delete(domain));
      this.#inflight.set(domain, p);
    }
    return p;
  }

  async #lookup(domain: string): Promise<MtaStsLookup> {
    const now = this.#now();
    // Only a domain without a cached policy is remembered as absent (below): nothing to check.
    if (this.#knownAbsent(domain, now)) return { kind: 'none' };
    const cached = await this.o.store.getMtaStsPolicy(domain);
    const valid = cached && cached.expires > now ? cached : null;
    const { id, definite } = await this.#record(domain);
    // No record: a cached policy still holds until it expires (an attacker can hide the record).
    if (id === null) {
      if (valid) return this.#use(valid);
      // A DNS failure is not remembered: the next delivery asks again.
      if (definite) this.#rememberAbsent(domain, now);
      return { kind: 'none' };
    }
    if (valid && valid.policyId === id) return this.#use(valid);
    try {
      return this.#use(await this.#fetch(domain, id, now));
    } catch (err) {
      if (!(err instanceof MtaStsFetchError)) throw err;
      this.o.log.warn('mta-sts policy fetch failed', { domain, failure: err.failure, err: err.message });
      // RFC 8461 5.1: a failed refresh keeps the cached policy in force.
      return valid ? this.#use(valid) : { kind: 'failed', failure: err.failure, message: err.message };
    }
  }

  #use(e: MtaStsCacheEntry): MtaStsLookup {
    const a = active(e);
    return a.policy.mode === 'none' ? { kind: 'none' } : { kind: 'policy', active: a };
  }

  async #fetch(domain: string, id: string, now: Date): Promise<MtaStsCacheEntry> {
    const { text, policy } = await fetchMtaStsPolicy(domain, this.o.fetch);
    const entry = { domain, policyId: id, policyText: text, fetched: now, expires: new Date(now.getTime() + policy.maxAge * 1000) };
    await this.o.store.putMtaStsPolicy(entry);
    this.o.log.info('mta-sts policy fetched', { domain, id, mode: policy.mode, maxAge: policy.maxAge });
    return entry;
  }

  /** Fetches again every cached policy that expires soon (RFC 8461 10.2); drops expired ones
   * whose domain no longer publishes a record. */
  async refreshDue(): Promise<void> {
    const now = this.#now();
    for (const e of await this.o.store.listMtaStsPolicies()) {
      if (e.expires.getTime() - now.getTime() > MTA_STS_REFRESH_AHEAD_MS) continue;
      const id = await this.#recordId(e.domain);
      if (id === null) {
        if (e.expires <= now) await this.o.store.deleteMtaStsPolicy(e.domain);
        continue;
      }
      try {
        await this.#fetch(e.domain, id, now);
      } catch (err) {
        if (!(err instanceof MtaStsFetchError)) throw err;
        this.o.log.warn('mta-sts policy refresh failed', { domain: e.domain, failure: err.failure, err: err.message });
      }
    }
  }

  /** Runs refreshDue now and then until stop(). */
  start(intervalMs = MTA_STS_REFRESH_INTERVAL_MS): void {
    const run = () => {
      this.#refreshing ??= this.refreshDue()
        .catch((err) => this.o.log.error('mta-sts refresh failed', { err }))
        .finally(() => (this.#refreshing = undefined));
    };
    this.#timer = setInterval(run, intervalMs);
    this.#timer.unref();
    run();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#refreshing;
  }
}
