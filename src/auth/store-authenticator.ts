// The Authenticator backed by the Store: password logins against the stored scrypt verifier, SASL
// exchanges against the stored SCRAM/CRAM-MD5 secrets, TLS client certificates by public key
// (spec 2), login-disabled checked on every path, the shared failed-auth limiter, login records.

import type { Logger } from '../log/logger.js';
import { createSaslServer } from '../sasl/server.js';
import type { SaslMechanism, SaslServer, SaslStep } from '../sasl/types.js';
import type { Address, Store } from '../store/types.js';
import { channelBindingOf } from '../tls/channel-binding.js';
import { spkiFingerprint } from '../tls/fingerprint.js';
import { peerCertificateDer } from '../tls/server-context.js';
import { X509Certificate } from 'node:crypto';
import type { AttemptOutcome, AuthFailure, AuthIdentity, AuthResult, Authenticator, CertificateLogin, ConnInfo, PasswordLoginOptions } from './authenticator.js';
import { refusedMessage } from './attempt-policy.js';
import { DEFAULT_FAILURE_WINDOWS, MAX_REFUSALS_TRACKED, REFUSAL_RECORD_MS, type FailureWindow } from './limits.js';
import type { StoredCredentials } from './password.js';
import { PasswordVerifier, type PasswordAccount, type PasswordVerdict } from './password-verifier.js';
import { FailureLimiter } from './rate-limit.js';

export interface StoreAuthenticatorOptions {
  store: Store;
  log: Logger;
  hostname: string;
  limiter?: FailureLimiter;
  /** Budgets for the limiter built when none is given (authLimitsOf(config).windows). */
  windows?: FailureWindow[];
  /** Hash pool and verified-credential cache; one per process (run-server.ts makes it from config). */
  verifier?: PasswordVerifier;
}

type Failure = Exclude<AttemptOutcome, 'ok' | 'refused' | 'disabled'>;

export class StoreAuthenticator implements Authenticator {
  readonly store: Store;
  readonly limiter: FailureLimiter;
  readonly verifier: PasswordVerifier;
  private readonly log: Logger;
  private readonly hostname: string;
  /** Address and account -> when a refusal was last recorded (firstRefusal). */
  private readonly refusalsRecorded = new Map<string, number>();

  constructor(opts: StoreAuthenticatorOptions) {
    this.store = opts.store;
    this.log = opts.log;
    this.hostname = opts.hostname;
    this.limiter = opts.limiter ?? new FailureLimiter(opts.windows ?? DEFAULT_FAILURE_WINDOWS);
    this.verifier = opts.verifier ?? new PasswordVerifier();
  }

  /** Ends the hash pool's threads. */
  async close(): Promise<void> {
    await this.verifier.close();
  }

  isBlocked(ip: string): boolean {
    return this.limiter.blocked(ip);
  }

  retryAfterMs(ip: string): number {
    return this.limiter.retryAfterMs(ip);
  }

  /**
   * Over the password-failure budget: refused without checking, and recorded so that the account's
   * owner sees it (spec 3.4). Refusals do not count as failures: a flood cannot extend itself.
   */
  private async refusedIfBlocked(conn: ConnInfo, mechanism: string, username: string): Promise<AuthFailure | null> {
    const wait = this.limiter.retryAfterMs(conn.ip);
    if (wait === 0) return null;
    const addr = username ? await this.store.lookupAddress(username).catch(() => null) : null;
    if (this.firstRefusal(conn.ip, addr?.accountId ?? null)) await this.record(conn, mechanism, username, addr?.accountId ?? null, null, 'refused');
    this.log.info('authentication refused: too many failures', { cid: conn.cid, protocol: conn.protocol, ip: conn.ip, mechanism, username });
    return { ok: false, code: 'LIMIT', reason: 'refused', message: refusedMessage(wait), retryAfterMs: wait };
  }

  /**
   * Whether a refusal for this address and account is the first in REFUSAL_RECORD_MS: a flood that
   * goes on over the budget writes one row a minute per account, not one per request.
   */
  private firstRefusal(ip: string, accountId: number | null): boolean {
    const now = Date.now();
    const key = `${ip} ${accountId ?? '-'}`;
    const last = this.refusalsRecorded.get(key);
    if (last !== undefined && now - last < REFUSAL_RECORD_MS) return false;
    if (this.refusalsRecorded.size >= MAX_REFUSALS_TRACKED) {
      for (const [k, t] of this.refusalsRecorded) if (now - t >= REFUSAL_RECORD_MS) this.refusalsRecorded.delete(k);
      // Still full: forget the oldest (Map order is insertion order).
      if (this.refusalsRecorded.size >= MAX_REFUSALS_TRACKED) this.refusalsRecorded.delete(this.refusalsRecorded.keys().next().value!);
    }
    this.refusalsRecorded.delete(key);
    this.refusalsRecorded.set(key, now);
    return true;
  }

