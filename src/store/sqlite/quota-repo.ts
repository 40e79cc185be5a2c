// Storage quota in SQLite (RFC 9208 STORAGE): accounts.quota_used holds the bytes of the account's
// messages and changes in the transaction that adds or removes them, so it is right after a crash
// and no check sums messages. The limit is checked and the usage raised by one statement inside
// the inserting transaction: concurrent appends (one group commit, or another process) cannot both
// pass the check on the same old usage.

import type Database from 'better-sqlite3';
import { StoreError, notFound } from '../errors.js';
import type { QuotaSetting, QuotaUsage } from '../types.js';

/** quota_limit value for "no limit" (NULL is "the server default"). */
const UNLIMITED = -1;

export class QuotaRepo {
  constructor(
    private readonly db: Database.Database,
    /** The server default in bytes; null for none. */
    private readonly defaultLimit: number | null,
  ) {}

  private get defaultParam(): number {
    return this.defaultLimit ?? UNLIMITED;
  }

  /**
   * Raises the usage by `bytes` if that keeps it within the limit, else throws StoreError
   * 'overquota' (the caller's transaction is rolled back). Inside the caller's transaction.
   */
  charge(accountId: number, bytes: number): void {
    if (bytes <= 0) return;
    const r = this.db
      .prepare(`UPDATE accounts SET quota_used = quota_used + @bytes WHERE id = @id
        AND (coalesce(quota_limit, @def) < 0 OR quota_used + @bytes <= coalesce(quota_limit, @def)) RETURNING quota_used`)
      .get({ bytes, id: accountId, def: this.defaultParam });
    if (r) return;
    if (!this.db.prepare('SELECT 1 FROM accounts WHERE id = ?').get(accountId)) throw notFound('account');
    throw new StoreError('overquota', 'quota exceeded');
  }

  /** Lowers the usage after messages were removed, inside the removing transaction. */
  release(accountId: number, bytes: number): void {
    if (bytes <= 0) return;
    this.db.prepare('UPDATE accounts SET quota_used = max(0, quota_used - ?) WHERE id = ?').run(bytes, accountId);
  }

  get(accountId: number): QuotaUsage {
    const r = this.db.prepare('SELECT quota_used, quota_limit FROM accounts WHERE id = ?').get(accountId) as
      { quota_used: number; quota_limit: number | null } | undefined;
    if (!r) throw notFound('account');
    const setting: QuotaSetting = r.quota_limit === null ? 'default' : r.quota_limit === UNLIMITED ? null : r.quota_limit;
    const limit = setting === 'default' ? this.defaultLimit : setting;
    return { used: r.quota_used, limit, setting };
  }

  set(accountId: number, setting: QuotaSetting): void {
    if (typeof setting === 'number' && (!Number.isSafeInteger(setting) || setting < 0)) throw new StoreError('invalid', 'quota must be a whole number of bytes');
    const value = setting === 'default' ? null : setting === null ? UNLIMITED : setting;
    const r = this.db.prepare('UPDATE accounts SET quota_limit = ? WHERE id = ?').run(value, accountId);
    if (r.changes === 0) throw notFound('account');
  }
}
