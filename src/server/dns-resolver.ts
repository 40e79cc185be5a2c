// The configured DNS resolver (`dns.resolver`): one node:dns Resolver aimed at that server, in the
// shape mailauth's lookups take (name, rrtype), so SPF/DKIM/DMARC and the other lookups ask the same
// server. Absent: node:dns with the system's resolvers.

import { Resolver } from 'node:dns/promises';
import { resolverAddress } from '../config/load.js';
import type { DnsResolver } from '../smtp/server/policy.js';

/** Per-query timeout and tries: a lookup must not hold a message past the SMTP data timeout. */
const RESOLVER_TIMEOUT_MS = 3000;
const RESOLVER_TRIES = 2;

export function resolverAt(address: string): DnsResolver {
  const a = resolverAddress(address);
  if (!a) throw new Error(`not a resolver address: ${address}`);
  const r = new Resolver({ timeout: RESOLVER_TIMEOUT_MS, tries: RESOLVER_TRIES });
  r.setServers([a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`]);
  return (name, rrtype) => r.resolve(name, rrtype as 'TXT');
}
