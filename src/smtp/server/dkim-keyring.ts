// The DKIM keys of our domains, kept in DIR/dkim/: one PEM file per key and a manifest (keys.json)
// listing every key per domain with its selector, algorithm and creation time. The CLI writes the
// manifest (atomically: write, fsync, rename); the running server reads it again when it changes,
// checked at most every MANIFEST_RECHECK_MS, so a new domain or a rotation needs no restart.
//
// Signing uses the newest key per algorithm. Older keys stay listed (and their DNS records stay
// published) until `postern dkim rm` removes them, so mail signed before a rotation still verifies
// while it is in flight (RFC 6376 3.1: selectors exist for exactly this).

import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { generateDkimKey, publicKeyRecord, type DkimAlgorithm } from './dkim-keys.js';
import { writeFileDurably } from '../../util/durable-file.js';

export const DKIM_DIR = 'dkim';
export const MANIFEST_FILE = 'keys.json';
const MANIFEST_RECHECK_MS = 1000;

export interface DkimKeyEntry {
  selector: string;
  algorithm: DkimAlgorithm;
  /** File name inside DIR/dkim/. */
  file: string;
  /** ISO 8601 creation time: the newest key per algorithm signs. */
  created: string;
}

export interface DkimManifest {
  version: 1;
  domains: Record<string, DkimKeyEntry[]>;
}

export class DkimKeyringError extends Error {
  constructor(
    message: string,
    readonly code: 'notfound' | 'exists' | 'corrupt' | 'inuse',
  ) {
    super(message);
    this.name = 'DkimKeyringError';
  }
}

function normDomain(domain: string): string {
  return domain.toLowerCase().replace(/\.$/, '');
}

function manifestPath(dir: string): string {
  return join(dir, DKIM_DIR, MANIFEST_FILE);
}

export function readManifest(dir: string): DkimManifest {
  let text: string;
  try {
    text = readFileSync(manifestPath(dir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, domains: {} };
    throw err;
  }
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    throw new DkimKeyringError(`${manifestPath(dir)}: not valid JSON`, 'corrupt');
  }
  const o = m as DkimManifest;
  if (!o || o.version !== 1 || typeof o.domains !== 'object' || o.domains === null) {
    throw new DkimKeyringError(`${manifestPath(dir)}: not a DKIM key manifest (version 1)`, 'corrupt');
  }
  return o;
}

function writeManifest(dir: string, m: DkimManifest): void {
  writeFileDurably(manifestPath(dir), JSON.stringify(m, null, 2) + '\n', 0o640);
}

/** Selectors name the day of creation and the algorithm: d20261204e, d20261204r, then d20261204e2... */
function newSelector(existing: DkimKeyEntry[], algorithm: DkimAlgorithm, now: Date): string {
  const day = now.toISOString().slice(0, 10).replace(/-/g, '');
  const base = `d${day}${algorithm === 'ed25519' ? 'e' : 'r'}`;
  const taken = new Set(existing.map((e) => e.selector));
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) if (!taken.has(`${base}${n}`)) return `${base}${n}`;
}

/** Adds one new Ed25519 and one new RSA-2048 key for the domain; returns the new entries. */
export function addDomainKeys(dir: string, domain: string, now: Date = new Date()): DkimKeyEntry[] {
  const d = normDomain(domain);
  mkdirSync(join(dir, DKIM_DIR), { recursive: true, mode: 0o750 });
  const m = readManifest(dir);
  const list = m.domains[d] ?? [];
  const added: DkimKeyEntry[] = [];
  for (const algorithm of ['ed25519', 'rsa'] as const) {
    const selector = newSelector(list, algorithm, now);
    const file = `${d}.${selector}.pem`;
    writeFileDurably(join(dir, DKIM_DIR, file), generateDkimKey(algorithm).privateKeyPem, 0o600);
    const e: DkimKeyEntry = { selector, algorithm, file, created: now.toISOString() };
    list.push(e);
    added.push(e);
  }
  m.domains[d] = list;
  // The manifest last: the server never sees an entry whose key file is not there yet.
  writeManifest(dir, m);
  return added;
}

