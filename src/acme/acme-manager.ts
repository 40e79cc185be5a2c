// Obtains and renews the certificates of DATA/acme/certs/ (RFC 8555), one per host name:
// - an account key in DATA/acme/account.key.pem, created on first use;
// - per name an order with one authorization, answered by tls-alpn-01 (RFC 8737) or http-01
//   (RFC 8555 8.3), whichever comes first in tls.acme.challenges and has a listener running;
// - renewal at two thirds of the lifetime, or earlier inside the CA's renewal window (RFC 9773);
// - a failed order keeps the old certificate, is logged, recorded in status.json and retried with
//   a doubling delay.
// The certificate key is kept across renewals (created once per name), so a DANE TLSA record of
// type 3 1 1 (SPKI) stays valid; deleting the name's file makes a new key at the next order.

import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { join } from 'node:path';
import { createSecureContext, rootCertificates } from 'node:tls';
import * as acme from 'acme-client';
import type { AcmeChallengeType, AcmeConfig } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import { ariCertId, parseRenewalInfo, pickInWindow, type RenewalWindow } from './ari.js';
import { type CertificateStore, type StoredCertificate } from './certificate-store.js';
import { writeFileDurably } from '../util/durable-file.js';
import type { ChallengeResponder } from './challenge-responder.js';
import { STOP_WAIT_MS, MAX_TIMER_MS, NAMES_REFRESH_MS, POLL_ATTEMPTS, POLL_MAX_MS, POLL_MIN_MS, RENEW_AT_FRACTION, RETRY_MAX_MS, RETRY_MIN_MS } from './limits.js';
import { createAlpnCertificatePem, createCsrPem } from './csr.js';
import { certificateNames } from './names.js';
import { ACCOUNT_URL_FILE, emptyNameStatus, readStatus, writeStatus, type AcmeStatus } from './status-file.js';

export const ACCOUNT_KEY_FILE = 'account.key.pem';

export interface AcmeManagerOptions {
  acme: AcmeConfig;
  hostname: string;
  /** DATA/acme */
  acmeDir: string;
  certificates: CertificateStore;
  challenges: ChallengeResponder;
  /** Challenge types whose listener runs (http-01: an HTTP listener; tls-alpn-01: an HTTPS one). */
  available: Set<AcmeChallengeType>;
  /** The mail domains (from the store): each gets mta-sts. and autoconfig. names. */
  domains: () => Promise<string[]>;
  log: Logger;
  now?: () => number;
}

/** When a certificate is due by its lifetime alone (RFC 8555 leaves the choice to the client). */
export function renewalDueAt(cert: StoredCertificate): Date {
  const from = cert.notBefore.getTime();
  return new Date(from + Math.floor((cert.notAfter.getTime() - from) * RENEW_AT_FRACTION));
}

export function retryDelayMs(failures: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.max(0, failures - 1));
}

export class AcmeManager {
  private readonly status: AcmeStatus;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly windows = new Map<string, RenewalWindow & { pick: Date; serial: string }>();
  private names: string[] = [];
  private client: acme.Client | null = null;
  private directory: Record<string, unknown> | null = null;
  private chain: Promise<void> = Promise.resolve();
  private namesTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly now: () => number;

  constructor(private readonly o: AcmeManagerOptions) {
    this.now = o.now ?? Date.now;
    mkdirSync(o.acmeDir, { recursive: true, mode: 0o700 });
    this.status = readStatus(o.acmeDir);
    if (o.acme.caFile) {
      // acme-client shares one HTTP client per process; a private CA's root is added to the public ones.
      acme.axios.defaults.httpsAgent = new Agent({ ca: [...rootCertificates, readFileSync(o.acme.caFile, 'utf8')] });
    }
  }

