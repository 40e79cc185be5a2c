// Loading and validating postern.conf (YAML). Every error names the key path and the bad value, and
// unknown keys are errors (a typo must not silently fall back to a default). A secret (a relay
// password) is never repeated in an error, nor is a private key pasted where a file name belongs.

import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { isIP } from 'node:net';
import { DEFAULT_IMAP_LIMITS, DEFAULT_PASSWORD_LIMITS, DEFAULT_SMTP_LIMITS } from './defaults.js';
import { DEFAULT_FAILURE_WINDOWS, type FailureWindow } from '../auth/limits.js';
import { isHostName } from './hostname.js';
import { parseSize } from './size.js';
import { DEFAULT_THRESHOLD } from '../junk/limits.js';
import { SERVICE_PORTS, type AcmeChallengeType, type AcmeConfig, type AuthPolicyConfig, type Config, type ListenerConfig, type ServiceName } from './types.js';
import { MAX_CONFIG_SIZE, parseYamlText, YamlTextError } from './yaml-text.js';

export { MAX_CONFIG_SIZE } from './yaml-text.js';

export const CONFIG_FILE = 'postern.conf';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  return JSON.stringify(v) ?? String(v);
}

function checkKeys(o: Obj, path: string, allowed: string[]): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw new ConfigError(`${path ? path + '.' : ''}${k}: unknown key (allowed: ${allowed.join(', ')})`);
  }
}

function obj(v: unknown, path: string): Obj {
  if (!isObj(v)) throw new ConfigError(`${path}: must be a mapping, got ${show(v)}`);
  return v;
}

function str(v: unknown, path: string): string {
  if (typeof v !== 'string' || v.length === 0) throw new ConfigError(`${path}: must be a non-empty string, got ${show(v)}`);
  return v;
}

/** A secret: its errors say what is wrong with the value without showing it. */
function secretStr(v: unknown, path: string): string {
  if (typeof v !== 'string' || v.length === 0) throw new ConfigError(`${path}: must be a non-empty string (a ${v === null ? 'null' : Array.isArray(v) ? 'list' : typeof v} was given)`);
  return v;
}

/**
 * The name of a file that holds a private key. A PEM pasted in its place must not come back in the
 * "cannot read" error or a log line.
 */
function keyFileName(v: unknown, path: string): string {
  if (typeof v === 'string' && (v.includes('-----BEGIN') || /[\r\n]/.test(v))) {
    throw new ConfigError(`${path}: must be the name of a PEM file, not the key itself`);
  }
  return str(v, path);
}

function int(v: unknown, path: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ConfigError(`${path}: must be a whole number from ${min} to ${max}, got ${show(v)}`);
  }
  return v;
}

function bool(v: unknown, path: string): boolean {
  if (typeof v !== 'boolean') throw new ConfigError(`${path}: must be true or false, got ${show(v)}`);
  return v;
}

function parseListener(name: string, v: unknown): ListenerConfig {
  const path = `listeners.${name}`;
  const o = obj(v, path);
  checkKeys(o, path, ['ips', 'portBase', 'services', 'ports', 'requestClientCertificates']);
  if (!Array.isArray(o.ips) || o.ips.length === 0) throw new ConfigError(`${path}.ips: must be a non-empty list of IP addresses, got ${show(o.ips)}`);
  const ips = o.ips.map((ip, i) => {
    if (typeof ip !== 'string' || !isIP(ip)) throw new ConfigError(`${path}.ips[${i}]: not an IP address: ${show(ip)}`);
    return ip;
  });
  const base = o.portBase === undefined ? 0 : int(o.portBase, `${path}.portBase`, 0, 65535 - 993);
  const all = Object.keys(SERVICE_PORTS) as ServiceName[];
  let services = all;
  if (o.services !== undefined) {
    if (!Array.isArray(o.services)) throw new ConfigError(`${path}.services: must be a list, got ${show(o.services)}`);
    services = o.services.map((s, i) => {
      if (!all.includes(s as ServiceName)) throw new ConfigError(`${path}.services[${i}]: unknown service ${show(s)} (known: ${all.join(', ')})`);
      return s as ServiceName;
    });
  }
  const ports: Partial<Record<ServiceName, number>> = {};
  for (const s of services) ports[s] = base + SERVICE_PORTS[s];
  if (o.ports !== undefined) {
    const p = obj(o.ports, `${path}.ports`);
    checkKeys(p, `${path}.ports`, all);
    for (const [k, val] of Object.entries(p)) {
      if (!services.includes(k as ServiceName)) throw new ConfigError(`${path}.ports.${k}: service ${k} is not enabled in services`);
      ports[k as ServiceName] = int(val, `${path}.ports.${k}`, 0, 65535);
    }
  }
  const requestClientCertificates = o.requestClientCertificates === undefined ? true : bool(o.requestClientCertificates, `${path}.requestClientCertificates`);
  return { name, ips, ports, requestClientCertificates };
}

