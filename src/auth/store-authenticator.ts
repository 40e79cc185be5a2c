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
import type { AuthIdentity, AuthResult, Authenticator, CertificateLogin, ConnInfo } from './authenticator.js';
import type { StoredCredentials } from './password.js';
import { PasswordVerifier, type PasswordAccount, type PasswordVerdict } from './password-verifier.js';
import { FailureLimiter } from './rate-limit.js';

export interface StoreAuthenticatorOptions {
  store: Store;
  log: Logger;
  hostname: string;
  limiter?: FailureLimiter;
  /** Hash pool and verified-credential cache; one per process (run-server.ts makes it from config). */
  verifier?: PasswordVerifier;
}

const FAILED: AuthResult = { ok: false, code: 'AUTHENTICATIONFAILED', message: 'authentication failed' };
const BUSY: AuthResult = { ok: false, code: 'UNAVAILABLE', message: 'temporary authentication failure, try again' };

export class StoreAuthenticator implements Authenticator {
  readonly store: Store;
  readonly limiter: FailureLimiter;
  readonly verifier: PasswordVerifier;
  private readonly log: Logger;
  private readonly hostname: string;

  constructor(opts: StoreAuthenticatorOptions) {
    this.store = opts.store;
    this.log = opts.log;
    this.hostname = opts.hostname;
    this.limiter = opts.limiter ?? new FailureLimiter();
    this.verifier = opts.verifier ?? new PasswordVerifier();
  }

  /** Ends the hash pool's threads. */
  async close(): Promise<void> {
    await this.verifier.close();
  }

  isBlocked(ip: string): boolean {
    return this.limiter.blocked(ip);
  }

  /**
   * A plaintext password checked for a login name: cache, then the hash pool (password-verifier.ts).
   * The generation is read before the credentials, so a password set in between makes the cache
   * entry stale, never the old password valid.
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

  async passwordLogin(username: string, password: string, conn: ConnInfo, authzid?: string, cert: AuthIdentity | null = null): Promise<AuthResult> {
    if (this.limiter.blocked(conn.ip)) return { ok: false, code: 'LIMIT', message: 'too many authentication failures' };
    const addr = await this.store.lookupAddress(username);
    const verdict = await this.checkPassword(addr, password);
    if (verdict === 'busy') return this.busy(conn, 'PLAIN');
    if (!addr || verdict !== 'ok') return this.failed(conn, 'PLAIN', username, addr?.accountId ?? null);
    return this.finish(conn, 'PLAIN', username, addr, authzid ?? '', cert);
  }

  /** Shared end of every password-like login: disabled check, authzid, same-account rule, record. */
  private async finish(conn: ConnInfo, mechanism: string, username: string, addr: Address, authzid: string, cert: AuthIdentity | null): Promise<AuthResult> {
    let target = addr;
    if (authzid !== '') {
      // An authorization identity must be another address of the same account.
      const z = await this.store.lookupAddress(authzid);
      if (!z || z.accountId !== addr.accountId) return this.failed(conn, mechanism, username, addr.accountId);
      target = z;
    }
    if (cert && cert.accountId !== target.accountId) {
      // Spec 2.3/2.4: on a certificate connection, credentials must be for the same account.
      return this.failed(conn, mechanism, username, target.accountId);
    }
    const identity = await this.identityFor(target, cert?.keyFingerprint ?? null);
    if (!identity) {
      await this.record(conn, mechanism, username, target.accountId, null, 'disabled');
      return { ok: false, code: 'AUTHENTICATIONFAILED', message: 'login disabled for this account' };
    }
    await this.record(conn, mechanism, username, identity.accountId, cert?.keyFingerprint ?? null, 'ok');
    return { ok: true, identity };
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
    await this.record(conn, 'tlsclientauth', key.loginAddress, key.accountId, fingerprint, 'ok');
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

  async saslFinish(mech: SaslMechanism, step: Extract<SaslStep, { kind: 'success' | 'failure' }>, conn: ConnInfo, cert: AuthIdentity | null): Promise<AuthResult> {
    if (this.limiter.blocked(conn.ip)) return { ok: false, code: 'LIMIT', message: 'too many authentication failures' };
    if (step.kind === 'failure') {
      if (step.reason === 'unavailable') return this.busy(conn, mech);
      if (step.reason === 'channel-binding-mismatch' || step.reason === 'channel-binding-downgrade') {
        this.log.warn('SCRAM channel binding failed: possible man-in-the-middle', { cid: conn.cid, ip: conn.ip, reason: step.reason, detail: step.detail });
      }
      const addr = step.authcid ? await this.store.lookupAddress(step.authcid) : null;
      return this.failed(conn, mech, step.authcid ?? '', addr?.accountId ?? null);
    }
    if (mech === 'EXTERNAL') {
      // Spec 2.3: the certificate's identity; an authzid must be an address of the same account.
      if (!cert) return this.failed(conn, mech, step.authzid, null);
      const own = await this.store.lookupAddress(cert.username);
      if (!own) return this.failed(conn, mech, cert.username, cert.accountId);
      return this.finish(conn, mech, cert.username, own, step.authzid, cert);
    }
    const addr = await this.store.lookupAddress(step.authcid);
    if (!addr) return this.failed(conn, mech, step.authcid, null);
    return this.finish(conn, mech, step.authcid, addr, step.authzid, cert);
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
   * The hash pool was full: a temporary failure, not counted against the IP, and not recorded as a
   * login attempt: nothing was decided, and a flood's refusals must not become database writes
   * that compete with mail commits (bench/login-flood.ts).
   */
  private busy(conn: ConnInfo, mechanism: string): AuthResult {
    this.log.debug('authentication refused: password hashing busy', { cid: conn.cid, protocol: conn.protocol, ip: conn.ip, mechanism });
    return BUSY;
  }

  private async failed(conn: ConnInfo, mechanism: string, username: string, accountId: number | null): Promise<AuthResult> {
    this.limiter.fail(conn.ip);
    await this.record(conn, mechanism, username, accountId, null, 'badcreds');
    this.log.info('authentication failed', { cid: conn.cid, protocol: conn.protocol, ip: conn.ip, mechanism, username });
    return FAILED;
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
