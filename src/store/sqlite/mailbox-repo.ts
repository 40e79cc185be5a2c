// Mailboxes and subscriptions in SQLite. UIDVALIDITY comes from a counter in `meta` that starts at the
// creation time of the database and only grows, so a mailbox deleted and created again never reuses
// a UIDVALIDITY (RFC 9051 2.3.1.1).

import type Database from 'better-sqlite3';
import { StoreError, notFound } from '../errors.js';
import type { Mailbox, MailboxCounts } from '../types.js';

interface Row {
  id: number; account_id: number; name: string; special_use: string | null;
  uidvalidity: number; uidnext: number; highestmodseq: number; created: number; subscribed: number;
  first_recent_uid: number;
}

const SELECT = `SELECT m.*, EXISTS (SELECT 1 FROM subscriptions s WHERE s.account_id = m.account_id AND s.name = m.name) AS subscribed FROM mailboxes m`;

const toMailbox = (r: Row): Mailbox => ({
  id: r.id, accountId: r.account_id, name: r.name, specialUse: r.special_use, subscribed: r.subscribed !== 0,
  uidValidity: r.uidvalidity, uidNext: r.uidnext, highestModseq: r.highestmodseq, created: new Date(r.created),
  firstRecentUid: r.first_recent_uid,
});

export const DEFAULT_MAILBOXES: [string, string | null][] = [
  ['INBOX', null], ['Sent', '\\Sent'], ['Drafts', '\\Drafts'], ['Trash', '\\Trash'], ['Junk', '\\Junk'], ['Archive', '\\Archive'],
];

const SPECIAL_USE = new Set(['\\All', '\\Archive', '\\Drafts', '\\Flagged', '\\Junk', '\\Sent', '\\Trash']);

/** INBOX is case-insensitive (RFC 9051 5.1); every other name is kept as given. */
export function canonicalMailboxName(name: string): string {
  const n = name.normalize('NFC');
  if (n.toUpperCase() === 'INBOX') return 'INBOX';
  if (n.toUpperCase().startsWith('INBOX/')) return 'INBOX' + n.slice(5);
  return n;
}

export function checkMailboxName(name: string): void {
  if (name.length === 0 || name.length > 1000) throw new StoreError('invalid', 'mailbox name must be 1 to 1000 characters');
  if (name.startsWith('/') || name.endsWith('/') || name.includes('//')) throw new StoreError('invalid', 'mailbox name has an empty hierarchy level');
  // Control characters and the wildcards are refused like Dovecot and mox do.
  if (/[\u0000-\u001f\u007f%*]/.test(name)) throw new StoreError('invalid', 'mailbox name contains a control or wildcard character');
}

export class MailboxRepo {
  constructor(private readonly db: Database.Database) {}