function parseLimits<T extends object>(v: unknown, path: string, defaults: T): T {
  const out = { ...defaults } as Record<string, number>;
  if (v === undefined) return out as T;
  const o = obj(v, path);
  checkKeys(o, path, Object.keys(defaults));
  for (const [k, val] of Object.entries(o)) out[k] = int(val, `${path}.${k}`, 0, Number.MAX_SAFE_INTEGER);
  return out as T;
}

/** A failure budget as [address, middle subnet, large subnet]. */
function budget(v: unknown, path: string): [number, number, number] {
  if (!Array.isArray(v) || v.length !== 3) throw new ConfigError(`${path}: must be a list of 3 numbers [address, subnet, large subnet], got ${show(v)}`);
  return v.map((n, i) => int(n, `${path}[${i}]`, 1, 1_000_000)) as [number, number, number];
}

/** The `auth:` section (attempt policy, auth/limits.ts). */
function parseAuth(v: unknown): Partial<AuthPolicyConfig> {
  const o = obj(v, 'auth');
  checkKeys(o, 'auth', ['failuresBeforeDelay', 'maxDelayMs', 'maxFailuresPerConnection', 'failuresPerMinute', 'failuresPerDay', 'cleartextFromLoopback']);
  const out: Partial<AuthPolicyConfig> = {};
  if (o.failuresBeforeDelay !== undefined) out.failuresBeforeDelay = int(o.failuresBeforeDelay, 'auth.failuresBeforeDelay', 0, 1000);
  if (o.maxDelayMs !== undefined) out.maxDelayMs = int(o.maxDelayMs, 'auth.maxDelayMs', 0, 300_000);
  if (o.maxFailuresPerConnection !== undefined) out.maxFailuresPerConnection = int(o.maxFailuresPerConnection, 'auth.maxFailuresPerConnection', 1, 1000);
  if (o.failuresPerMinute !== undefined || o.failuresPerDay !== undefined) {
    const [minute, day] = DEFAULT_FAILURE_WINDOWS as [FailureWindow, FailureWindow];
    out.windows = [
      { ms: minute.ms, limits: o.failuresPerMinute === undefined ? minute.limits : budget(o.failuresPerMinute, 'auth.failuresPerMinute') },
      { ms: day.ms, limits: o.failuresPerDay === undefined ? day.limits : budget(o.failuresPerDay, 'auth.failuresPerDay') },
    ];
  }
  if (o.cleartextFromLoopback !== undefined) out.cleartextFromLoopback = bool(o.cleartextFromLoopback, 'auth.cleartextFromLoopback');
  return out;
}

const SELECTOR = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