  /**
   * A plaintext password checked for a login name: cache, then the hash pool (password-verifier.ts;
   * unknown users cost a full hash too). The generation is read before the credentials, so a
   * password set in between makes the cache entry stale, never the old password valid.
   */
  private async checkPassword(addr: Address | null, password: string): Promise<PasswordVerdict> {
    let account: PasswordAccount | null = null;
    if (addr) {
      const generation = await this.store.authGeneration(addr.accountId);
      const creds = (await this.store.getCredentials(addr.accountId)) as StoredCredentials | null;
      const loginDisabled = (await this.store.getAccountById(addr.accountId))?.loginDisabled != null;
      account = { accountId: addr.accountId, generation, creds, loginDisabled };
    }
    return this.verifier.check(account, password);
  }

  private async identityFor(addr: Address, keyFingerprint: string | null): Promise<AuthIdentity | null> {
    const account = await this.store.getAccountById(addr.accountId);
    if (!account || account.loginDisabled !== null) return null;
    return {
      accountId: account.id, accountName: account.name, username: addr.address, keyFingerprint,
      generation: await this.store.authGeneration(account.id),
    };
  }

  async passwordLogin(username: string, password: string, conn: ConnInfo, opts: PasswordLoginOptions): Promise<AuthResult> {
    // Checked before the password, so a flood costs no hashing time either.
    const refused = await this.refusedIfBlocked(conn, opts.mechanism, username);
    if (refused) return refused;
    const addr = await this.store.lookupAddress(username);
    const verdict = await this.checkPassword(addr, password);
    if (verdict === 'busy') return this.busy(conn, opts.mechanism);
    if (!addr || verdict !== 'ok') return this.failed(conn, opts.mechanism, username, addr?.accountId ?? null, 'badcreds');
    return this.finish(conn, opts.mechanism, username, addr, opts.authzid ?? '', opts.cert ?? null, true);
  }

  /**
   * Shared end of every login with credentials: disabled check, authzid, same-account rule, record.
   * `record` false: the certificate login this completes was recorded already (one row per login).
   */
  private async finish(conn: ConnInfo, mechanism: string, username: string, addr: Address, authzid: string, cert: AuthIdentity | null, record: boolean): Promise<AuthResult> {
    let target = addr;
    if (authzid !== '') {
      // An authorization identity must be another address of the same account.
      const z = await this.store.lookupAddress(authzid);
      if (!z || z.accountId !== addr.accountId) return this.failed(conn, mechanism, username, addr.accountId, 'badauthzid', cert);
      target = z;
    }
    if (cert && cert.accountId !== target.accountId) {
      // Spec 2.3/2.4: on a certificate connection, credentials must be for the same account.
      return this.failed(conn, mechanism, username, target.accountId, 'wrongaccount', cert);
    }
    const identity = await this.identityFor(target, cert?.keyFingerprint ?? null);
    if (!identity) {
      await this.record(conn, mechanism, username, target.accountId, cert?.keyFingerprint ?? null, 'disabled');
      return { ok: false, code: 'AUTHENTICATIONFAILED', reason: 'disabled', message: 'login disabled for this account' };
    }
    if (record || identity.username !== cert?.username) await this.record(conn, mechanism, username, identity.accountId, cert?.keyFingerprint ?? null, 'ok');
    return { ok: true, identity };
  }

  async recordLogin(conn: ConnInfo, mechanism: string, identity: AuthIdentity): Promise<void> {
    await this.record(conn, mechanism, identity.username, identity.accountId, identity.keyFingerprint, 'ok');
  }

  async certificateLogin(conn: ConnInfo): Promise<CertificateLogin | null> {
    if (!conn.tls) return null;
    const der = peerCertificateDer(conn.tls);
    if (!der) return null;
    let fingerprint: string;
    try {
      fingerprint = spkiFingerprint(new X509Certificate(der).publicKey.export({ type: 'spki', format: 'der' }));
    } catch {
      this.log.info('client certificate not usable', { cid: conn.cid, ip: conn.ip });
      return null;
    }
    const key = await this.store.getTlsPubKey(fingerprint);
    if (!key) {
      // Unknown keys are harmless (spec 2.2): the connection goes on unauthenticated.
      this.log.info('unknown client certificate key', { cid: conn.cid, ip: conn.ip, fingerprint });
      return null;
    }
    const addr = await this.store.lookupAddress(key.loginAddress);
    const identity = addr && addr.accountId === key.accountId ? await this.identityFor(addr, fingerprint) : null;
    if (!identity) {
      await this.record(conn, 'tlsclientauth', key.loginAddress, key.accountId, fingerprint, 'disabled');
      this.log.info('client certificate of a login-disabled account', { cid: conn.cid, ip: conn.ip, fingerprint });
      return null;
    }
    // Like the login records: best effort, never a reason to refuse the login.
    await this.store.touchTlsPubKey(fingerprint, conn.ip, new Date()).catch((err: unknown) => this.log.warn('cannot record key use', { cid: conn.cid, err }));
    return { identity, noImapPreauth: key.noImapPreauth };
  }

