// Per-account junk filter statistics in SQLite (tables of migration 7): message counts per class,
// token counts (32-bit token hashes), and which messages were trained as what, by a digest of the
// message, so that training the same message again is a no-op and training it as the other class
// moves its counts rather than adding them twice. A version per account (migration 9) counts the
// trainings and prunings, so a process that holds the model in memory sees another one change it.

import type Database from 'better-sqlite3';
import type { JunkAccountState, JunkReputation, JunkTrainResult } from '../types.js';

export class JunkRepo {
  constructor(private readonly db: Database.Database) {}

  state(accountId: number): JunkAccountState {
    const r = this.db.prepare('SELECT threshold, spam_messages, ham_messages, seeded, version FROM junk_accounts WHERE account_id = ?').get(accountId) as
      { threshold: number | null; spam_messages: number; ham_messages: number; seeded: number; version: number } | undefined;
    return r
      ? { threshold: r.threshold, spamMessages: r.spam_messages, hamMessages: r.ham_messages, seeded: r.seeded !== 0, version: r.version }
      : { threshold: null, spamMessages: 0, hamMessages: 0, seeded: false, version: 0 };
  }

  /** Every token of the account as [hash, spam, ham]. */
  *tokens(accountId: number): Generator<[number, number, number]> {
    const rows = this.db.prepare('SELECT token, spam, ham FROM junk_tokens WHERE account_id = ?').raw(true).iterate(accountId) as Iterable<[number, number, number]>;
    for (const r of rows) yield r;
  }

  tokenCount(accountId: number): number {
    return (this.db.prepare('SELECT count(*) AS n FROM junk_tokens WHERE account_id = ?').get(accountId) as { n: number }).n;
  }

  private ensure(accountId: number): void {
    this.db.prepare('INSERT OR IGNORE INTO junk_accounts (account_id) VALUES (?)').run(accountId);
  }

  /** Inside the caller's transaction. */
  train(accountId: number, digest: string, spam: boolean, tokens: readonly number[]): JunkTrainResult {
    this.ensure(accountId);
    const prev = this.db.prepare('SELECT spam FROM junk_trained WHERE account_id = ? AND digest = ?').get(accountId, digest) as { spam: number } | undefined;
    if (prev && (prev.spam !== 0) === spam) return { changed: false, untrained: false, version: this.state(accountId).version };
    const col = spam ? 'spam' : 'ham';
    const add = this.db.prepare(`INSERT INTO junk_tokens (account_id, token, ${col}) VALUES (?, ?, 1) ON CONFLICT (account_id, token) DO UPDATE SET ${col} = ${col} + 1`);
    if (prev) {
      const other = spam ? 'ham' : 'spam';
      const sub = this.db.prepare(`UPDATE junk_tokens SET ${other} = max(${other} - 1, 0) WHERE account_id = ? AND token = ?`);
      for (const t of tokens) sub.run(accountId, t);
      this.db.prepare(`UPDATE junk_accounts SET ${other}_messages = max(${other}_messages - 1, 0) WHERE account_id = ?`).run(accountId);
      this.db.prepare('DELETE FROM junk_tokens WHERE account_id = ? AND spam = 0 AND ham = 0').run(accountId);
    }
    for (const t of tokens) add.run(accountId, t);
    const { version } = this.db.prepare(`UPDATE junk_accounts SET ${col}_messages = ${col}_messages + 1, version = version + 1 WHERE account_id = ? RETURNING version`)
      .get(accountId) as { version: number };
    this.db.prepare('INSERT OR REPLACE INTO junk_trained (account_id, digest, spam) VALUES (?, ?, ?)').run(accountId, digest, spam ? 1 : 0);
    return { changed: true, untrained: !!prev, version };
  }

  /** Drops the tokens seen in one message only (hapaxes): they carry the least evidence. */
  prune(accountId: number): number {
    const n = this.db.prepare('DELETE FROM junk_tokens WHERE account_id = ? AND spam + ham <= 1').run(accountId).changes;
    if (n > 0) this.db.prepare('UPDATE junk_accounts SET version = version + 1 WHERE account_id = ?').run(accountId);
    return n;
  }

  reputation(accountId: number, keys: readonly string[]): JunkReputation[] {
    if (keys.length === 0) return [];
    const rows = this.db.prepare(`SELECT key, wrote, ham, spam FROM junk_reputation WHERE account_id = ? AND key IN (${keys.map(() => '?').join(',')})`).all(accountId, ...keys);
    return rows as JunkReputation[];
  }

  /** Inside the caller's transaction; keeps at most `max` keys (the least recently updated go). */
  bumpReputation(accountId: number, keys: readonly string[], field: 'wrote' | 'ham' | 'spam', delta: number, max: number): void {
    const now = Date.now();
    const up = this.db.prepare(`INSERT INTO junk_reputation (account_id, key, ${field}, updated) VALUES (?, ?, max(?, 0), ?)
      ON CONFLICT (account_id, key) DO UPDATE SET ${field} = max(${field} + ?, 0), updated = excluded.updated`);
    for (const k of keys) up.run(accountId, k, delta, now, delta);
    const n = (this.db.prepare('SELECT count(*) AS n FROM junk_reputation WHERE account_id = ?').get(accountId) as { n: number }).n;
    if (n > max) {
      this.db.prepare('DELETE FROM junk_reputation WHERE account_id = ? AND key IN (SELECT key FROM junk_reputation WHERE account_id = ? ORDER BY updated LIMIT ?)').run(accountId, accountId, n - max);
    }
  }

  setThreshold(accountId: number, threshold: number | null): void {
    this.ensure(accountId);
    this.db.prepare('UPDATE junk_accounts SET threshold = ? WHERE account_id = ?').run(threshold, accountId);
  }

  /** False when the account was seeded already: of several processes, one seeds it. */
  markSeeded(accountId: number): boolean {
    this.ensure(accountId);
    return this.db.prepare('UPDATE junk_accounts SET seeded = 1 WHERE account_id = ? AND seeded = 0').run(accountId).changes === 1;
  }
}