function parseDkim(v: unknown, dir: string): Config['dkim'] {
  if (v === undefined) return {};
  const o = obj(v, 'dkim');
  const out: Config['dkim'] = {};
  for (const [domain, list] of Object.entries(o)) {
    const path = `dkim.${domain}`;
    if (!isHostName(domain)) throw new ConfigError(`${path}: not a valid domain`);
    if (!Array.isArray(list) || list.length === 0) throw new ConfigError(`${path}: must be a non-empty list of {selector, keyFile}`);
    out[domain.toLowerCase()] = list.map((item, i) => {
      const e = obj(item, `${path}[${i}]`);
      checkKeys(e, `${path}[${i}]`, ['selector', 'keyFile']);
      const selector = str(e.selector, `${path}[${i}].selector`);
      if (!SELECTOR.test(selector)) throw new ConfigError(`${path}[${i}].selector: not a valid selector: ${show(selector)}`);
      const keyFile = keyFileName(e.keyFile, `${path}[${i}].keyFile`);
      return { selector, keyFile: isAbsolute(keyFile) ? keyFile : join(dir, keyFile) };
    });
  }
  return out;
}

const TLS_MODES = ['implicit', 'starttls', 'opportunistic', 'none'] as const;

function parseTransports(v: unknown): Config['transports'] {
  if (v === undefined) return {};
  const o = obj(v, 'transports');
  const out: Config['transports'] = {};
  for (const [domain, t] of Object.entries(o)) {
    const path = `transports.${domain}`;
    if (domain !== '*' && !isHostName(domain)) throw new ConfigError(`${path}: not a valid domain (or "*" for all others)`);
    const e = obj(t, path);
    checkKeys(e, path, ['host', 'port', 'tls', 'tlsInsecure', 'username', 'password']);
    const tls = e.tls === undefined ? 'opportunistic' : e.tls;
    if (!TLS_MODES.includes(tls as (typeof TLS_MODES)[number])) throw new ConfigError(`${path}.tls: must be one of ${TLS_MODES.join(', ')}, got ${show(tls)}`);
    if ((e.username === undefined) !== (e.password === undefined)) throw new ConfigError(`${path}: username and password go together`);
    out[domain.toLowerCase()] = {
      host: str(e.host, `${path}.host`),
      port: int(e.port, `${path}.port`, 1, 65535),
      tls: tls as (typeof TLS_MODES)[number],
      tlsInsecure: e.tlsInsecure === undefined ? false : bool(e.tlsInsecure, `${path}.tlsInsecure`),
      ...(e.username !== undefined ? { username: str(e.username, `${path}.username`), password: secretStr(e.password, `${path}.password`) } : {}),
    };
  }
  return out;
}

function parseQuota(v: unknown): Config['quota'] {
  if (v === undefined) return { default: null };
  const o = obj(v, 'quota');
  checkKeys(o, 'quota', ['default']);
  if (o.default === undefined) return { default: null };
  const size = typeof o.default === 'number' || typeof o.default === 'string' ? parseSize(String(o.default)) : undefined;
  if (size === undefined) throw new ConfigError(`quota.default: must be bytes, a size with K, M or G, or none; got ${show(o.default)}`);
  return { default: size };
}

function parseOutbound(v: unknown): Config['outbound'] {
  if (v === undefined) return { allowPrivateAddresses: false, mtaSts: true, dnssecResolver: null };
  const o = obj(v, 'outbound');
  checkKeys(o, 'outbound', ['allowPrivateAddresses', 'mtaSts', 'dnssecResolver']);
  return {
    allowPrivateAddresses: o.allowPrivateAddresses === undefined ? false : bool(o.allowPrivateAddresses, 'outbound.allowPrivateAddresses'),
    mtaSts: o.mtaSts === undefined ? true : bool(o.mtaSts, 'outbound.mtaSts'),
    dnssecResolver: o.dnssecResolver === undefined || o.dnssecResolver === null ? null : parseDnssecResolver(o.dnssecResolver),
  };
}

/** outbound.dnssecResolver: an address as dns.resolver takes, on loopback only: the AD bit of a
 * resolver elsewhere reaches us over an unprotected path (RFC 7672 2.2), so DANE could not rely on it. */
function parseDnssecResolver(v: unknown): { host: string; port: number } {
  const path = 'outbound.dnssecResolver';
  const a = typeof v === 'string' ? resolverAddress(v) : null;
  if (!a) throw new ConfigError(`${path}: must be an IP address with an optional port; got ${show(v)}`);
  if (!(a.host === '::1' || (isIP(a.host) === 4 && a.host.startsWith('127.')))) throw new ConfigError(`${path}: must be a resolver on loopback (its DNSSEC answers are trusted); got ${show(v)}`);
  return a;
}

