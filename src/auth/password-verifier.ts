// Password verification as the server runs it for PLAIN, LOGIN and web logins: the verified-
// credential cache first (credential-cache.ts), then scrypt on the hash pool (hash-pool.ts), which
// may answer "busy" instead of queueing without bound. Unknown users and accounts without a
// password are verified against throwaway credentials, so they cost the same scrypt run (spec 3.2).

import { randomBytes } from 'node:crypto';
import { CredentialCache, type CredentialCacheOptions } from './credential-cache.js';
import { HashPool, HashPoolBusyError, type HashPoolOptions } from './hash-pool.js';
import { deriveCredentials, verifyPassword, type StoredCredentials } from './password.js';

/** 'busy': the hash pool's queue is full; a temporary failure, not a wrong password. */
export type PasswordVerdict = 'ok' | 'bad' | 'busy';

/** The account a login name resolved to, read in this order: generation, then credentials. */
export interface PasswordAccount {
  accountId: number;
  generation: number;
  creds: StoredCredentials | null;
  /** A login-disabled account: its password is still checked (the refusal says so), never cached. */
  loginDisabled: boolean;
}

export interface PasswordVerifierOptions {
  pool?: HashPoolOptions;
  cache?: CredentialCacheOptions;
}

export class PasswordVerifier {
  readonly pool: HashPool;
  readonly cache: CredentialCache;
  private dummy: Promise<StoredCredentials> | null = null;

  constructor(opts: PasswordVerifierOptions = {}) {
    this.pool = new HashPool(opts.pool);
    this.cache = new CredentialCache(opts.cache);
  }

  /** Credentials of a random password, derived once. */
  private dummyCredentials(): Promise<StoredCredentials> {
    this.dummy ??= deriveCredentials(randomBytes(18).toString('base64url'));
    return this.dummy;
  }

  /** `account` null: unknown login name. */
  async check(account: PasswordAccount | null, password: string): Promise<PasswordVerdict> {
    const creds = account?.creds ?? null;
    if (account && creds && !account.loginDisabled && this.cache.has(account.accountId, account.generation, password)) return 'ok';
    let valid: boolean;
    try {
      valid = await verifyPassword(creds ?? (await this.dummyCredentials()), password, this.pool);
    } catch (err) {
      if (err instanceof HashPoolBusyError) return 'busy';
      throw err;
    }
    if (!valid || !account || !creds) return 'bad';
    if (account.loginDisabled) this.cache.forgetAccount(account.accountId);
    else this.cache.remember(account.accountId, account.generation, password);
    return 'ok';
  }

  async close(): Promise<void> {
    this.cache.clear();
    await this.pool.close();
  }
}
