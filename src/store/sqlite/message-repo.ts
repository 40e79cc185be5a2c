// Messages in SQLite: UIDs, MODSEQs, flags, expunge tombstones for QRESYNC. All methods run inside the
// caller's transaction; the caller publishes changes after commit and removes files after commit.

import type Database from 'better-sqlite3';
import { StoreError } from '../errors.js';
import type { FlagOp, FlagUpdate, Mailbox, MessageMeta, MessageSummary, NewMessage } from '../types.js';

interface Row {
  id: number; mailbox_id: number; uid: number; modseq: number; flags: string; internal_date: number;
  save_date: number; size: number; file_id: number; cache?: string | null;
}

const toMeta = (r: Row): MessageMeta => ({
  id: r.id, mailboxId: r.mailbox_id, uid: r.uid, modseq: r.modseq, flags: r.flags === '' ? [] : r.flags.split(' '),
  internalDate: new Date(r.internal_date), saveDate: new Date(r.save_date), size: r.size, fileId: r.file_id,
  cache: r.cache ?? null,
});

const SYSTEM_FLAGS = new Map(['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft'].map((f) => [f.toLowerCase(), f]));

/** System flags in canonical case, keywords as given; duplicates (case-insensitive) dropped; \Recent never stored. */
export function normalizeFlags(flags: string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const f of flags) {
    const lower = f.toLowerCase();
    if (lower === '\\recent' || seen.has(lower)) continue;
    if (f.length === 0 || /[\s()\]{%*"\\]/.test(f.startsWith('\\') ? f.slice(1) : f)) {
      throw new StoreError('invalid', `invalid flag ${JSON.stringify(f)}`);
    }
    if (f.startsWith('\\') && !SYSTEM_FLAGS.has(lower)) throw new StoreError('invalid', `unknown system flag ${f}`);
    seen.add(lower);
    out.push(SYSTEM_FLAGS.get(lower) ?? f);
  }
  return out;
}

const LIST_COLUMNS = 'id, mailbox_id, uid, modseq, flags, internal_date, save_date, size, file_id';

export class MessageRepo {
  constructor(private readonly db: Database.Database) {}

  /** Takes the next MODSEQ of the mailbox; one per transaction that changes it. */
  bumpModseq(mailbox: Mailbox): number {
    const r = this.db.prepare('UPDATE mailboxes SET highestmodseq = highestmodseq + 1 WHERE id = ? RETURNING highestmodseq').get(mailbox.id) as { highestmodseq: number };
    return r.highestmodseq;
  }

  insert(mailbox: Mailbox, messages: NewMessage[], modseq: number): number[] {
    const cur = this.db.prepare('SELECT uidnext FROM mailboxes WHERE id = ?').get(mailbox.id) as { uidnext: number };
    if (cur.uidnext + messages.length > 0xffffffff) throw new StoreError('invalid', 'mailbox UID space exhausted');
    const uids = this.insertRows(mailbox.id, cur.uidnext, messages, modseq);
    this.db.prepare('UPDATE mailboxes SET uidnext = ? WHERE id = ?').run(cur.uidnext + messages.length, mailbox.id);
    return uids;
  }

  /**
   * For an append: the next MODSEQ and `count` UIDs of the account's mailbox, taken in one
   * statement; null when the mailbox is not the account's or its UID space would run out (the
   * caller finds out which the slow way).
   */
  reserveForAppend(accountId: number, mailboxId: number, count: number): { uidValidity: number; modseq: number; firstUid: number } | null {
    const r = this.db
      .prepare('UPDATE mailboxes SET highestmodseq = highestmodseq + 1, uidnext = uidnext + ? WHERE id = ? AND account_id = ? AND uidnext + ? <= 4294967295 RETURNING uidvalidity, highestmodseq, uidnext')
      .get(count, mailboxId, accountId, count) as { uidvalidity: number; highestmodseq: number; uidnext: number } | undefined;
    return r ? { uidValidity: r.uidvalidity, modseq: r.highestmodseq, firstUid: r.uidnext - count } : null;
  }

