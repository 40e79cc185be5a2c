// Verified-credential cache, like Dovecot's auth_cache: a device that logs in again with the
// password it used a minute ago costs an HMAC instead of a 32 MiB scrypt run.
//
// What is kept: a tag, HMAC-SHA-256 under a random key made at process start, of the account id
// and the presented password, with the account's auth generation at verification time. Never the
// password, nor an unkeyed hash of it: without the key (which never leaves this process) a tag
// cannot be tested against guesses. An entry answers only while the account's auth generation is
// unchanged: the store bumps it when the password is set, login is disabled or the account goes
// (store/sqlite/account-repo.ts), also from another process (the CLI), so a changed password is
// refused on the very next attempt. A mismatch drops every entry of that account. Bounded:
// least recently used entries go first, and every entry expires after its TTL.

import { createHmac, randomBytes } from 'node:crypto';

/** Entries kept at most (about 150 bytes each). */
export const DEFAULT_CACHE_ENTRIES = 10_000;
/** Dovecot's auth_cache_ttl default. */
export const DEFAULT_CACHE_TTL_MS = 3600_000;

interface Entry {
  accountId: number;
  generation: number;
  expires: number;
}

export interface CredentialCacheOptions {
  maxEntries?: number;
  ttlMs?: number;
  now?: () => number;
}

export class CredentialCache {
  readonly maxEntries: number;
  readonly ttlMs: number;
  private readonly now: () => number;
  private readonly key = randomBytes(32);
  /** Map order is recency order: the first entry is the least recently used. */
  private readonly entries = new Map<string, Entry>();
  private readonly byAccount = new Map<number, Set<string>>();

  constructor(opts: CredentialCacheOptions = {}) {
    this.maxEntries = Math.max(0, opts.maxEntries ?? DEFAULT_CACHE_ENTRIES);
    this.ttlMs = opts.ttlMs ?? DEFAULT_CACHE_TTL_MS;
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The lookup key: keyed hash of account and secret (NUL cannot occur in a decimal id). */
  private tag(accountId: number, password: string): string {
    return createHmac('sha256', this.key).update(`${accountId}\0`).update(password, 'utf8').digest('base64');
  }

  /**
   * Whether `password` was verified for the account at this auth generation, within the TTL. Pass
   * the generation read BEFORE the credentials being checked, so a change in between is a miss.
   */
  has(accountId: number, generation: number, password: string): boolean {
    if (this.maxEntries === 0) return false;
    const tag = this.tag(accountId, password);
    const e = this.entries.get(tag);
    if (!e) return false;
    if (e.generation !== generation) {
      // Credentials changed or login was disabled since: nothing cached for the account holds.
      this.forgetAccount(accountId);
      return false;
    }
    if (e.expires <= this.now()) {
      this.remove(tag, e);
      return false;
    }
    this.entries.delete(tag); // most recently used goes last
    this.entries.set(tag, e);
    return true;
  }

  /** Records a successful verification, made against credentials read after `generation`. */
  remember(accountId: number, generation: number, password: string): void {
    if (this.maxEntries === 0) return;
    const tag = this.tag(accountId, password);
    const old = this.entries.get(tag);
    if (old) this.remove(tag, old);
    while (this.entries.size >= this.maxEntries) {
      const [oldestTag, oldest] = this.entries.entries().next().value as [string, Entry];
      this.remove(oldestTag, oldest);
    }
    this.entries.set(tag, { accountId, generation, expires: this.now() + this.ttlMs });
    let set = this.byAccount.get(accountId);
    if (!set) this.byAccount.set(accountId, (set = new Set()));
    set.add(tag);
  }

  /** Drops every entry of an account (password set, login disabled, account removed). */
  forgetAccount(accountId: number): void {
    const set = this.byAccount.get(accountId);
    if (!set) return;
    for (const tag of set) this.entries.delete(tag);
    this.byAccount.delete(accountId);
  }

  clear(): void {
    this.entries.clear();
    this.byAccount.clear();
  }

  private remove(tag: string, e: Entry): void {
    this.entries.delete(tag);
    const set = this.byAccount.get(e.accountId);
    set?.delete(tag);
    if (set?.size === 0) this.byAccount.delete(e.accountId);
  }
}