  async saslServer(mech: SaslMechanism, conn: ConnInfo): Promise<SaslServer> {
    return createSaslServer(mech, {
      lookup: async (username) => {
        const addr = await this.store.lookupAddress(username);
        return addr ? ((await this.store.getCredentials(addr.accountId)) as StoredCredentials | null) : null;
      },
      checkPassword: async (username, password) => this.checkPassword(await this.store.lookupAddress(username), password),
      channelBinding: conn.tls ? channelBindingOf(conn.tls, true) : undefined,
      tls: conn.tls !== null,
      scramFakeSecret: await this.store.secret('scram-fake-salt'),
      hostname: this.hostname,
    });
  }

  async saslFinish(
    mech: SaslMechanism,
    step: Extract<SaslStep, { kind: 'success' | 'failure' }>,
    conn: ConnInfo,
    cert: AuthIdentity | null,
    opts: { certificateRecorded?: boolean } = {},
  ): Promise<AuthResult> {
    if (mech === 'EXTERNAL') {
      // Spec 2.3: the certificate's identity; an authzid must be an address of the same account.
      // Proof of possession of the key: never refused by the password-failure budget.
      if (step.kind === 'failure' || !cert) return this.failed(conn, mech, step.kind === 'success' ? step.authzid : '', null, 'nocertificate');
      const own = await this.store.lookupAddress(cert.username);
      if (!own) return this.failed(conn, mech, cert.username, cert.accountId, 'nocertificate');
      return this.finish(conn, mech, cert.username, own, step.authzid, cert, !opts.certificateRecorded);
    }
    const username = step.authcid ?? '';
    const refused = await this.refusedIfBlocked(conn, mech, username);
    if (refused) return refused;
    if (step.kind === 'failure') {
      if (step.reason === 'unavailable') return this.busy(conn, mech);
      const cb = step.reason === 'channel-binding-mismatch' || step.reason === 'channel-binding-downgrade';
      if (cb) this.log.warn('SCRAM channel binding failed: possible man-in-the-middle', { cid: conn.cid, ip: conn.ip, reason: step.reason, detail: step.detail });
      const addr = username ? await this.store.lookupAddress(username) : null;
      return this.failed(conn, mech, username, addr?.accountId ?? null, cb ? 'channelbinding' : 'badcreds');
    }
    const addr = await this.store.lookupAddress(step.authcid);
    if (!addr) return this.failed(conn, mech, step.authcid, null, 'badcreds');
    return this.finish(conn, mech, step.authcid, addr, step.authzid, cert, true);
  }

  async stillValid(identity: AuthIdentity): Promise<boolean> {
    const account = await this.store.getAccountById(identity.accountId);
    if (!account || account.loginDisabled !== null) return false;
    if ((await this.store.authGeneration(account.id)) !== identity.generation) return false;
    if (identity.keyFingerprint !== null) {
      const key = await this.store.getTlsPubKey(identity.keyFingerprint);
      if (!key || key.accountId !== account.id) return false;
    }
    return true;
  }

  /**
   * The hash pool was full: a temporary failure, not counted against the address, and not recorded
   * as a login attempt: nothing was decided, and a flood's refusals must not become database writes
   * that compete with mail commits (bench/login-flood.ts).
   */
  private busy(conn: ConnInfo, mechanism: string): AuthFailure {
    this.log.debug('authentication refused: password hashing busy', { cid: conn.cid, protocol: conn.protocol, ip: conn.ip, mechanism });
    return { ok: false, code: 'UNAVAILABLE', reason: 'busy', message: 'temporary authentication failure, try again' };
  }

  /**
   * A failed attempt: recorded, and counted against the address's password-failure budget, except
   * with a certificate identity on the connection (its holder proved possession of a key; a wrong
   * authzid or another account's password is a client mistake, not guessing).
   */
  private async failed(conn: ConnInfo, mechanism: string, username: string, accountId: number | null, reason: Failure, cert: AuthIdentity | null = null): Promise<AuthFailure> {
    if (!cert) this.limiter.fail(conn.ip);
    await this.record(conn, mechanism, username, accountId, cert?.keyFingerprint ?? null, reason);
    this.log.info('authentication failed', { cid: conn.cid, protocol: conn.protocol, ip: conn.ip, mechanism, username, reason });
    return { ok: false, code: 'AUTHENTICATIONFAILED', reason, message: 'authentication failed' };
  }

  /**
   * Login records are best effort: a full disk (or a busy database) must not keep users from
   * reading their mail, so a failure to record is logged and the login goes on.
   */
  async record(conn: ConnInfo, mechanism: string, address: string, accountId: number | null, fp: string | null, result: string): Promise<void> {
    try {
      await this.store.recordLoginAttempt({
        time: new Date(), accountId, address: address.slice(0, 256), mechanism, keyFingerprint: fp,
        protocol: conn.protocol, ip: conn.ip, result,
      });
    } catch (err) {
      this.log.warn('cannot record login attempt', { cid: conn.cid, err });
    }
  }
}