const ACME_CHALLENGES = ['tls-alpn-01', 'http-01'] as const;

/** tls.acme; absent or `false` means no ACME. */
function parseAcme(v: unknown, resolve: (p: string) => string): AcmeConfig | undefined {
  if (v === undefined || v === false) return undefined;
  const o = obj(v, 'tls.acme');
  checkKeys(o, 'tls.acme', ['directoryUrl', 'contact', 'names', 'challenges', 'caFile']);
  const directoryUrl = str(o.directoryUrl, 'tls.acme.directoryUrl');
  if (!/^https:\/\/[^\s]+$/i.test(directoryUrl)) throw new ConfigError(`tls.acme.directoryUrl: must be an https:// URL, got ${show(directoryUrl)}`);
  const contactList = o.contact === undefined ? [] : Array.isArray(o.contact) ? o.contact : [o.contact];
  const contact = contactList.map((c, i) => {
    const s = str(c, `tls.acme.contact[${i}]`);
    const url = s.includes(':') ? s : `mailto:${s}`;
    if (!/^mailto:[^@\s]+@[^@\s]+$/i.test(url)) throw new ConfigError(`tls.acme.contact[${i}]: must be an email address or mailto: URL, got ${show(s)}`);
    return url;
  });
  const names: Record<string, boolean> = {};
  if (o.names !== undefined) {
    for (const [name, on] of Object.entries(obj(o.names, 'tls.acme.names'))) {
      if (!isHostName(name) || !name.includes('.')) throw new ConfigError(`tls.acme.names.${name}: not a fully qualified host name`);
      names[name.toLowerCase()] = bool(on, `tls.acme.names.${name}`);
    }
  }
  let challenges: AcmeChallengeType[] = [...ACME_CHALLENGES];
  if (o.challenges !== undefined) {
    if (!Array.isArray(o.challenges) || o.challenges.length === 0) throw new ConfigError(`tls.acme.challenges: must be a non-empty list, got ${show(o.challenges)}`);
    challenges = o.challenges.map((c, i) => {
      if (!ACME_CHALLENGES.includes(c as AcmeChallengeType)) throw new ConfigError(`tls.acme.challenges[${i}]: must be one of ${ACME_CHALLENGES.join(', ')}, got ${show(c)}`);
      return c as AcmeChallengeType;
    });
  }
  return { directoryUrl, contact, names, challenges, ...(o.caFile !== undefined ? { caFile: resolve(str(o.caFile, 'tls.acme.caFile')) } : {}) };
}

function parseDns(v: unknown): Config['dns'] {
  if (v === undefined) return { resolver: null };
  const o = obj(v, 'dns');
  checkKeys(o, 'dns', ['resolver']);
  if (o.resolver === undefined) return { resolver: null };
  const r = str(o.resolver, 'dns.resolver');
  if (!resolverAddress(r)) throw new ConfigError(`dns.resolver: must be IP[:port] or [IPv6]:port, got ${show(r)}`);
  return { resolver: r };
}

/** "IP", "IPv4:port" or "[IPv6]:port" (the forms node:dns setServers takes), or null. */
export function resolverAddress(s: string): { host: string; port: number } | null {
  if (isIP(s)) return { host: s, port: 53 };
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|(\d+\.\d+\.\d+\.\d+)):(\d{1,5})$/.exec(s);
  if (!m) return null;
  const host = m[1] ?? m[2]!;
  const port = Number(m[3]);
  if (!isIP(host) || port < 1 || port > 65535) return null;
  return { host, port };
}

const MTA_STS_MODES = ['testing', 'enforce', 'none'] as const;
/** RFC 8461 3.2: max_age up to 31557600 seconds (a year); a week is the common choice. */
const MTA_STS_MAX_AGE = 31557600;

