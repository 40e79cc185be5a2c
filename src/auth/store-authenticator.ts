// The Authenticator backed by the Store: password logins against the stored scrypt verifier,
// login-disabled checked on every path, the shared failed-auth limiter, login-attempt records.

import type { Logger } from '../log/logger.js';
import type { Store } from '../store/types.js';
import type { AuthIdentity, AuthResult, Authenticator, ConnInfo } from './authenticator.js';
import { deriveCredentials, verifyPassword, type StoredCredentials } from './password.js';
import { FailureLimiter } from './rate-limit.js';

export interface StoreAuthenticatorOptions {
  store: Store;
  log: Logger;
  limiter?: FailureLimiter;
}

export class StoreAuthenticator implements Authenticator {
  readonly store: Store;
  readonly limiter: FailureLimiter;
  private readonly log: Logger;
  private dummy: Promise<StoredCredentials> | null = null;

  constructor(opts: StoreAuthenticatorOptions) {
    this.store = opts.store;
    this.log = opts.log;
    this.limiter = opts.limiter ?? new FailureLimiter();
  }

  isBlocked(ip: string): boolean {
    return this.limiter.blocked(ip);
  }

  /** Credentials to verify against for unknown users, so they cost the same time as known ones. */
  private dummyCredentials(): Promise<StoredCredentials> {
    this.dummy ??= deriveCredentials('not a password of anyone');
    return this.dummy;
  }

  async passwordLogin(username: string, password: string, conn: ConnInfo, authzid?: string): Promise<AuthResult> {
    const mechanism = 'password';
    if (this.limiter.blocked(conn.ip)) {
      return { ok: false, code: 'LIMIT', message: 'too many authentication failures' };
    }
    const addr = await this.store.lookupAddress(username);
    const creds = addr ? ((await this.store.getCredentials(addr.accountId)) as StoredCredentials | null) : null;
    const valid = await verifyPassword(creds ?? (await this.dummyCredentials()), password);
    if (!addr || !creds || !valid) {
      return this.failed(conn, mechanism, username, addr?.accountId ?? null, null);
    }
    const account = await this.store.getAccountById(addr.accountId);
    if (!account) return this.failed(conn, mechanism, username, null, null);
    if (account.loginDisabled !== null) {
      await this.record(conn, mechanism, username, account.id, null, 'disabled');
      return { ok: false, code: 'AUTHENTICATIONFAILED', message: `login disabled: ${account.loginDisabled}` };
    }
    let name = addr.address;
    if (authzid !== undefined && authzid !== '') {
      // An authorization identity must be another address of the same account.
      const z = await this.store.lookupAddress(authzid);
      if (!z || z.accountId !== account.id) return this.failed(conn, mechanism, username, account.id, null);
      name = z.address;
    }
    await this.record(conn, mechanism, username, account.id, null, 'ok');
    const identity: AuthIdentity = {
      accountId: account.id, accountName: account.name, username: name, keyFingerprint: null,
      generation: await this.store.authGeneration(account.id),
    };
    return { ok: true, identity };
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

  private async failed(conn: ConnInfo, mechanism: string, username: string, accountId: number | null, fp: string | null): Promise<AuthResult> {
    this.limiter.fail(conn.ip);
    await this.record(conn, mechanism, username, accountId, fp, 'badcreds');
    this.log.info('authentication failed', { cid: conn.cid, protocol: conn.protocol, ip: conn.ip, username });
    return { ok: false, code: 'AUTHENTICATIONFAILED', message: 'authentication failed' };
  }

  async record(conn: ConnInfo, mechanism: string, address: string, accountId: number | null, fp: string | null, result: string): Promise<void> {
    await this.store.recordLoginAttempt({
      time: new Date(), accountId, address: address.slice(0, 256), mechanism, keyFingerprint: fp,
      protocol: conn.protocol, ip: conn.ip, result,
    });
  }
}
