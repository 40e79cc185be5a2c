// Writes a new postern.conf for quickstart and localserve: commented YAML that an admin can edit.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_FILE } from './load.js';

export interface NewConfig {
  hostname: string;
  listen: string;
  portBase: number;
  certFile: string;
  keyFile: string;
  /** DKIM keys to sign with, per domain. */
  dkim?: { domain: string; selector: string; keyFile: string }[];
  /** Certificates by ACME (quickstart --acme): the contact address; Let's Encrypt's directory. */
  acme?: { contact: string };
}

export const LETS_ENCRYPT_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';

function renderAcme(a: NewConfig['acme']): string {
  if (!a) return '';
  return `  # Certificates by ACME for the host name, mta-sts.<domain> and autoconfig.<domain>, picked by SNI;
  # the files above stay the fallback. See "postern tls status".
  acme:
    directoryUrl: ${LETS_ENCRYPT_DIRECTORY}
    contact: ${JSON.stringify(a.contact)}
    # names: { autoconfig.example.org: false }   # drop (false) or add (true) a name
    # challenges: [tls-alpn-01, http-01]          # needs port 443 / port 80 reachable from the CA
`;
}

function renderDkim(entries: NonNullable<NewConfig['dkim']>): string {
  if (entries.length === 0) return '';
  const byDomain = new Map<string, string[]>();
  for (const e of entries) {
    const list = byDomain.get(e.domain) ?? [];
    list.push(`    - selector: ${e.selector}\n      keyFile: ${e.keyFile}`);
    byDomain.set(e.domain, list);
  }
  return `
# DKIM keys managed by hand: submitted mail from these domains is signed with each key listed
# (other domains use the keys in dkim/keys.json; see "postern dkim").
dkim:
${[...byDomain].map(([d, l]) => `  ${d}:\n${l.join('\n')}`).join('\n')}
`;
}

export function renderConfig(c: NewConfig): string {
  return `# Postern configuration. Relative file names are relative to this directory.
# Reference: docs/configuration.md

# The host name of this mail server: greeting, EHLO, certificates, Received headers.
hostname: ${c.hostname}

# Certificate and key for IMAPS, submissions, HTTPS and STARTTLS.
tls:
  certFile: ${c.certFile}
  keyFile: ${c.keyFile}
${renderAcme(c.acme)}
# Listeners: each one serves on its IPs, at port base + the standard port:
# smtp 25, submission 587, submissions 465, imap 143, imaps 993, http 80, https 443.
listeners:
  main:
    ips: [${c.listen}]
    portBase: ${c.portBase}
    # services: [smtp, submission, submissions, imap, imaps, http, https]
    # ports: { imap: 10143 }          # a port other than base + standard
    # Ask IMAP/submission clients for a TLS client certificate (never required).
    requestClientCertificates: true

${renderDkim(c.dkim ?? [])}
# The resolver "postern dns check" asks (default: the system's).
# dns:
#   resolver: 127.0.0.1:53
# Our MTA-STS policy, served at https://mta-sts.DOMAIN/.well-known/mta-sts.txt.
# mtaSts:
#   mode: testing                     # testing | enforce | none
#   maxAge: 604800

# limits:
#   imap:
#     appendLimit: 104857600          # largest message APPEND accepts (bytes)
#   smtp:
#     maxMessageSize: 104857600
`;
}

/** Creates the file exclusively: an existing config is never overwritten. */
export function writeNewConfig(dir: string, c: NewConfig): string {
  const file = join(dir, CONFIG_FILE);
  writeFileSync(file, renderConfig(c), { flag: 'wx', mode: 0o640 });
  return file;
}