function parseMtaSts(v: unknown): Config['mtaSts'] {
  const out: Config['mtaSts'] = { mode: 'testing', maxAgeSeconds: 604800 };
  if (v === undefined) return out;
  const o = obj(v, 'mtaSts');
  checkKeys(o, 'mtaSts', ['mode', 'maxAge']);
  if (o.mode !== undefined) {
    if (!MTA_STS_MODES.includes(o.mode as (typeof MTA_STS_MODES)[number])) throw new ConfigError(`mtaSts.mode: must be one of ${MTA_STS_MODES.join(', ')}, got ${show(o.mode)}`);
    out.mode = o.mode as (typeof MTA_STS_MODES)[number];
  }
  if (o.maxAge !== undefined) out.maxAgeSeconds = int(o.maxAge, 'mtaSts.maxAge', 1, MTA_STS_MAX_AGE);
  return out;
}

function parseDmarc(v: unknown): NonNullable<Config['dmarc']> {
  if (v === undefined) return { exceptions: [], enforce: true, reportAddresses: [] };
  const o = obj(v, 'dmarc');
  checkKeys(o, 'dmarc', ['exceptions', 'enforce', 'reportAddresses']);
  const enforce = o.enforce === undefined ? true : bool(o.enforce, 'dmarc.enforce');
  if (o.reportAddresses !== undefined && !Array.isArray(o.reportAddresses)) throw new ConfigError(`dmarc.reportAddresses: must be a list of addresses; got ${show(o.reportAddresses)}`);
  const reportAddresses = ((o.reportAddresses ?? []) as unknown[]).map((a, i) => {
    const addr = str(a, `dmarc.reportAddresses[${i}]`).toLowerCase();
    if (!/^[^@\s]+@[^@\s]+$/.test(addr)) throw new ConfigError(`dmarc.reportAddresses[${i}]: not an address: ${show(a)}`);
    return addr;
  });
  if (o.exceptions === undefined) return { exceptions: [], enforce, reportAddresses };
  if (!Array.isArray(o.exceptions)) throw new ConfigError(`dmarc.exceptions: must be a list of domains; got ${show(o.exceptions)}`);
  return {
    exceptions: o.exceptions.map((d, i) => {
      const name = str(d, `dmarc.exceptions[${i}]`).toLowerCase().replace(/\.$/, '');
      if (!isHostName(name)) throw new ConfigError(`dmarc.exceptions[${i}]: not a domain: ${show(d)}`);
      return name;
    }),
    enforce,
    reportAddresses,
  };
}

function parseJunk(v: unknown): NonNullable<Config['junk']> {
  if (v === undefined) return { enabled: true, threshold: DEFAULT_THRESHOLD };
  const o = obj(v, 'junk');
  checkKeys(o, 'junk', ['enabled', 'threshold']);
  const threshold = o.threshold === undefined ? DEFAULT_THRESHOLD : o.threshold;
  if (typeof threshold !== 'number' || !(threshold > 0 && threshold <= 1)) throw new ConfigError(`junk.threshold: must be a number above 0 and at most 1; got ${show(threshold)}`);
  return { enabled: o.enabled === undefined ? true : bool(o.enabled, 'junk.enabled'), threshold };
}

/** Most worker processes `serve` forks (`workers`, `--workers`). */
export const MAX_WORKERS = 256;

/** RFC 5464 3.2.1.1: the IMAP /shared/admin value is a URI, e.g. mailto: or tel:. */
function parseAdminContact(v: unknown): string {
  const s = str(v, 'adminContact');
  if (s.length > 1024 || !/^[a-z][a-z0-9+.-]*:[\x21-\x7e]+$/i.test(s)) throw new ConfigError(`adminContact: must be a URI such as mailto:admin@example.org or tel:+15550100, got ${show(s)}`);
  return s;
}

