// Certificates obtained by ACME, one file per host name in DATA/acme/certs/<name>.pem: the private
// key followed by the certificate chain, replaced atomically (write, fsync, rename), so a reader never
// sees a key of one certificate with another's chain. The files are the source of truth: every
// process that serves TLS loads them and reloads when the directory changes (inotify), so a renewal
// written by one process reaches the listeners of all of them without a restart.
//
// For a TLS context builder: getCertificate(servername) gives the key and chain for a name, and
// sniCallback() plugs into node:tls (SNICallback). A name without a certificate here keeps the
// listener's default context (the configured tls.certFile).

import { mkdirSync, readdirSync, readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import { listenerTlsOptions } from '../tls/server-context.js';
import { MAX_CERT_FILE_SIZE, RELOAD_DEBOUNCE_MS } from './limits.js';
import { writeFileDurably } from '../util/durable-file.js';

export interface StoredCertificate {
  /** The host name the file is for. */
  name: string;
  keyPem: string;
  /** Leaf first, then intermediates. */
  chainPem: string;
  leaf: X509Certificate;
  /** DNS names of the leaf's subjectAltName. */
  dnsNames: string[];
  issuer: string;
  notBefore: Date;
  notAfter: Date;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]+?-----END \1-----\r?\n?/g;

/** The file name for a host name: lower-case, validated by the caller (config / store). */
function fileOf(dir: string, name: string): string {
  if (!/^[a-z0-9.-]+$/.test(name) || name.startsWith('.')) throw new Error(`not a host name: ${JSON.stringify(name)}`);
  return join(dir, `${name}.pem`);
}

/** Splits and checks "key + chain" text; throws on anything that is not a matching pair. */
export function parseCertificateFile(name: string, text: string): StoredCertificate {
  const blocks = text.match(PEM_BLOCK) ?? [];
  const keyPem = blocks.find((b) => /-----BEGIN (EC |RSA )?PRIVATE KEY-----/.test(b));
  const certs = blocks.filter((b) => b.startsWith('-----BEGIN CERTIFICATE-----'));
  if (!keyPem || certs.length === 0) throw new Error('needs a private key and a certificate');
  const leaf = new X509Certificate(certs[0]!);
  if (!leaf.checkPrivateKey(createPrivateKey(keyPem))) throw new Error('the key does not belong to the certificate');
  const dnsNames = (leaf.subjectAltName ?? '')
    .split(', ')
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice(4).toLowerCase());
  return {
    name,
    keyPem,
    chainPem: certs.join(''),
    leaf,
    dnsNames,
    issuer: leaf.issuer.replace(/\n/g, ', '),
    notBefore: new Date(leaf.validFrom),
    notAfter: new Date(leaf.validTo),
  };
}

export class CertificateStore {
  private readonly certs = new Map<string, StoredCertificate>();
  /** Contexts per name and client-certificate setting, built on first use after each (re)load. */
  private readonly contexts = new Map<string, SecureContext>();
  private watcher: FSWatcher | null = null;
  private reloadTimer: NodeJS.Timeout | null = null;
  /** Called after a reload with the names whose certificate changed. */
  onChange: ((names: string[]) => void) | null = null;
  /** Files that could not be loaded, by name (shown by `postern tls status`). */
  readonly errors = new Map<string, string>();

  constructor(readonly dir: string) {}

  /** Reads every certificate file; a broken file is skipped (and noted), never fatal. */
  load(): string[] {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const seen = new Set<string>();
    const changed: string[] = [];
    for (const f of readdirSync(this.dir)) {
      if (!f.endsWith('.pem')) continue;
      const name = f.slice(0, -4);
      seen.add(name);
      try {
        if (statSync(join(this.dir, f)).size > MAX_CERT_FILE_SIZE) throw new Error(`larger than ${MAX_CERT_FILE_SIZE} bytes`);
        const next = parseCertificateFile(name, readFileSync(join(this.dir, f), 'utf8'));
        const prev = this.certs.get(name);
        this.errors.delete(name);
        if (prev && prev.chainPem === next.chainPem && prev.keyPem === next.keyPem) continue;
        this.certs.set(name, next);
        changed.push(name);
      } catch (err) {
        // A half-written or damaged file leaves the certificate in use as it was.
        this.errors.set(name, (err as Error).message);
      }
    }
    for (const name of [...this.certs.keys()]) {
      if (!seen.has(name)) {
        this.certs.delete(name);
        changed.push(name);
      }
    }
    for (const name of changed) {
      this.contexts.delete(`${name}/0`);
      this.contexts.delete(`${name}/1`);
    }
    return changed;
  }

  /** Reloads when another process (or this one) replaces a file. */
  watch(): void {
    if (this.watcher) return;
    this.watcher = watch(this.dir, { persistent: false }, () => {
      if (this.reloadTimer) return;
      this.reloadTimer = setTimeout(() => {
        this.reloadTimer = null;
        const changed = this.load();
        if (changed.length > 0) this.onChange?.(changed);
      }, RELOAD_DEBOUNCE_MS);
      this.reloadTimer.unref();
    });
  }

  close(): void {
    this.watcher?.close();
    this.watcher = null;
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    this.reloadTimer = null;
  }

  /** The certificate for a host name (exact, case-insensitive), or null. */
  getCertificate(servername: string): StoredCertificate | null {
    return this.certs.get(servername.toLowerCase().replace(/\.$/, '')) ?? null;
  }

  list(): StoredCertificate[] {
    return [...this.certs.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** A listener context for the name (our TLS options), or undefined to keep the default one. */
  secureContext(servername: string, requestClientCertificate: boolean): SecureContext | undefined {
    const cert = this.getCertificate(servername);
    if (!cert) return undefined;
    const key = `${cert.name}/${requestClientCertificate ? 1 : 0}`;
    let ctx = this.contexts.get(key);
    if (!ctx) {
      ctx = createSecureContext(listenerTlsOptions({ key: cert.keyPem, cert: cert.chainPem, requestClientCertificate }));
      this.contexts.set(key, ctx);
    }
    return ctx;
  }

  /** node:tls SNICallback: the certificate for the requested name, else the listener's default. */
  sniCallback(requestClientCertificate: boolean): (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void) => void {
    return (servername, cb) => cb(null, this.secureContext(servername, requestClientCertificate));
  }

  /** Replaces the file for `name` atomically and loads it. */
  save(name: string, keyPem: string, chainPem: string): StoredCertificate {
    const parsed = parseCertificateFile(name, `${keyPem.trimEnd()}\n${chainPem}`);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    writeFileDurably(fileOf(this.dir, name), `${parsed.keyPem.trimEnd()}\n${parsed.chainPem}`, 0o600);
    this.load();
    return this.getCertificate(name)!;
  }
}
