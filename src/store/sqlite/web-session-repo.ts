// Web login sessions in SQLite (migration 9), shared by every process serving the web interface.
// Rows are keyed by the SHA-256 of the cookie token: the database never holds a usable cookie.
// The limits (total, per account, idle time, age) are the caller's and are enforced here, in the
// transaction that adds a session, so that no process can go past them.

import type Database from 'better-sqlite3';
import type { NewWebSession, WebSessionLimits, WebSessionRecord } from '../types.js';

interface Row {
  account_id: number;
  name: string;
  address: string;
  csrf_token: string;
  generation: number;
  created: number;
  last_used: number;
}

export class WebSessionRepo {
  constructor(private readonly db: Database.Database) {}

  /** Inside the caller's write transaction. */
  create(tokenHash: Buffer, s: NewWebSession, limits: WebSessionLimits): void {
    this.purgeExpired(s.created, limits);
    // Room for the new one: the account's least recently used go first, then anyone's.
    this.db.prepare(`DELETE FROM web_sessions WHERE token_hash IN (
        SELECT token_hash FROM web_sessions WHERE account_id = ? ORDER BY last_used DESC LIMIT -1 OFFSET ?)`)
      .run(s.accountId, Math.max(0, limits.maxPerAccount - 1));
    this.db.prepare(`DELETE FROM web_sessions WHERE token_hash IN (
        SELECT token_hash FROM web_sessions ORDER BY last_used DESC LIMIT -1 OFFSET ?)`)
      .run(Math.max(0, limits.maxSessions - 1));
    this.db.prepare('INSERT INTO web_sessions (token_hash, account_id, address, csrf_token, generation, created, last_used) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(tokenHash, s.accountId, s.address, s.csrfToken, s.generation, s.created, s.created);
  }

  purgeExpired(now: number, limits: WebSessionLimits): number {
    return this.db.prepare('DELETE FROM web_sessions WHERE last_used < ? OR created < ?').run(now - limits.idleMs, now - limits.maxAgeMs).changes;
  }

  get(tokenHash: Buffer): WebSessionRecord | null {
    const r = this.db.prepare(`SELECT s.account_id, a.name, s.address, s.csrf_token, s.generation, s.created, s.last_used
        FROM web_sessions s JOIN accounts a ON a.id = s.account_id WHERE s.token_hash = ?`).get(tokenHash) as Row | undefined;
    return r
      ? { accountId: r.account_id, accountName: r.name, address: r.address, csrfToken: r.csrf_token, generation: r.generation, created: r.created, lastUsed: r.last_used }
      : null;
  }

  /** Moves last_used forward only (a slower process must not move it back). */
  touch(tokenHash: Buffer, now: number): void {
    this.db.prepare('UPDATE web_sessions SET last_used = ? WHERE token_hash = ? AND last_used < ?').run(now, tokenHash, now);
  }

  /** With `generation`: only while the row still has that one (a stale view must not end a
   * session that was carried over to a new generation meanwhile). */
  delete(tokenHash: Buffer, generation?: number): void {
    if (generation === undefined) this.db.prepare('DELETE FROM web_sessions WHERE token_hash = ?').run(tokenHash);
    else this.db.prepare('DELETE FROM web_sessions WHERE token_hash = ? AND generation = ?').run(tokenHash, generation);
  }

  /** Ends the account's other sessions; `keep` moves to the account's new auth generation. */
  endOthers(accountId: number, keep: Buffer | null, generation: number | null): void {
    if (keep) {
      this.db.prepare('DELETE FROM web_sessions WHERE account_id = ? AND token_hash <> ?').run(accountId, keep);
      if (generation !== null) this.db.prepare('UPDATE web_sessions SET generation = ? WHERE token_hash = ? AND account_id = ?').run(generation, keep, accountId);
    } else {
      this.db.prepare('DELETE FROM web_sessions WHERE account_id = ?').run(accountId);
    }
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM web_sessions').get() as { n: number }).n;
  }
}
