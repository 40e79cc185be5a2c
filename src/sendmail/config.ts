// sendmail.conf (spec 8): YAML with a closed set of keys. Every error names the key and never
// repeats a secret.

import { readFileSync } from 'node:fs';
import { parseYamlText, YamlTextError } from '../config/yaml-text.js';
import { isFingerprint } from '../tls/fingerprint.js';
import { SendmailError } from './sendmail-error.js';

export const DEFAULT_CONFIG_PATH = '/etc/postern/sendmail.conf';

export type SendmailTls = 'implicit' | 'starttls' | 'none';

export type SendmailCredential =
  | { kind: 'password'; password: string }
  | { kind: 'clientKeyCertFile'; path: string }
  | { kind: 'clientEd25519Key'; value: string };

export interface SendmailConfig {
  host: string;
  port: number;
  tls: SendmailTls;
  tlsCA?: string;
  tlsPin?: string;
  tlsInsecure?: boolean;
  username?: string;
  credential: SendmailCredential;
  from?: string;
}

const KEYS = ['host', 'port', 'tls', 'tlsCA', 'tlsPin', 'tlsInsecure', 'username', 'password', 'clientKeyCertFile', 'clientEd25519Key', 'from'] as const;
// clientKeyCertFile names a file, but a key pasted in its place must not come back either.
const SECRET_KEYS = new Set(['password', 'clientEd25519Key', 'clientKeyCertFile']);
/** Default ports: submissions (RFC 8314) for implicit TLS, submission (RFC 6409) otherwise. */
const DEFAULT_PORT: Record<SendmailTls, number> = { implicit: 465, starttls: 587, none: 587 };

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

export function configPath(env: Record<string, string | undefined>): string {
  return env.POSTERN_SENDMAIL_CONFIG || DEFAULT_CONFIG_PATH;
}

/** Reads and validates the config file. */
export function loadSendmailConfig(path: string): SendmailConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SendmailError(`cannot read config ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYamlText(text);
  } catch (err) {
    // Only the position: the offending line could hold the password.
    if (err instanceof YamlTextError) throw new SendmailError(`config ${path}: ${err.message}${err.line ? ` at line ${err.line}` : ''}`);
    throw err;
  }
  return parseSendmailConfig(doc, path);
}

export function parseSendmailConfig(doc: unknown, path = 'sendmail.conf'): SendmailConfig {
  const bad = (key: string, why: string): never => {
    throw new SendmailError(`config ${path}: ${key}: ${why}`);
  };
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new SendmailError(`config ${path}: expected a mapping of keys to values`);
  const o = doc as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!(KEYS as readonly string[]).includes(k)) bad(k, `unknown key (known: ${KEYS.join(', ')})`);
  }
  const str = (key: string): string | undefined => {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || v.trim() === '') bad(key, SECRET_KEYS.has(key) ? 'must be a non-empty string' : `must be a non-empty string, got ${JSON.stringify(v)}`);
    return v as string;
  };
  const host = str('host') ?? bad('host', 'required');
  if (/[\s/]/.test(host)) bad('host', `not a host name or address: ${JSON.stringify(host)}`);
  const tlsRaw = o.tls ?? 'implicit';
  if (tlsRaw !== 'implicit' && tlsRaw !== 'starttls' && tlsRaw !== 'none') bad('tls', `must be implicit, starttls or none, got ${JSON.stringify(tlsRaw)}`);
  const tls = tlsRaw as SendmailTls;
  if (tls === 'none' && !isLoopback(host)) bad('tls', `none is only allowed towards a loopback address, not ${host}`);
  let port = DEFAULT_PORT[tls];
  if (o.port !== undefined && o.port !== null) {
    const p = typeof o.port === 'string' && /^\d+$/.test(o.port) ? Number(o.port) : o.port;
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 1 || p > 65535) bad('port', `must be a port number 1-65535, got ${JSON.stringify(o.port)}`);
    port = p as number;
  }
  const cfg: SendmailConfig = { host, port, tls, credential: { kind: 'password', password: '' } };
  const tlsCA = str('tlsCA');
  const tlsPin = str('tlsPin');
  if (o.tlsInsecure !== undefined && typeof o.tlsInsecure !== 'boolean') bad('tlsInsecure', `must be true or false, got ${JSON.stringify(o.tlsInsecure)}`);
  const tlsInsecure = o.tlsInsecure === true;
  if (tlsPin !== undefined && !isFingerprint(tlsPin)) bad('tlsPin', 'must be an SPKI SHA-256 fingerprint: 43 base64url characters');
  if ([tlsCA, tlsPin, tlsInsecure || undefined].filter((x) => x !== undefined).length > 1) bad('tlsCA', 'tlsCA, tlsPin and tlsInsecure are alternatives: set at most one');
  if (tls === 'none' && (tlsCA || tlsPin || tlsInsecure)) bad('tls', 'none does not go with tlsCA, tlsPin or tlsInsecure');
  if (tlsCA !== undefined) cfg.tlsCA = tlsCA;
  if (tlsPin !== undefined) cfg.tlsPin = tlsPin;
  if (tlsInsecure) cfg.tlsInsecure = true;
  const username = str('username');
  if (username !== undefined) cfg.username = username;
  const from = str('from');
  if (from !== undefined) {
    if (!/^[^\s@<>]+@[^\s@<>]+$/.test(from)) bad('from', `not an email address: ${JSON.stringify(from)}`);
    cfg.from = from;
  }
  const given = (['password', 'clientKeyCertFile', 'clientEd25519Key'] as const).filter((k) => o[k] !== undefined && o[k] !== null);
  if (given.length !== 1) {
    bad(given.length ? given.join(', ') : 'password', `exactly one credential is needed: password, clientKeyCertFile or clientEd25519Key${given.length ? ` (found ${given.length})` : ''}`);
  }
  const kind = given[0];
  const value = str(kind)!;
  if (kind === 'password') {
    if (username === undefined) bad('username', 'required with password');
    cfg.credential = { kind, password: value };
  } else if (kind === 'clientKeyCertFile') {
    cfg.credential = { kind, path: value };
  } else {
    cfg.credential = { kind, value };
  }
  return cfg;
}