/** Keys for a domain that has none yet (a new domain); an existing set is left alone. */
export function ensureDomainKeys(dir: string, domain: string): DkimKeyEntry[] {
  const d = normDomain(domain);
  if ((readManifest(dir).domains[d] ?? []).length > 0) return [];
  return addDomainKeys(dir, d);
}

export function removeDomainKey(dir: string, domain: string, selector: string): void {
  const d = normDomain(domain);
  const m = readManifest(dir);
  const list = m.domains[d] ?? [];
  const e = list.find((x) => x.selector === selector);
  if (!e) throw new DkimKeyringError(`no DKIM key ${selector} for ${d}`, 'notfound');
  // The signing key of its algorithm cannot go: rotate first, so mail is never left unsigned.
  if (signingEntries(list).includes(e)) {
    throw new DkimKeyringError(`${selector} is the newest ${e.algorithm} key of ${d} and signs mail; run "postern dkim rotate ${d}" first`, 'inuse');
  }
  m.domains[d] = list.filter((x) => x !== e);
  if (m.domains[d]!.length === 0) delete m.domains[d];
  writeManifest(dir, m);
  try {
    unlinkSync(join(dir, DKIM_DIR, e.file));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** The newest entry per algorithm (ties broken by selector), Ed25519 first. */
export function signingEntries(list: readonly DkimKeyEntry[]): DkimKeyEntry[] {
  const out: DkimKeyEntry[] = [];
  for (const algorithm of ['ed25519', 'rsa'] as const) {
    let best: DkimKeyEntry | undefined;
    for (const e of list) {
      if (e.algorithm !== algorithm) continue;
      if (!best || e.created > best.created || (e.created === best.created && e.selector > best.selector)) best = e;
    }
    if (best) out.push(best);
  }
  return out;
}

/** The TXT record value for a key entry (RFC 6376 3.6.1), derived from its private key file. */
export function entryDnsRecord(dir: string, e: DkimKeyEntry): string {
  const pub = createPublicKey(createPrivateKey(readFileSync(join(dir, DKIM_DIR, e.file))));
  return publicKeyRecord(pub);
}

/** Server side: the signing keys per domain from the manifest, reread when the file changes. */
export class DkimKeyring {
  private manifest: DkimManifest = { version: 1, domains: {} };
  private version = '';
  private checkedAt = -Infinity;

  constructor(private readonly dir: string) {}

  /** Selector and key file of each key that signs mail from `domain`. */
  signingKeys(domain: string): { selector: string; keyFile: string }[] {
    this.refresh();
    const list = this.manifest.domains[normDomain(domain)] ?? [];
    return signingEntries(list).map((e) => ({ selector: e.selector, keyFile: join(this.dir, DKIM_DIR, e.file) }));
  }

  private refresh(): void {
    const now = Date.now();
    if (now - this.checkedAt < MANIFEST_RECHECK_MS && now >= this.checkedAt) return;
    this.checkedAt = now;
    let version = 'absent';
    try {
      const st = statSync(manifestPath(this.dir));
      version = `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (version === this.version) return;
    this.manifest = readManifest(this.dir);
    this.version = version;
  }
}

const keyrings = new Map<string, DkimKeyring>();

/**
 * The keys that sign mail from `domain`: those listed under `dkim:` in the config when the admin
 * listed any for it (every one signs, as configured), else the newest per algorithm in DIR/dkim/.
 */
export function dkimKeysFor(config: { dir: string; dkim: Record<string, { selector: string; keyFile: string }[]> }, domain: string): { selector: string; keyFile: string }[] {
  const configured = config.dkim[normDomain(domain)];
  if (configured && configured.length > 0) return configured;
  let ring = keyrings.get(config.dir);
  if (!ring) keyrings.set(config.dir, (ring = new DkimKeyring(config.dir)));
  return ring.signingKeys(domain);
}
