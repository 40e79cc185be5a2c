// `postern quickstart`: a new data directory with config, self-signed TLS certificate, database and a
// first account. Also used by `postern localserve` on first start.

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { isHostName } from '../config/hostname.js';
import { CONFIG_FILE } from '../config/load.js';
import { SERVICE_PORTS, type ServiceName } from '../config/types.js';
import { writeNewConfig } from '../config/write.js';
import { parseAddress } from '../store/address.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { domainRecords, renderZone } from '../dns/records.js';
import { addDomainKeys, entryDnsRecord } from '../smtp/server/dkim-keyring.js';
import { toAsciiDomain } from '../util/ascii-domain.js';
import { generateServerCertificate } from '../tls/generate.js';
import { setPassword } from './account.js';
import { parse, positionals } from './args.js';
import { CliError, EX_CANTCREAT, EX_USAGE } from './cli-error.js';
import { loadConfigOrFail } from './open-store.js';
import { checkPasswordPolicy } from './read-password.js';
import { systemdUnit, UNIT_FILE } from './systemd-unit.js';

const USAGE = 'postern quickstart [--hostname H] [--listen IP] [--port-base N] [--password PW] [--acme | --no-acme] ADDRESS';

export interface InitOptions {
  dir: string;
  address: string;
  hostname: string;
  listen: string;
  portBase: number;
  password?: string;
  /** Configure certificates by ACME (tls.acme), with the address as contact. */
  acme?: boolean;
}

export interface InitResult {
  password: string;
  /** DNS TXT records to publish for the DKIM keys. */
  dkimRecords: string[];
  accountName: string;
  address: string;
  domain: string;
}

export function generatePassword(): string {
  // 96 random bits in 16 URL-safe characters: easy to copy, long enough never to guess.
  return randomBytes(12).toString('base64url');
}

export async function initDataDir(o: InitOptions): Promise<InitResult> {
  if (existsSync(join(o.dir, CONFIG_FILE))) {
    throw new CliError(`${join(o.dir, CONFIG_FILE)} already exists; not overwriting it`, EX_CANTCREAT);
  }
  // The test `serve` applies to the config: nothing is written for a name it would refuse.
  if (!isHostName(o.hostname)) throw new CliError(`not a valid host name: ${JSON.stringify(o.hostname)} (give one with --hostname)`, EX_USAGE);
  const parsed = parseAddress(o.address);
  const password = o.password ?? generatePassword();
  checkPasswordPolicy(password);
  mkdirSync(join(o.dir, 'tls'), { recursive: true, mode: 0o750 });
  const cert = await generateServerCertificate(o.hostname);
  writeFileSync(join(o.dir, 'tls', 'cert.pem'), cert.certPem, { mode: 0o644 });
  writeFileSync(join(o.dir, 'tls', 'key.pem'), cert.keyPem, { mode: 0o600 });
  const store = await SqliteStore.open({ dir: o.dir });
  try {
    const accountName = parsed.localPart.replace(/[^A-Za-z0-9._+-]/g, '_').slice(0, 64) || 'postmaster';
    const account = await store.createAccount(accountName, parsed.address);
    await setPassword(store, account.id, password);
    const dkim = addDomainKeys(o.dir, parsed.domain);
    writeFileSync(join(o.dir, UNIT_FILE), systemdUnit({ dir: o.dir }), { mode: 0o644 });
    // The config is written last: its existence marks a complete data directory.
    writeNewConfig(o.dir, {
      hostname: o.hostname, listen: o.listen, portBase: o.portBase, certFile: 'tls/cert.pem', keyFile: 'tls/key.pem',
      ...(o.acme ? { acme: { contact: parsed.address } } : {}),
    });
    const ascii = toAsciiDomain(parsed.domain);
    return { password, accountName, address: parsed.address, domain: parsed.domain, dkimRecords: dkim.map((k) => `${k.selector}._domainkey.${ascii} TXT "${entryDnsRecord(o.dir, k)}"`) };
  } finally {
    await store.close();
  }
}

/**
 * Whether a public CA can validate the name: a dotted DNS name outside the special-use and
 * documentation names (RFC 6761, RFC 2606, RFC 8375), not an IP address.
 */