  /** Rows for `messages` with UIDs from `firstUid` on; the mailbox's UIDNEXT is the caller's. */
  insertRows(mailboxId: number, firstUid: number, messages: NewMessage[], modseq: number): number[] {
    const stmt = this.db.prepare('INSERT INTO messages (mailbox_id, uid, modseq, flags, internal_date, save_date, size, file_id, cache) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    const now = Date.now();
    const uids: number[] = [];
    let uid = firstUid;
    for (const m of messages) {
      const r = stmt.run(mailboxId, uid, modseq, normalizeFlags(m.flags).join(' '), m.internalDate.getTime(), now, m.blob.size, m.blob.fileId, m.cache);
      if (m.cache !== null) this.setSortKeys(Number(r.lastInsertRowid), m.cache);
      uids.push(uid++);
    }
    return uids;
  }

  list(mailboxId: number): MessageMeta[] {
    return (this.db.prepare(`SELECT ${LIST_COLUMNS} FROM messages WHERE mailbox_id = ? ORDER BY uid`).all(mailboxId) as Row[]).map(toMeta);
  }

  /** Up to `limit` rows with afterUid < uid < beforeUid, in UID order (keyset paging: each page is
   * an index range scan, however far into the mailbox). */
  summaries(mailboxId: number, afterUid: number, beforeUid: number, limit: number, each: (m: MessageSummary) => void): number {
    const stmt = this.db.prepare('SELECT id, uid, modseq, flags, internal_date AS internalDate, save_date AS saveDate, size, file_id AS fileId FROM messages WHERE mailbox_id = ? AND uid > ? AND uid < ? ORDER BY uid LIMIT ?');
    const rows = stmt.all(mailboxId, afterUid, beforeUid, limit) as MessageSummary[];
    for (const r of rows) each(r);
    return rows.length;
  }

  get(mailboxId: number, uids: number[]): MessageMeta[] {
    const stmt = this.db.prepare('SELECT * FROM messages WHERE mailbox_id = ? AND uid = ?');
    const out: MessageMeta[] = [];
    for (const uid of uids) {
      const r = stmt.get(mailboxId, uid) as Row | undefined;
      if (r) out.push(toMeta(r));
    }
    return out;
  }

  setCache(id: number, cache: string): void {
    this.db.prepare('UPDATE messages SET cache = ? WHERE id = ?').run(cache, id);
    this.setSortKeys(id, cache);
  }

  /**
   * The sort keys of a message from its cache JSON: its "sort" member (see mime/message-cache.ts).
   * The store does not otherwise look into caches; a cache without one stores nothing.
   */
  private setSortKeys(id: number, cache: string): void {
    this.db
      .prepare("INSERT OR REPLACE INTO message_sort_keys (message_id, keys) SELECT ?, k FROM (SELECT CASE WHEN json_valid(?) THEN json_extract(?, '$.sort') END AS k) WHERE k IS NOT NULL")
      .run(id, cache, cache);
  }

  /**
   * UID and sort keys (JSON, null when not known yet) of up to `limit` messages of the mailbox with
   * UIDs above `afterUid`, in UID order; returns how many there were.
   */
  sortKeys(mailboxId: number, afterUid: number, limit: number, each: (uid: number, keys: string | null) => void): number {
    const stmt = this.db.prepare('SELECT m.uid AS uid, s.keys AS k FROM messages m LEFT JOIN message_sort_keys s ON s.message_id = m.id WHERE m.mailbox_id = ? AND m.uid > ? ORDER BY m.uid LIMIT ?');
    let n = 0;
    for (const r of stmt.iterate(mailboxId, afterUid, limit) as IterableIterator<{ uid: number; k: string | null }>) {
      each(r.uid, r.k);
      n++;
    }
    return n;
  }

  storeFlags(mailbox: Mailbox, uids: number[], op: FlagOp, flags: string[], unchangedSince?: number): { updated: FlagUpdate[]; failed: number[] } {
    const wanted = normalizeFlags(flags);
    const msgs = this.get(mailbox.id, uids);
    const failed: number[] = [];
    const changes: { id: number; uid: number; flags: string[] }[] = [];
    for (const m of msgs) {
      // RFC 7162 3.1.3: a message whose MODSEQ is above UNCHANGEDSINCE is not changed.
      if (unchangedSince !== undefined && m.modseq > unchangedSince) {
        failed.push(m.uid);
        continue;
      }
      const next = applyFlags(m.flags, op, wanted);
      if (sameFlags(m.flags, next)) continue;
      changes.push({ id: m.id, uid: m.uid, flags: next });
    }
    if (changes.length === 0) return { updated: [], failed };
    const modseq = this.bumpModseq(mailbox);
    const stmt = this.db.prepare('UPDATE messages SET flags = ?, modseq = ? WHERE id = ?');
    for (const c of changes) stmt.run(c.flags.join(' '), modseq, c.id);
    return { updated: changes.map((c) => ({ uid: c.uid, flags: c.flags, modseq })), failed };
  }

  /** Deletes rows; returns their UIDs, file ids (the caller queues the files for removal) and the
   * bytes they held (the caller lowers the quota usage). */
  remove(mailbox: Mailbox, uids: number[] | null, modseq: number): { uids: number[]; fileIds: number[]; bytes: number } {
    const rows = (uids === null
      ? this.db.prepare("SELECT id, uid, file_id, size FROM messages WHERE mailbox_id = ? AND instr(' ' || flags || ' ', ' \\Deleted ') > 0 ORDER BY uid").all(mailbox.id)
      : this.get(mailbox.id, uids).map((m) => ({ id: m.id, uid: m.uid, file_id: m.fileId, size: m.size }))) as { id: number; uid: number; file_id: number; size: number }[];
    const del = this.db.prepare('DELETE FROM messages WHERE id = ?');
    const tomb = this.db.prepare('INSERT OR REPLACE INTO expunged (mailbox_id, uid, modseq) VALUES (?, ?, ?)');
    for (const r of rows) {
      del.run(r.id);
      tomb.run(mailbox.id, r.uid, modseq);
    }
    return { uids: rows.map((r) => r.uid).sort((a, b) => a - b), fileIds: rows.map((r) => r.file_id), bytes: rows.reduce((n, r) => n + r.size, 0) };
  }

  expungedSince(mailboxId: number, modseq: number): number[] {
    return (this.db.prepare('SELECT uid FROM expunged WHERE mailbox_id = ? AND modseq > ? ORDER BY uid').all(mailboxId, modseq) as { uid: number }[]).map((r) => r.uid);
  }

  isFileReferenced(fileId: number): boolean {
    return !!this.db.prepare('SELECT 1 FROM messages WHERE file_id = ? UNION ALL SELECT 1 FROM queue_messages WHERE file_id = ? LIMIT 1').get(fileId, fileId);
  }
}

export function applyFlags(current: string[], op: FlagOp, flags: string[]): string[] {
  const lower = new Set(flags.map((f) => f.toLowerCase()));
  if (op === 'set') return [...flags];
  if (op === 'remove') return current.filter((f) => !lower.has(f.toLowerCase()));
  const have = new Set(current.map((f) => f.toLowerCase()));
  return [...current, ...flags.filter((f) => !have.has(f.toLowerCase()))];
}

function sameFlags(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a.map((f) => f.toLowerCase()));
  return b.every((f) => s.has(f.toLowerCase()));
}
