// URLAUTH mailbox access keys (RFC 4467 2.2) in SQLite (table of migration 11). A key is a random
// secret per mailbox and mechanism: the first GENURLAUTH on the mailbox makes it, RESETKEY replaces
// it (every URL authorized with the old one stops working) or, without a mailbox, removes all of
// the account's. Keys leave this file only to the caller that computes a token with them.

import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { UrlauthKeyStore } from '../types.js';
import type { GroupCommit } from './group-commit.js';

/** RFC 4467 10: at least 128 bits of entropy; 256, the size of the INTERNAL token's HMAC-SHA256. */
export const URLAUTH_KEY_BYTES = 32;

export class UrlauthRepo {
  constructor(private readonly db: Database.Database) {}

  get(accountId: number, mailboxId: number, mechanism: string): Buffer | null {
    const r = this.db.prepare('SELECT key FROM urlauth_keys WHERE mailbox_id = ? AND mechanism = ? AND account_id = ?')
      .get(mailboxId, mechanism, accountId) as { key: Buffer } | undefined;
    return r?.key ?? null;
  }

  /** The key, made now when there is none (inside the caller's transaction). */
  getOrCreate(accountId: number, mailboxId: number, mechanism: string): Buffer {
    const old = this.get(accountId, mailboxId, mechanism);
    if (old) return old;
    const key = randomBytes(URLAUTH_KEY_BYTES);
    this.db.prepare('INSERT INTO urlauth_keys (mailbox_id, mechanism, account_id, key) VALUES (?, ?, ?, ?)').run(mailboxId, mechanism, accountId, key);
    return key;
  }

  replace(accountId: number, mailboxId: number, mechanism: string): void {
    this.db.prepare('DELETE FROM urlauth_keys WHERE mailbox_id = ? AND mechanism = ? AND account_id = ?').run(mailboxId, mechanism, accountId);
    this.db.prepare('INSERT INTO urlauth_keys (mailbox_id, mechanism, account_id, key) VALUES (?, ?, ?, ?)').run(mailboxId, mechanism, accountId, randomBytes(URLAUTH_KEY_BYTES));
  }

  removeAll(accountId: number): void {
    this.db.prepare('DELETE FROM urlauth_keys WHERE account_id = ?').run(accountId);
  }
}

/** The Store's URLAUTH key methods: changes are made durable (group commit) before they return,
 * so a URL handed out is never signed with a key a crash could lose. */
export function urlauthKeyStore(repo: UrlauthRepo, group: GroupCommit): UrlauthKeyStore {
  return {
    async key(accountId, mailboxId, mechanism, create) {
      // Only making a key waits for a commit; reading one (every GENURLAUTH after the first) does not.
      const key = repo.get(accountId, mailboxId, mechanism);
      if (key || !create) return key;
      return group.run(() => repo.getOrCreate(accountId, mailboxId, mechanism));
    },
    async resetKey(accountId, mailboxId, mechanism) {
      await group.run(() => repo.replace(accountId, mailboxId, mechanism));
    },
    async resetAll(accountId) {
      await group.run(() => repo.removeAll(accountId));
    },
  };
}