export function isPublicHostname(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/\.$/, '');
  if (isIP(h) || !h.includes('.')) return false;
  return !/(^|\.)(localhost|local|test|example|invalid|internal|lan|home\.arpa|example\.(com|net|org))$/.test(h);
}

export function describePorts(listen: string, portBase: number): string {
  const names: Record<ServiceName, string> = {
    smtp: 'SMTP (incoming)', submission: 'submission (STARTTLS)', submissions: 'submissions (implicit TLS)',
    imap: 'IMAP (STARTTLS)', imaps: 'IMAPS (implicit TLS)', http: 'account web (HTTP)', https: 'account web (HTTPS)',
  };
  return (Object.keys(SERVICE_PORTS) as ServiceName[])
    .map((s) => `  ${names[s].padEnd(28)} ${listen}:${portBase + SERVICE_PORTS[s]}`)
    .join('\n');
}

export async function quickstartCommand(dir: string, args: string[]): Promise<void> {
  const { values, positionals: p } = parse(args, {
    hostname: { type: 'string' }, listen: { type: 'string' }, 'port-base': { type: 'string' }, password: { type: 'string' },
    acme: { type: 'boolean' }, 'no-acme': { type: 'boolean' },
  }, USAGE);
  if (values.acme && values['no-acme']) throw new CliError('--acme and --no-acme exclude each other', EX_USAGE);
  const [address] = positionals(p, 1, 1, USAGE);
  const listen = (values.listen as string | undefined) ?? '0.0.0.0';
  if (!isIP(listen)) throw new CliError(`--listen: not an IP address: ${listen}`, EX_USAGE);
  const portBaseText = (values['port-base'] as string | undefined) ?? '0';
  const portBase = Number(portBaseText);
  if (!/^\d+$/.test(portBaseText) || portBase > 65535 - 993) throw new CliError(`--port-base: must be a number from 0 to ${65535 - 993}`, EX_USAGE);
  // Never the machine's own name (often a cloud instance id): the one given, else mail.DOMAIN.
  const given = values.hostname as string | undefined;
  const hostname = (given ?? `mail.${parseAddress(address!).domain}`).toLowerCase();
  // ACME is the default for a public host name: a CA can reach it.
  const acme = values.acme === true || (values['no-acme'] !== true && isPublicHostname(hostname));
  const r = await initDataDir({ dir, address: address!, hostname, listen, portBase, password: values.password as string | undefined, acme });
  const config = loadConfigOrFail(dir);
  const https = config.listeners.map((l) => l.ports.https).find((p) => p !== undefined);
  console.log(`created ${dir} with account ${r.accountName} (${r.address})`);
  console.log(`host name: ${hostname}${given ? '' : ' (from the address; choose another with --hostname)'}`);
  // A password given on the command line is not repeated: this output often ends up in a log.
  console.log(values.password === undefined ? `password: ${r.password}` : 'password: the one given with --password');
  console.log(`ports:\n${describePorts(listen, portBase)}`);
  if (https !== undefined) console.log(`account web interface: https://${hostname}${https === 443 ? '' : `:${https}`}/account/`);
  console.log(`\nDNS records for ${r.domain} (paste into its zone; "postern dns records ${r.domain}" prints them again):`);
  console.log(renderZone(domainRecords(config, r.domain)).trimEnd().split('\n').map((l) => `  ${l}`).join('\n'));
  const certificates = acme
    ? `certificates for ${hostname}, mta-sts.${r.domain} and autoconfig.${r.domain} come by ACME from Let's Encrypt once ports 80/443 are reachable: postern --dir ${dir} tls status`
    : `replace the self-signed certificate in ${join(dir, 'tls')} with one for ${hostname}, mta-sts.${r.domain} and autoconfig.${r.domain}`;
  console.log(`
next steps:
  1. publish the DNS records above, then check them: postern --dir ${dir} dns check ${r.domain}
  2. ${certificates}
  3. run it as a service: ${join(dir, UNIT_FILE)} (instructions at its top), or in the foreground: postern --dir ${dir} serve`);
}
