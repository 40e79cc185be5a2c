// The outbound queue in SQLite: one row per message, one per recipient with its own state and
// lease. A runner delivering a recipient holds its lease (owner and expiry, renewed while the
// attempt runs), so that runners of several processes never deliver one recipient at once; a
// runner that died leaves leases that expire, and the recipient is due for the others again.

import type Database from 'better-sqlite3';
import type { QueueMessage, QueueRecipient } from '../types.js';

interface MsgRow { id: number; account_id: number | null; sender: string; file_id: number; size: number; created: number; is_dsn: number; require_tls: number }
interface RcptRow { id: number; message_id: number; address: string; state: QueueRecipient['state']; attempts: number; next_attempt: number; last_error: string | null }

const toRcpt = (r: RcptRow): QueueRecipient => ({
  id: r.id, messageId: r.message_id, address: r.address, state: r.state, attempts: r.attempts,
  nextAttempt: new Date(r.next_attempt), lastError: r.last_error,
});

// queue_messages.is_dsn holds bits (no migration needed: rows written before hold 0 or 1).
const KIND_DSN = 1;
/** A report Postern sends (TLS-RPT, DMARC aggregate). */
const KIND_REPORT = 2;

export class QueueRepo {
  constructor(private readonly db: Database.Database) {}

  insert(accountId: number | null, sender: string, recipients: string[], fileId: number, size: number, kind: { isDsn: boolean; requireTls?: boolean; isReport?: boolean }): number {
    const now = Date.now();
    const id = Number(this.db.prepare('INSERT INTO queue_messages (account_id, sender, file_id, size, created, is_dsn, require_tls) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(accountId, sender, fileId, size, now, (kind.isDsn ? KIND_DSN : 0) | (kind.isReport ? KIND_REPORT : 0), kind.requireTls ? 1 : 0).lastInsertRowid);
    const stmt = this.db.prepare('INSERT INTO queue_recipients (message_id, address, next_attempt) VALUES (?, ?, ?)');
    for (const r of recipients) stmt.run(id, r, now);
    return id;
  }

  private toMessage(r: MsgRow): QueueMessage {
    const rcpts = this.db.prepare('SELECT * FROM queue_recipients WHERE message_id = ? ORDER BY id').all(r.id) as RcptRow[];
    return { id: r.id, accountId: r.account_id, sender: r.sender, fileId: r.file_id, size: r.size, created: new Date(r.created), isDsn: (r.is_dsn & KIND_DSN) !== 0, requireTls: r.require_tls !== 0, isReport: (r.is_dsn & KIND_REPORT) !== 0, recipients: rcpts.map(toRcpt) };
  }

  get(id: number): QueueMessage | null {
    const r = this.db.prepare('SELECT * FROM queue_messages WHERE id = ?').get(id) as MsgRow | undefined;
    return r ? this.toMessage(r) : null;
  }

  list(): QueueMessage[] {
    return (this.db.prepare('SELECT * FROM queue_messages ORDER BY id').all() as MsgRow[]).map((r) => this.toMessage(r));
  }

  due(now: Date): QueueRecipient[] {
    const t = now.getTime();
    return (this.db.prepare("SELECT * FROM queue_recipients WHERE state = 'pending' AND next_attempt <= ? AND lease_until <= ? ORDER BY next_attempt, id")
      .all(t, t) as RcptRow[]).map(toRcpt);
  }

  /** Inside the caller's write transaction: the check and the take are one step for every process. */
  lease(ids: readonly number[], owner: string, now: number, until: number): number[] {
    const take = this.db.prepare("UPDATE queue_recipients SET lease_owner = ?, lease_until = ? WHERE id = ? AND state = 'pending' AND next_attempt <= ? AND lease_until <= ?");
    return ids.filter((id) => take.run(owner, until, id, now, now).changes === 1);
  }

  renew(ids: readonly number[], owner: string, until: number): number[] {
    const renew = this.db.prepare("UPDATE queue_recipients SET lease_until = ? WHERE id = ? AND lease_owner = ? AND state = 'pending'");
    return ids.filter((id) => renew.run(until, id, owner).changes === 1);
  }

  release(ids: readonly number[], owner: string): void {
    const release = this.db.prepare('UPDATE queue_recipients SET lease_owner = NULL, lease_until = 0 WHERE id = ? AND lease_owner = ?');
    for (const id of ids) release.run(id, owner);
  }

  owners(now: number): string[] {
    return (this.db.prepare('SELECT DISTINCT lease_owner AS o FROM queue_recipients WHERE lease_until > ? AND lease_owner IS NOT NULL').all(now) as { o: string }[]).map((r) => r.o);
  }

  releaseAll(owner: string): number {
    return this.db.prepare('UPDATE queue_recipients SET lease_owner = NULL, lease_until = 0 WHERE lease_owner = ?').run(owner).changes;
  }

  /** False when `owner` is given and does not hold the recipient's lease (or the row is gone). */
  updateRecipient(id: number, c: { state?: QueueRecipient['state']; attempts?: number; nextAttempt?: Date; lastError?: string | null }, owner?: string): boolean {
    const cur = this.db.prepare('SELECT * FROM queue_recipients WHERE id = ?').get(id) as (RcptRow & { lease_owner: string | null }) | undefined;
    if (!cur || (owner !== undefined && cur.lease_owner !== owner)) return false;
    this.db.prepare('UPDATE queue_recipients SET state = ?, attempts = ?, next_attempt = ?, last_error = ? WHERE id = ?').run(
      c.state ?? cur.state, c.attempts ?? cur.attempts, c.nextAttempt ? c.nextAttempt.getTime() : cur.next_attempt,
      c.lastError !== undefined ? c.lastError : cur.last_error, id);
    // The attempt's result ends its lease; the CLI (no owner) leaves a running attempt's lease.
    if (owner !== undefined) this.db.prepare('UPDATE queue_recipients SET lease_owner = NULL, lease_until = 0 WHERE id = ?').run(id);
    return true;
  }

  /** Deletes the message; returns its file id for removal after commit. */
  remove(id: number): number | null {
    const r = this.db.prepare('SELECT file_id FROM queue_messages WHERE id = ?').get(id) as { file_id: number } | undefined;
    if (!r) return null;
    this.db.prepare('DELETE FROM queue_messages WHERE id = ?').run(id);
    return r.file_id;
  }
}