  async start(): Promise<void> {
    await this.refreshNames();
    this.namesTimer = setInterval(() => void this.refreshNames().catch((err) => this.o.log.error('acme: reading the domains failed', { err })), NAMES_REFRESH_MS);
    this.namesTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.namesTimer) clearInterval(this.namesTimer);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    // An order in flight is abandoned (its status stays pending at the CA) rather than holding up shutdown.
    await Promise.race([this.chain.catch(() => {}), new Promise((r) => setTimeout(r, STOP_WAIT_MS).unref())]);
  }

  /** The names being managed, in order. */
  managedNames(): string[] {
    return [...this.names];
  }

  /** Resolves once every order queued so far has finished (tests, and `stop`). */
  idle(): Promise<void> {
    return this.chain;
  }

  private async refreshNames(): Promise<void> {
    const names = certificateNames(this.o.hostname, await this.o.domains(), this.o.acme);
    for (const gone of this.names.filter((n) => !names.includes(n))) {
      clearTimeout(this.timers.get(gone));
      this.timers.delete(gone);
      delete this.status.names[gone];
    }
    const added = names.filter((n) => !this.names.includes(n));
    this.names = names;
    for (const n of added) this.status.names[n] ??= emptyNameStatus();
    this.saveStatus();
    for (const n of added) this.plan(n);
  }

  /** Arms the timer for `name`: its next renewal, a failure's retry, or the next ARI poll. */
  private plan(name: string): void {
    if (this.stopped) return;
    const st = (this.status.names[name] ??= emptyNameStatus());
    const cert = this.o.certificates.getCertificate(name);
    let due: number;
    if (st.failures > 0 && st.lastAttempt) due = Date.parse(st.lastAttempt) + retryDelayMs(st.failures);
    else if (!cert || !cert.dnsNames.includes(name)) due = this.now();
    else {
      due = renewalDueAt(cert).getTime();
      const w = this.windows.get(name);
      if (w && w.serial === cert.leaf.serialNumber) due = Math.min(due, w.pick.getTime());
    }
    st.nextRenewal = new Date(due).toISOString();
    this.saveStatus();
    const w = this.windows.get(name);
    const wake = Math.min(due, cert && st.failures === 0 ? (w?.pollAt.getTime() ?? this.now()) : due, this.now() + MAX_TIMER_MS);
    clearTimeout(this.timers.get(name));
    const timer = setTimeout(() => this.wake(name, due), Math.max(0, wake - this.now()));
    timer.unref();
    this.timers.set(name, timer);
  }

  private wake(name: string, due: number): void {
    this.timers.delete(name);
    this.chain = this.chain.then(async () => {
      if (this.stopped || !this.names.includes(name)) return;
      if (due <= this.now()) await this.renew(name);
      else await this.checkRenewalInfo(name);
      this.plan(name);
    });
  }

  /** RFC 9773: asks the CA for its renewal window, when its directory has renewalInfo. */
  private async checkRenewalInfo(name: string): Promise<void> {
    const cert = this.o.certificates.getCertificate(name);
    if (!cert) return;
    try {
      const url = (await this.getDirectory()).renewalInfo;
      const id = ariCertId(cert.leaf);
      const prev = this.windows.get(name);
      if (typeof url !== 'string' || !id) {
        // No ARI at this CA: look again at the next regular wake-up.
        this.windows.set(name, { start: cert.notAfter, end: cert.notAfter, pick: cert.notAfter, serial: cert.leaf.serialNumber, pollAt: new Date(this.now() + MAX_TIMER_MS) });
        return;
      }
      const resp = await acme.axios.get(`${url.replace(/\/$/, '')}/${id}`, { validateStatus: () => true });
      const w = resp.status === 200 ? parseRenewalInfo(resp.data, resp.headers['retry-after'] as string | undefined, this.now()) : null;
      if (!w) {
        this.windows.set(name, { ...(prev ?? { start: cert.notAfter, end: cert.notAfter, pick: cert.notAfter }), serial: cert.leaf.serialNumber, pollAt: new Date(this.now() + MAX_TIMER_MS) });
        return;
      }
      // Keep the moment picked in an unchanged window, so that polling does not re-roll it.
      const same = prev && prev.serial === cert.leaf.serialNumber && prev.start.getTime() === w.start.getTime() && prev.end.getTime() === w.end.getTime();
      this.windows.set(name, { ...w, pick: same ? prev.pick : pickInWindow(w), serial: cert.leaf.serialNumber });
      this.status.names[name]!.renewalWindow = { start: w.start.toISOString(), end: w.end.toISOString() };
    } catch (err) {
      this.o.log.warn('acme: renewal information unavailable', { name, err: (err as Error).message });
      this.windows.set(name, { start: cert.notAfter, end: cert.notAfter, pick: cert.notAfter, serial: cert.leaf.serialNumber, pollAt: new Date(this.now() + MAX_TIMER_MS) });
    }
  }

  /** One order for `name`; a failure keeps the current certificate and schedules a retry. */
  private async renew(name: string): Promise<void> {
    const st = this.status.names[name]!;
    st.lastAttempt = new Date(this.now()).toISOString();
    try {
      const cert = await this.order(name);
      st.failures = 0;
      st.lastError = null;
      st.lastSuccess = new Date(this.now()).toISOString();
      this.windows.delete(name);
      st.renewalWindow = null;
      this.o.log.info('acme: certificate obtained', { name, issuer: cert.issuer, notAfter: cert.notAfter.toISOString() });
    } catch (err) {
      st.failures += 1;
      st.lastError = oneLine(err);
      this.o.log.error('acme: order failed, keeping the current certificate', { name, failures: st.failures, retryInMs: retryDelayMs(st.failures), err: st.lastError });
    }
    this.saveStatus();
  }

  private async getClient(): Promise<acme.Client> {
    if (this.client) return this.client;
    const keyFile = join(this.o.acmeDir, ACCOUNT_KEY_FILE);
    if (!existsSync(keyFile)) writeFileDurably(keyFile, newKeyPem(), 0o600);
    const client = new acme.Client({
      directoryUrl: this.o.acme.directoryUrl,
      accountKey: readFileSync(keyFile),
      backoffAttempts: POLL_ATTEMPTS,
      backoffMin: POLL_MIN_MS,
      backoffMax: POLL_MAX_MS,
    });
    // RFC 8555 7.3: with an existing key this returns the existing account.
    await client.createAccount({ termsOfServiceAgreed: true, ...(this.o.acme.contact.length ? { contact: this.o.acme.contact } : {}) });
    // The account URL, for the CAA record that pins issuance to this account (RFC 8657 3).
    const url = client.getAccountUrl();
    const urlFile = join(this.o.acmeDir, ACCOUNT_URL_FILE);
    if (!existsSync(urlFile) || readFileSync(urlFile, 'utf8').trim() !== url) writeFileDurably(urlFile, `${url}\n`, 0o644);
    this.client = client;
    return client;
  }

  private async getDirectory(): Promise<Record<string, unknown>> {
    if (!this.directory) {
      const resp = await acme.axios.get(this.o.acme.directoryUrl);
      this.directory = resp.data as Record<string, unknown>;
    }
    return this.directory;
  }

  private pickChallenge(challenges: { type: string }[]): AcmeChallengeType | null {
    for (const type of this.o.acme.challenges) {
      if (this.o.available.has(type) && challenges.some((c) => c.type === type)) return type;
    }
    return null;
  }

  private async order(name: string): Promise<StoredCertificate> {
    const client = await this.getClient();
    const current = this.o.certificates.getCertificate(name);
    // RFC 9773 5: name the certificate this one replaces, when the CA does ARI.
    const replaces = current && typeof (await this.getDirectory()).renewalInfo === 'string' ? ariCertId(current.leaf) : null;
    const order = await client.createOrder({ identifiers: [{ type: 'dns', value: name }], ...(replaces ? { replaces } : {}) } as acme.Order);
    for (const authz of await client.getAuthorizations(order)) {
      if (authz.status === 'valid') continue;
      const type = this.pickChallenge(authz.challenges);
      if (!type) throw new Error(`no usable challenge for ${name}: the CA offers ${authz.challenges.map((c) => c.type).join(', ')}; enabled with a listener: ${[...this.o.available].join(', ') || 'none'}`);
      const challenge = authz.challenges.find((c) => c.type === type)!;
      const keyAuthorization = await client.getChallengeKeyAuthorization(challenge);
      let undo: () => void;
      if (type === 'http-01') {
        undo = this.o.challenges.addHttp((challenge as { token: string }).token, keyAuthorization);
      } else {
        const keyPem = newKeyPem();
        const certPem = createAlpnCertificatePem(createPrivateKey(keyPem), name, keyAuthorization);
        undo = this.o.challenges.addTlsAlpn(name, createSecureContext({ key: keyPem, cert: certPem, minVersion: 'TLSv1.2' }));
      }
      try {
        await client.completeChallenge(challenge);
        await client.waitForValidStatus(challenge);
      } finally {
        undo();
      }
    }
    const keyPem = current?.keyPem ?? newKeyPem();
    const csr = createCsrPem(createPrivateKey(keyPem), [name]);
    const finalized = await client.finalizeOrder(order, csr);
    const chain = await client.getCertificate(finalized);
    return this.o.certificates.save(name, keyPem, chain);
  }

  private saveStatus(): void {
    try {
      writeStatus(this.o.acmeDir, this.status);
    } catch (err) {
      this.o.log.error('acme: cannot write status', { err });
    }
  }
}

/** ECDSA P-256 (PKCS#8 PEM): small, fast, accepted by every CA and client. */
function newKeyPem(): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.replace(/\s*\n\s*/g, '; ').slice(0, 500);
}
