// Which host names get an ACME certificate: the server's host name, and mta-sts.<domain> (RFC 8461 3.3)
// and autoconfig.<domain> (client autoconfiguration) for every domain it receives mail for; the
// `tls.acme.names` map adds names (true) or drops default ones (false).

import type { AcmeConfig } from '../config/types.js';

export function certificateNames(hostname: string, domains: string[], acme: AcmeConfig): string[] {
  const names = new Set<string>();
  // A name without a dot (localhost, a bare machine name) cannot be validated by a public CA.
  if (hostname.includes('.')) names.add(hostname.toLowerCase());
  for (const d of domains) {
    const domain = d.toLowerCase();
    if (!domain.includes('.')) continue;
    names.add(`mta-sts.${domain}`);
    names.add(`autoconfig.${domain}`);
  }
  for (const [name, on] of Object.entries(acme.names)) {
    if (on) names.add(name);
    else names.delete(name);
  }
  return [...names].sort();
}
