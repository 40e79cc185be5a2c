// Where mail for a domain goes: a configured transport (smarthost or test peer, per domain or
// "*"), else the domain's MX hosts (RFC 5321 5.1) with the resolver injectable for tests.

import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import type { TransportConfig } from '../config/types.js';
import type { TlsMode } from '../smtp/client/index.js';
import { SMTP_PORT } from './limits.js';

/** The DNS queries the queue makes; node:dns/promises by default. */
export interface DnsResolver {
  resolveMx(name: string): Promise<{ exchange: string; priority: number }[]>;
  resolve4(name: string): Promise<string[]>;
  resolve6(name: string): Promise<string[]>;
}

export const systemResolver: DnsResolver = {
  resolveMx: (n) => dns.resolveMx(n),
  resolve4: (n) => dns.resolve4(n),
  resolve6: (n) => dns.resolve6(n),
};

export interface DestinationHost {
  /** Host name (MX exchange or transport host) or IP address. */
  name: string;
  /** Addresses come from the DnsResolver ('dns', MX delivery) or from the system's getaddrinfo
   * when connecting ('system': transports, which may name `localhost` or /etc/hosts entries). */
  lookup: 'dns' | 'system';
}

export interface Destination {
  /** In the order to try. */
  hosts: DestinationHost[];
  port: number;
  tls: TlsMode;
  insecure: boolean;
  auth?: { username: string; password?: string };
  /** The transport key used ("example.com" or "*"), or null for MX delivery. */
  transport: string | null;
}

/** Resolution failed: `permanent` for a domain that cannot receive mail, else retry later. */
export class DestinationError extends Error {
  override name = 'DestinationError';
  constructor(message: string, readonly permanent: boolean, readonly status: string) {
    super(message);
  }
}

const NOT_FOUND = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN', 'ENONAME']);

function dnsCode(err: unknown): string {
  return (err as { code?: string }).code ?? 'EUNKNOWN';
}

export interface ResolveOptions {
  transports: Record<string, TransportConfig>;
  resolver: DnsResolver;
  /** Our host name: an MX list that names us is cut there (RFC 5321 5.1) to avoid loops. */
  hostname: string;
  /** Port for MX delivery; 25 except in tests. */
  mxPort?: number;
  /** Shuffles MX hosts of equal preference (RFC 5321 5.1 SHOULD); injectable for tests. */
  random?: () => number;
}

export async function resolveDestination(domainIn: string, o: ResolveOptions): Promise<Destination> {
  const domain = domainIn.toLowerCase();
  const t = o.transports[domain] ?? o.transports['*'];
  if (t) {
    const key = o.transports[domain] ? domain : '*';
    return {
      hosts: [{ name: t.host, lookup: 'system' }],
      port: t.port,
      tls: t.tls,
      insecure: t.tlsInsecure,
      ...(t.username !== undefined && { auth: { username: t.username, password: t.password } }),
      transport: key,
    };
  }
  const mx = { port: o.mxPort ?? SMTP_PORT, tls: 'opportunistic' as const, insecure: false, transport: null };

  // RFC 5321 4.1.3 address literal: deliver to that address, no MX lookup.
  if (domain.startsWith('[')) {
    const inner = domain.slice(1, -1).replace(/^ipv6:/i, '');
    if (!domain.endsWith(']') || isIP(inner) === 0) throw new DestinationError(`invalid address literal ${domain}`, true, '5.1.2');
    return { ...mx, hosts: [{ name: inner, lookup: 'system' }] };
  }

  let records: { exchange: string; priority: number }[];
  try {
    records = await o.resolver.resolveMx(domain);
  } catch (err) {
    const code = dnsCode(err);
    if (code === 'ENOTFOUND' || code === 'NXDOMAIN') throw new DestinationError(`domain ${domain} does not exist`, true, '5.1.2');
    if (code === 'ENODATA') records = [];
    else throw new DestinationError(`MX lookup for ${domain} failed: ${code}`, false, '4.4.3');
  }
  // RFC 7505 3: a single MX with exchange "." means the domain accepts no mail.
  if (records.length === 1 && (records[0]!.exchange === '' || records[0]!.exchange === '.')) {
    throw new DestinationError(`domain ${domain} does not accept mail (null MX)`, true, '5.1.10');
  }
  records = records.filter((r) => r.exchange !== '' && r.exchange !== '.');
  // RFC 5321 5.1: no MX records: the domain itself is the implicit MX.
  if (records.length === 0) return { ...mx, hosts: [{ name: domain, lookup: 'dns' }] };

  const rand = o.random ?? Math.random;
  const keyed = records.map((r) => ({ ...r, exchange: r.exchange.replace(/\.$/, '').toLowerCase(), tiebreak: rand() }));
  keyed.sort((a, b) => a.priority - b.priority || a.tiebreak - b.tiebreak);
  // RFC 5321 5.1: when we are one of the MX hosts, only those more preferred than us count.
  const self = keyed.find((r) => r.exchange === o.hostname.toLowerCase());
  const usable = self ? keyed.filter((r) => r.priority < self.priority) : keyed;
  if (usable.length === 0) throw new DestinationError(`mail for ${domain} loops back to myself`, true, '5.4.6');
  return { ...mx, hosts: usable.map((r) => ({ name: r.exchange, lookup: 'dns' })) };
}

/** IPv4 then IPv6 addresses of an MX host. An IP "name" is its own address. Throws a
 * temporary DestinationError when DNS fails (not when the name just has no addresses). */
export async function hostAddresses(name: string, resolver: DnsResolver): Promise<string[]> {
  if (isIP(name)) return [name];
  const [v4, v6] = await Promise.allSettled([resolver.resolve4(name), resolver.resolve6(name)]);
  const out: string[] = [];
  let failure: string | undefined;
  for (const r of [v4, v6]) {
    if (r.status === 'fulfilled') out.push(...r.value);
    else if (!NOT_FOUND.has(dnsCode(r.reason))) failure = dnsCode(r.reason);
  }
  if (out.length === 0 && failure) throw new DestinationError(`address lookup for ${name} failed: ${failure}`, false, '4.4.3');
  return out;
}
