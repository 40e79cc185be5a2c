// Every DNS record a domain of ours needs, as zone-file lines: what `postern dns records` and
// quickstart print and what `postern dns check` looks up.

import { createHash, createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ACCOUNT_URL_FILE } from '../acme/status-file.js';
import type { Config } from '../config/types.js';
import { entryDnsRecord, readManifest } from '../smtp/server/dkim-keyring.js';
import { publicKeyRecord } from '../smtp/server/dkim-keys.js';
import { toAsciiDomain } from '../util/ascii-domain.js';
import { clientSettings } from '../web/client-settings.js';
import { mtaStsId, mtaStsPolicy } from './mta-sts-policy.js';

export type RecordType = 'MX' | 'TXT' | 'SRV' | 'CNAME' | 'CAA' | 'TLSA' | 'A' | 'AAAA';

/** One record we want published; `check` says how `postern dns check` compares it. */
export interface WantedRecord {
  /** Owner name, absolute, without the trailing dot. */
  name: string;
  type: RecordType;
  /** Presentation-format RDATA, as in a zone file. */
  rdata: string;
  /** What the record is for, printed as a comment above it. */
  purpose: string;
  check:
    | { kind: 'mx'; host: string }
    | { kind: 'spf'; host: string }
    | { kind: 'dkim'; selector: string; record: string }
    | { kind: 'dmarc' }
    | { kind: 'mta-sts'; id: string }
    | { kind: 'tlsrpt' }
    | { kind: 'srv'; target: string; port: number }
    | { kind: 'address' }
    | { kind: 'tlsa'; data: string }
    | { kind: 'caa'; issuer: string; accountUri: string | null }
    | { kind: 'none' };
}

/**
 * The CAA issuer domain of an ACME directory (RFC 8659 4.2): Let's Encrypt's is documented as
 * letsencrypt.org; for another CA, its directory's host name (check the CA's documentation).
 */
export function caaIssuer(directoryUrl: string): string {
  const host = new URL(directoryUrl).hostname.toLowerCase();
  return host === 'letsencrypt.org' || host.endsWith('.letsencrypt.org') ? 'letsencrypt.org' : host;
}

/** The ACME account URL the server saved (acme/acme-manager.ts), or null before the first order. */
function acmeAccountUrl(dir: string): string | null {
  try {
    const url = readFileSync(join(dir, 'acme', ACCOUNT_URL_FILE), 'utf8').trim();
    return /^https:\/\/\S+$/.test(url) ? url : null;
  } catch {
    return null;
  }
}

export interface DomainRecords {
  domain: string;
  records: WantedRecord[];
  /** Lines printed as comments: what we cannot know or should not prescribe. */
  notes: string[];
}

/** RFC 1035 3.3.14: a TXT character-string holds at most 255 bytes; longer values are split. */
export function txtStrings(value: string): string {
  const parts: string[] = [];
  for (let i = 0; i < value.length; i += 255) parts.push(`"${value.slice(i, i + 255).replace(/["\\]/g, '\\$&')}"`);
  return parts.join(' ');
}

/** SHA-256 of the certificate's SubjectPublicKeyInfo: TLSA 3 1 1 (RFC 7671 5.1, RFC 7672 3.1.1). */
export function tlsaSpkiSha256(certPem: string | Buffer): string {
  const cert = new X509Certificate(certPem);
  const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('hex');
}

/** The DMARC and TLS reports go to postmaster@, which every domain of ours accepts (RFC 5321 4.5.1). */
export function reportsAddress(domain: string): string {
  return `postmaster@${domain}`;
}

