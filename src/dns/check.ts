// `postern dns check`: looks every wanted record up (records.ts) through a resolver and says, per
// record, OK or what is wrong with the exact fix. Lookups go through node:dns (TLSA through
// tlsa-query.ts), to the configured resolver or the system's.

import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { DNS_QUERY_ATTEMPTS, DNS_QUERY_TIMEOUT_MS, MAX_CNAME_HOPS } from './limits.js';
import { zoneLine, type DomainRecords, type WantedRecord } from './records.js';
import { DnsQueryError, resolveTlsa } from './tlsa-query.js';

export interface CheckResult {
  record: WantedRecord;
  ok: boolean;
  /** What is wrong (ok false), or a remark on an acceptable state (ok true). */
  message?: string;
  /** The exact change that makes it right. */
  fix?: string;
}

export interface ResolverAddress {
  host: string;
  port: number;
}

const MISSING = new Set(['ENOTFOUND', 'ENODATA']);

class Lookup {
  readonly resolver: Resolver;
  constructor(private readonly server: ResolverAddress | null) {
    this.resolver = new Resolver({ timeout: DNS_QUERY_TIMEOUT_MS, tries: DNS_QUERY_ATTEMPTS });
    if (server) this.resolver.setServers([server.host.includes(':') ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`]);
  }

  /** The system's first resolver for our own TLSA query. */
  tlsaServer(): ResolverAddress {
    if (this.server) return this.server;
    const first = this.resolver.getServers()[0] ?? '127.0.0.1';
    const m = /^\[(.+)\]:(\d+)$/.exec(first) ?? /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(first);
    if (m) return { host: m[1]!, port: Number(m[2]) };
    return { host: isIP(first) ? first : '127.0.0.1', port: 53 };
  }

  /**
   * A and AAAA of `name`, following CNAMEs ourselves when the resolver answers with the alias
   * alone (a resolver's local zones do not chase them).
   */
  async addresses(name: string): Promise<{ v4: string[]; v6: string[] }> {
    let n = name;
    for (let hop = 0; hop <= MAX_CNAME_HOPS; hop++) {
      const v4 = (await orMissing(() => this.resolver.resolve4(n))) ?? [];
      const v6 = (await orMissing(() => this.resolver.resolve6(n))) ?? [];
      if (v4.length + v6.length > 0) return { v4, v6 };
      const alias = await orMissing(() => this.resolver.resolveCname(n));
      if (!alias || alias.length === 0) break;
      n = alias[0]!;
    }
    return { v4: [], v6: [] };
  }

  /** TXT strings of each record joined (RFC 7208 3.3), or null when there is none. */
  async txt(name: string): Promise<string[] | null> {
    return orMissing(async () => (await this.resolver.resolveTxt(name)).map((parts) => parts.join('')));
  }
}

/** null when the name or the type is absent; other failures (SERVFAIL, timeout) are thrown. */
async function orMissing<T>(fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn();
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (MISSING.has(code)) return null;
    throw err;
  }
}

/** key=value tags of a DKIM, DMARC, MTA-STS or TLSRPT record (RFC 6376 3.2), keys lower-case. */
export function parseTags(record: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const part of record.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    tags.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).replace(/\s+/g, ''));
  }
  return tags;
}

function startsWithVersion(record: string, version: string): boolean {
  return new RegExp(`^\\s*v\\s*=\\s*${version}\\s*(;|$)`, 'i').test(record);
}

const add = (r: WantedRecord) => `add: ${zoneLine(r)}`;
const replace = (r: WantedRecord) => `replace it with: ${zoneLine(r)}`;

async function checkOne(r: WantedRecord, q: Lookup, hostAddresses: string[]): Promise<CheckResult> {
  const c = r.check;
  const fail = (message: string, fix: string): CheckResult => ({ record: r, ok: false, message, fix });
  const ok = (message?: string): CheckResult => ({ record: r, ok: true, ...(message ? { message } : {}) });
  switch (c.kind) {
    case 'mx': {
      const mx = await orMissing(() => q.resolver.resolveMx(r.name));
      if (!mx || mx.length === 0) return fail('no MX record: other servers cannot deliver to the domain', add(r));
      if (!mx.some((m) => m.exchange.toLowerCase().replace(/\.$/, '') === c.host)) {
        return fail(`MX points at ${mx.map((m) => m.exchange).join(', ')}, not at ${c.host}`, `${add(r)} (and remove the others unless you run them)`);
      }
      return ok();
    }
    case 'spf': {
      const all = (await q.txt(r.name)) ?? [];
      const spf = all.filter((t) => /^v=spf1(\s|$)/i.test(t.trim()));
      if (spf.length === 0) return fail('no SPF record', add(r));
      if (spf.length > 1) return fail(`${spf.length} SPF records: receivers treat that as an error (RFC 7208 4.5)`, `keep only: ${zoneLine(r)}`);
      const terms = spf[0]!.trim().toLowerCase().split(/\s+/).slice(1);
      if (terms.some((t) => t === '+all' || t === 'all')) return fail(`"${spf[0]}" lets every host on the internet send as ${r.name}`, replace(r));
      const mech = (t: string) => t.replace(/^[+]/, '');
      const authorized = terms.some((t) => {
        const m = mech(t);
        if (m === 'mx' || m === `mx:${r.name}`) return true;
        if (m === 'a' && r.name === c.host) return true;
        if (m === `a:${c.host}`) return true;
        const ip = /^ip[46]:(.+)$/.exec(m)?.[1];
        return ip !== undefined && hostAddresses.includes(ip);
      });
      if (authorized) return ok();
      if (terms.some((t) => /^[+]?include:|^redirect=/.test(t))) return ok(`"${spf[0]}" delegates to another record; not verified that it covers ${c.host}`);
      return fail(`"${spf[0]}" does not authorize ${c.host}: mail from it fails SPF`, replace(r));
    }
    case 'dkim': {
      const all = await q.txt(r.name);
      if (!all || all.length === 0) return fail(`no DKIM record for selector ${c.selector}: signatures with it fail`, add(r));
      const want = parseTags(c.record).get('p');
      const got = all.map((t) => parseTags(t));
      if (got.some((t) => t.get('p') === want && (t.get('k') ?? 'rsa') === (parseTags(c.record).get('k') ?? 'rsa'))) return ok();
      if (got.some((t) => t.get('p') === '')) return fail(`selector ${c.selector} is published as revoked (empty p=)`, replace(r));
      return fail(`selector ${c.selector} publishes a different key: signatures with ours fail`, replace(r));
    }
    case 'dmarc': {
      const all = ((await q.txt(r.name)) ?? []).filter((t) => startsWithVersion(t, 'DMARC1'));
      if (all.length === 0) return fail('no DMARC record: receivers apply no policy and send no reports', add(r));
      if (all.length > 1) return fail(`${all.length} DMARC records: receivers ignore them all (RFC 7489 6.6.3)`, `keep only: ${zoneLine(r)}`);
      const p = parseTags(all[0]!).get('p');
      if (!p || !['none', 'quarantine', 'reject'].includes(p.toLowerCase())) return fail(`"${all[0]}" has no valid p= tag`, replace(r));
      return ok(p.toLowerCase() === 'none' ? 'p=none: reports only, spoofed mail is not refused' : undefined);
    }
    case 'mta-sts': {
      const all = ((await q.txt(r.name)) ?? []).filter((t) => startsWithVersion(t, 'STSv1'));
      if (all.length === 0) return fail('no MTA-STS record: senders do not look for our policy', add(r));
      if (all.length > 1) return fail(`${all.length} MTA-STS records: senders ignore them (RFC 8461 3.1)`, `keep only: ${zoneLine(r)}`);
      const id = parseTags(all[0]!).get('id');
      if (!id) return fail(`"${all[0]}" has no id= (RFC 8461 3.1): senders ignore it`, replace(r));
      if (!/^[A-Za-z0-9]{1,32}$/.test(id)) return fail(`id=${id} is not 1 to 32 letters and digits (RFC 8461 3.1)`, replace(r));
      if (id !== c.id) return fail(`id=${id} is not the current policy's id ${c.id}: senders that cached the old policy keep it`, replace(r));
      return ok();
    }
    case 'tlsrpt': {
      const all = ((await q.txt(r.name)) ?? []).filter((t) => startsWithVersion(t, 'TLSRPTv1'));
      if (all.length === 0) return fail('no TLSRPT record: no reports of failed TLS to us', add(r));
      if (!parseTags(all[0]!).get('rua')) return fail(`"${all[0]}" has no rua= (RFC 8460 3)`, replace(r));
      return ok();
    }
    case 'srv': {
      const all = await orMissing(() => q.resolver.resolveSrv(r.name));
      if (c.target === '.') {
        if (!all || all.every((s) => s.name === '' || s.name === '.')) return ok();
        return fail(`announces ${all.map((s) => `${s.name}:${s.port}`).join(', ')}, a service we do not offer`, replace(r));
      }
      if (!all || all.length === 0) return fail('no SRV record: clients cannot discover the service', add(r));
      if (all.some((s) => s.name.toLowerCase().replace(/\.$/, '') === c.target && s.port === c.port)) return ok();
      return fail(`points at ${all.map((s) => `${s.name}:${s.port}`).join(', ')}, not ${c.target}:${c.port}`, replace(r));
    }
    case 'address': {
      const { v4, v6 } = await q.addresses(r.name);
      if (v4.length + v6.length === 0) {
        return fail(`${r.name} has no address`, r.rdata ? add(r) : `add an A (and AAAA) record for ${r.name} with the server's address`);
      }
      const have = r.type === 'AAAA' ? v6 : v4;
      if ((r.type === 'A' || r.type === 'AAAA') && r.rdata && !have.includes(r.rdata)) return fail(`${r.name} has ${have.join(', ') || `no ${r.type} record`}, not ${r.rdata}`, add(r));
      return ok();
    }
    case 'tlsa': {
      let all;
      try {
        all = await resolveTlsa(q.tlsaServer(), r.name);
      } catch (err) {
        if (err instanceof DnsQueryError && (err.code === 'ENOTFOUND' || err.code === 'ENODATA')) {
          return ok('no TLSA record (DANE is optional, and works only in a DNSSEC-signed zone)');
        }
        throw err;
      }
      if (all.some((t) => t.usage === 3 && t.selector === 1 && t.matchingType === 1 && t.data === c.data)) return ok();
      return fail('TLSA records do not match our certificate\'s key: DANE senders will refuse to deliver', `${replace(r)} (publish it before removing the old one)`);
    }
    case 'caa': {
      const all = await orMissing(() => q.resolver.resolveCaa(r.name));
      if (!all || all.length === 0) return fail('no CAA record: any CA may issue certificates for the domain', add(r));
      // RFC 8659 4.2: issuer domain, then optional parameters; RFC 8657 3: accounturi pins the account.
      const issues = all.map((c) => c.issue).filter((v): v is string => typeof v === 'string');
      const ours = issues.find((v) => v.split(';')[0]!.trim().toLowerCase() === c.issuer);
      if (!ours) return fail(`CAA allows ${issues.join(', ') || 'no issuer'}, not ${c.issuer}: our ACME orders will be refused`, replace(r));
      if (c.accountUri && !/accounturi\s*=/.test(ours)) return ok(`CAA allows ${c.issuer} for any account; ${zoneLine(r)} pins it to ours`);
      if (c.accountUri && !ours.includes(c.accountUri)) return fail(`CAA pins another ${c.issuer} account: our ACME orders will be refused`, replace(r));
      return ok();
    }
    case 'none':
      return ok();
  }
}

/** Every wanted record of the domain, checked; lookups that fail are reported, not thrown. */
export async function checkDomain(d: DomainRecords, host: string, server: ResolverAddress | null): Promise<CheckResult[]> {
  const q = new Lookup(server);
  const a = await q.addresses(host).catch(() => ({ v4: [], v6: [] }));
  const hostAddresses = [...a.v4, ...a.v6];
  const out: CheckResult[] = [];
  for (const r of d.records) {
    try {
      out.push(await checkOne(r, q, hostAddresses));
    } catch (err) {
      const code = (err as { code?: string }).code ?? (err as Error).message;
      out.push({ record: r, ok: false, message: `lookup failed (${code})`, fix: 'check that the resolver is reachable and the zone is served' });
    }
  }
  return out;
}

export function renderResults(results: CheckResult[]): string {
  const lines: string[] = [];
  for (const c of results) {
    const what = `${c.record.type.padEnd(5)} ${c.record.name}`;
    lines.push(`${c.ok ? 'OK  ' : 'FAIL'}  ${what}${c.message ? `: ${c.message}` : ''}`);
    if (!c.ok && c.fix) lines.push(`      fix: ${c.fix}`);
  }
  return lines.join('\n') + '\n';
}