  private nextUidValidity(): number {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'uidvalidity'").get() as { value: number } | undefined;
    const now = Math.floor(Date.now() / 1000);
    const v = Math.max(row ? row.value + 1 : now, 1);
    this.db.prepare("INSERT INTO meta (key, value) VALUES ('uidvalidity', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(v);
    return v;
  }

  list(accountId: number): Mailbox[] {
    return (this.db.prepare(`${SELECT} WHERE m.account_id = ? ORDER BY m.name`).all(accountId) as Row[]).map(toMailbox);
  }

  inboxId(accountId: number): number | null {
    const r = this.db.prepare("SELECT id FROM mailboxes WHERE account_id = ? AND name = 'INBOX'").get(accountId) as { id: number } | undefined;
    return r ? r.id : null;
  }

  get(accountId: number, name: string): Mailbox | null {
    const r = this.db.prepare(`${SELECT} WHERE m.account_id = ? AND m.name = ?`).get(accountId, canonicalMailboxName(name)) as Row | undefined;
    return r ? toMailbox(r) : null;
  }

  getById(id: number): Mailbox | null {
    const r = this.db.prepare(`${SELECT} WHERE m.id = ?`).get(id) as Row | undefined;
    return r ? toMailbox(r) : null;
  }

  require(accountId: number, name: string): Mailbox {
    const m = this.get(accountId, name);
    if (!m) throw notFound(`mailbox ${name}`);
    return m;
  }

  /** Inside the caller's transaction. */
  create(accountId: number, name: string, specialUse: string | null = null, subscribe = false): Mailbox {
    const canonical = canonicalMailboxName(name);
    checkMailboxName(canonical);
    if (specialUse !== null && !SPECIAL_USE.has(specialUse)) throw new StoreError('invalid', `unknown special-use ${specialUse}`);
    if (this.get(accountId, canonical)) throw new StoreError('exists', `mailbox ${canonical} already exists`);
    const id = Number(
      this.db.prepare('INSERT INTO mailboxes (account_id, name, special_use, uidvalidity, created) VALUES (?, ?, ?, ?, ?)')
        .run(accountId, canonical, specialUse, this.nextUidValidity(), Date.now()).lastInsertRowid,
    );
    if (subscribe) this.setSubscribed(accountId, canonical, true);
    return this.getById(id)!;
  }

  createDefaults(accountId: number): void {
    for (const [name, use] of DEFAULT_MAILBOXES) this.create(accountId, name, use, true);
  }

  /** Removes the mailbox row; the caller has queued its files for removal first. */
  delete(mailbox: Mailbox): void {
    this.db.prepare('DELETE FROM mailboxes WHERE id = ?').run(mailbox.id);
  }

  rename(accountId: number, from: string, to: string): { id: number; name: string; oldName: string }[] {
    const src = this.require(accountId, from);
    const target = canonicalMailboxName(to);
    checkMailboxName(target);
    if (this.get(accountId, target)) throw new StoreError('exists', `mailbox ${target} already exists`);
    if (target.startsWith(src.name + '/')) throw new StoreError('invalid', 'cannot rename a mailbox into itself');
    const renamed: { id: number; name: string; oldName: string }[] = [];
    const children = this.db.prepare("SELECT id, name FROM mailboxes WHERE account_id = ? AND (name = ? OR substr(name, 1, ?) = ?)")
      .all(accountId, src.name, src.name.length + 1, src.name + '/') as { id: number; name: string }[];
    const update = this.db.prepare('UPDATE mailboxes SET name = ? WHERE id = ?');
    for (const c of children) {
      const newName = target + c.name.slice(src.name.length);
      if (c.id !== src.id && this.get(accountId, newName)) throw new StoreError('exists', `mailbox ${newName} already exists`);
      update.run(newName, c.id);
      renamed.push({ id: c.id, name: newName, oldName: c.name });
    }
    return renamed;
  }

  setSubscribed(accountId: number, name: string, subscribed: boolean): void {
    const canonical = canonicalMailboxName(name);
    if (subscribed) this.db.prepare('INSERT OR IGNORE INTO subscriptions (account_id, name) VALUES (?, ?)').run(accountId, canonical);
    else this.db.prepare('DELETE FROM subscriptions WHERE account_id = ? AND name = ?').run(accountId, canonical);
  }

  listSubscriptions(accountId: number): string[] {
    return (this.db.prepare('SELECT name FROM subscriptions WHERE account_id = ? ORDER BY name').all(accountId) as { name: string }[]).map((r) => r.name);
  }

  counts(mailboxId: number): MailboxCounts {
    const r = this.db.prepare(`SELECT count(*) AS messages,
        coalesce(sum(instr(' ' || flags || ' ', ' \\Seen ') = 0), 0) AS unseen,
        coalesce(sum(instr(' ' || flags || ' ', ' \\Deleted ') > 0), 0) AS deleted,
        coalesce(sum(size), 0) AS size,
        coalesce(sum(uid >= (SELECT first_recent_uid FROM mailboxes WHERE id = ?)), 0) AS recent
      FROM messages WHERE mailbox_id = ?`).get(mailboxId, mailboxId) as MailboxCounts;
    return r;
  }

  /**
   * Claims the recent UIDs below `upTo` (at most UIDNEXT): returns the range [first, next) this
   * claim got, empty when another claimed them first. Inside the caller's write transaction, which
   * makes the read and the raise one step for every process sharing the database.
   */
  claimRecent(mailboxId: number, upTo: number): { first: number; next: number } {
    const r = this.db.prepare('SELECT first_recent_uid AS first, min(?, uidnext) AS next FROM mailboxes WHERE id = ?').get(upTo, mailboxId) as
      { first: number; next: number } | undefined;
    if (!r || r.first >= r.next) return { first: r?.next ?? upTo, next: r?.next ?? upTo };
    this.db.prepare('UPDATE mailboxes SET first_recent_uid = ? WHERE id = ?').run(r.next, mailboxId);
    return r;
  }
}