export function domainRecords(config: Config, domainInput: string): DomainRecords {
  const domain = toAsciiDomain(domainInput.toLowerCase().replace(/\.$/, '')) || domainInput;
  const host = config.hostname;
  const records: WantedRecord[] = [];
  const notes: string[] = [];
  const add = (name: string, type: RecordType, rdata: string, purpose: string, check: WantedRecord['check']) =>
    records.push({ name, type, rdata, purpose, check });

  // Where the host name points: we know its address only when the listener names one.
  // Loopback and wildcard listeners say nothing about the public address.
  const ips = [...new Set(config.listeners.flatMap((l) => l.ips))].filter((ip) => !/^(0\.0\.0\.0|::|::1|127\.)/.test(ip));
  for (const ip of ips) add(host, ip.includes(':') ? 'AAAA' : 'A', ip, 'the mail server host', { kind: 'address' });
  if (ips.length === 0) {
    notes.push(`${host}. A (and AAAA) your server's public address(es); the reverse (PTR) record of each should be ${host}.`);
    records.push({ name: host, type: 'A', rdata: '', purpose: 'the mail server host has an address', check: { kind: 'address' } });
  }
  const smtpPort = config.listeners.map((l) => l.ports.smtp).find((p) => p !== undefined);
  if (smtpPort !== undefined && smtpPort !== 25) notes.push(`incoming SMTP listens on port ${smtpPort}: other servers only ever connect to port 25`);

  add(domain, 'MX', `10 ${host}.`, 'incoming mail goes to this server (RFC 5321 5.1)', { kind: 'mx', host });
  add(domain, 'TXT', txtStrings('v=spf1 mx ~all'), 'SPF: the MX host sends mail for the domain (RFC 7208)', { kind: 'spf', host });
  if (host !== domain) add(host, 'TXT', txtStrings('v=spf1 a -all'), 'SPF for the host name itself (the HELO identity, RFC 7208 2.3)', { kind: 'spf', host });

  const dkim = readManifest(config.dir).domains[domain.toLowerCase()] ?? [];
  const configured = config.dkim[domain.toLowerCase()] ?? [];
  for (const e of dkim) {
    const rec = entryDnsRecord(config.dir, e);
    add(`${e.selector}._domainkey.${domain}`, 'TXT', txtStrings(rec), `DKIM key ${e.selector} (${e.algorithm}, RFC 6376 3.6.2)`, { kind: 'dkim', selector: e.selector, record: rec });
  }
  for (const k of configured) {
    let rec: string;
    try {
      rec = dkimRecordFromFile(k.keyFile);
    } catch {
      notes.push(`DKIM key file ${k.keyFile} (selector ${k.selector}) cannot be read`);
      continue;
    }
    add(`${k.selector}._domainkey.${domain}`, 'TXT', txtStrings(rec), `DKIM key ${k.selector} (from postern.conf)`, { kind: 'dkim', selector: k.selector, record: rec });
  }
  if (dkim.length === 0 && configured.length === 0) notes.push(`no DKIM keys for ${domain}: run "postern dkim gen ${domain}"`);

  const reports = reportsAddress(domain);
  add(`_dmarc.${domain}`, 'TXT', txtStrings(`v=DMARC1; p=reject; rua=mailto:${reports}`), 'DMARC policy and aggregate reports (RFC 7489 6.3)', { kind: 'dmarc' });

  const policy = mtaStsPolicy(config);
  const id = mtaStsId(policy);
  add(`_mta-sts.${domain}`, 'TXT', txtStrings(`v=STSv1; id=${id}`), `MTA-STS: a policy (mode ${config.mtaSts.mode}) is at https://mta-sts.${domain}/.well-known/mta-sts.txt (RFC 8461 3.1)`, { kind: 'mta-sts', id });
  add(`mta-sts.${domain}`, 'CNAME', `${host}.`, 'MTA-STS policy host: served by our web listener; its certificate must name it', { kind: 'address' });
  add(`_smtp._tls.${domain}`, 'TXT', txtStrings(`v=TLSRPTv1; rua=mailto:${reports}`), 'SMTP TLS reports (RFC 8460 3)', { kind: 'tlsrpt' });

  // RFC 6186 3.1 and RFC 8314 5.1: client discovery; "." marks a service we do not offer.
  const s = clientSettings(config);
  const srv = (service: string, port: number | undefined, prio: number) => {
    if (port === undefined) add(`_${service}._tcp.${domain}`, 'SRV', '0 0 0 .', `${service} is not offered (RFC 6186 3.4)`, { kind: 'srv', target: '.', port: 0 });
    else add(`_${service}._tcp.${domain}`, 'SRV', `${prio} 1 ${port} ${host}.`, `mail clients find ${service} here (RFC 6186, RFC 8314)`, { kind: 'srv', target: host, port });
  };
  srv('submissions', s.submission.find((e) => e.security === 'tls')?.port, 0);
  srv('submission', s.submission.find((e) => e.security === 'starttls')?.port, 10);
  srv('imaps', s.imap.find((e) => e.security === 'tls')?.port, 0);
  srv('imap', s.imap.find((e) => e.security === 'starttls')?.port, 10);
  srv('pop3s', undefined, 0);
  srv('pop3', undefined, 0);
  add(`autoconfig.${domain}`, 'CNAME', `${host}.`, 'Thunderbird autoconfig (https://autoconfig.DOMAIN/mail/config-v1.1.xml)', { kind: 'address' });

  // CAA (RFC 8659): which CA may issue for the domain. With ACME, the account URI pins it to our
  // account (RFC 8657); without, there is nothing we can say for the admin's CA.
  const acme = config.tls?.acme;
  if (acme) {
    const issuer = caaIssuer(acme.directoryUrl);
    const accountUri = acmeAccountUrl(config.dir);
    const value = accountUri ? `${issuer}; accounturi=${accountUri}` : issuer;
    add(domain, 'CAA', `0 issue "${value}"`, `only our ACME account at ${issuer} may issue certificates for ${domain} (RFC 8659, RFC 8657)`, { kind: 'caa', issuer, accountUri });
    if (!accountUri) notes.push(`the ACME account does not exist yet: after the server's first certificate, "postern dns records ${domain}" adds accounturi= to the CAA record`);
  } else {
    notes.push(`${domain}. CAA 0 issue "<your CA>" (RFC 8659): limit who may issue certificates (with tls.acme this is printed for the ACME account)`);
  }

  if (config.tls) {
    try {
      const data = tlsaSpkiSha256(readFileSync(config.tls.certFile));
      add(`_25._tcp.${host}`, 'TLSA', `3 1 1 ${data}`, 'DANE for incoming SMTP: the server key (RFC 7672); needs a DNSSEC-signed zone; publish a new key\'s record before switching to it', { kind: 'tlsa', data });
    } catch {
      notes.push(`cannot read the certificate ${config.tls.certFile}: no TLSA record`);
    }
  }
  return { domain, records, notes };
}

function dkimRecordFromFile(file: string): string {
  return publicKeyRecord(createPublicKey(createPrivateKey(readFileSync(file))));
}

/** A record as a zone-file line (absolute names, default TTL and class). */
export function zoneLine(r: WantedRecord): string {
  return `${r.name}. ${r.type} ${r.rdata}`;
}

/** The whole set, commented, ready to paste into a zone file. */
export function renderZone(d: DomainRecords): string {
  const out: string[] = [`; DNS records for ${d.domain}`];
  for (const r of d.records) {
    if (r.rdata === '') continue;
    out.push(`; ${r.purpose}`, zoneLine(r));
  }
  for (const n of d.notes) out.push(`; ${n}`);
  return out.join('\n') + '\n';
}