/** Validates a parsed YAML document; `dir` resolves relative file names. */
export function parseConfig(doc: unknown, dir: string): Config {
  const o = obj(doc ?? null, '(top level)');
  checkKeys(o, '', ['hostname', 'tls', 'listeners', 'limits', 'authFailureDelayMs', 'auth', 'dkim', 'transports', 'quota', 'outbound', 'dns', 'mtaSts', 'dmarc', 'junk', 'workers', 'adminContact']);
  const hostname = str(o.hostname, 'hostname');
  if (!isHostName(hostname)) throw new ConfigError(`hostname: not a valid host name: ${show(hostname)}`);
  let tls: Config['tls'] = null;
  if (o.tls !== undefined) {
    const t = obj(o.tls, 'tls');
    checkKeys(t, 'tls', ['certFile', 'keyFile', 'acme']);
    const resolve = (p: string) => (isAbsolute(p) ? p : join(dir, p));
    tls = { certFile: resolve(str(t.certFile, 'tls.certFile')), keyFile: resolve(keyFileName(t.keyFile, 'tls.keyFile')) };
    const acme = parseAcme(t.acme, resolve);
    if (acme) tls.acme = acme;
  }
  const ls = obj(o.listeners, 'listeners');
  const listeners = Object.entries(ls).map(([name, v]) => parseListener(name, v));
  if (listeners.length === 0) throw new ConfigError('listeners: at least one listener is needed');
  const limits = obj(o.limits ?? {}, 'limits');
  checkKeys(limits, 'limits', ['imap', 'smtp', 'passwords']);
  const authFailureDelayMs = o.authFailureDelayMs === undefined ? 1000 : int(o.authFailureDelayMs, 'authFailureDelayMs', 0, 60000);
  const config: Config = {
    dir,
    hostname: hostname.toLowerCase(),
    tls,
    listeners,
    limits: {
      imap: parseLimits(limits.imap, 'limits.imap', DEFAULT_IMAP_LIMITS),
      smtp: parseLimits(limits.smtp, 'limits.smtp', DEFAULT_SMTP_LIMITS),
      passwords: parseLimits(limits.passwords, 'limits.passwords', DEFAULT_PASSWORD_LIMITS),
    },
    authFailureDelayMs,
    ...(o.auth !== undefined ? { auth: parseAuth(o.auth) } : {}),
    dkim: parseDkim(o.dkim, dir),
    transports: parseTransports(o.transports),
    quota: parseQuota(o.quota),
    outbound: parseOutbound(o.outbound),
    dns: parseDns(o.dns),
    mtaSts: parseMtaSts(o.mtaSts),
    dmarc: parseDmarc(o.dmarc),
    junk: parseJunk(o.junk),
    ...(o.workers !== undefined && { workers: int(o.workers, 'workers', 1, MAX_WORKERS) }),
    ...(o.adminContact !== undefined ? { adminContact: parseAdminContact(o.adminContact) } : {}),
  };
  const needsTls = listeners.some((l) => l.ports.imaps !== undefined || l.ports.submissions !== undefined || l.ports.https !== undefined);
  if (needsTls && !tls) throw new ConfigError('tls: imaps, submissions and https listeners need tls.certFile and tls.keyFile');
  return config;
}

/** Reads DIR/postern.conf; throws ConfigError with a one-line message on any problem. */
export function loadConfig(dir: string): Config {
  const file = join(dir, CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(code === 'ENOENT' ? `${file}: no such file (run "postern quickstart" first)` : `${file}: ${(err as Error).message}`);
  }
  if (text.length > MAX_CONFIG_SIZE) throw new ConfigError(`${file}: larger than ${MAX_CONFIG_SIZE / 1024} KiB, not a Postern config`);
  let value: unknown;
  try {
    value = parseYamlText(text);
  } catch (err) {
    if (err instanceof YamlTextError) throw new ConfigError(`${file}${err.line ? `:${err.line}:${err.col}` : ''}: ${err.message}`);
    throw err;
  }
  try {
    const config = parseConfig(value, dir);
    for (const f of config.tls ? [config.tls.certFile, config.tls.keyFile] : []) {
      try {
        readFileSync(f);
      } catch {
        throw new ConfigError(`tls: cannot read ${f}`);
      }
    }
    return config;
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(`${file}: ${err.message}`);
    throw err;
  }
}
