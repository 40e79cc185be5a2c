// The DMARC tests' DNS server: unbound serving static zones (test/dns/unbound.ts), fed records as
// objects. Tests point the server's `dns.resolver` at it, so SPF, DKIM and DMARC lookups go over
// the wire as in production.

import { startUnbound as startZoneServer, unboundAvailable, type Unbound } from '../dns/unbound.js';

export type { Unbound };

export interface DnsRecord {
  name: string;
  type: 'TXT' | 'A' | 'MX';
  value: string;
}

/** TXT data as unbound wants it: character-strings of at most 255 octets (RFC 1035 3.3.14). */
function txtData(value: string): string {
  const parts: string[] = [];
  for (let i = 0; i < value.length; i += 255) parts.push(`"${value.slice(i, i + 255).replace(/["\\]/g, '\\$&')}"`);
  return parts.join(' ');
}

export function unboundInstalled(): boolean {
  return unboundAvailable();
}

/** Starts unbound serving `records` under the static zones `zones` (names outside them: REFUSED). */
export function startUnbound(zones: string[], records: DnsRecord[]): Promise<Unbound> {
  return startZoneServer(zones, records.map((r) => `${r.name}. 60 IN ${r.type} ${r.type === 'TXT' ? txtData(r.value) : r.value}`));
}
