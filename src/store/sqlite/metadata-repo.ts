// METADATA annotations (RFC 5464) in SQLite (table of migration 10). One user per account, so
// /private and /shared entries are both stored per account, as Dovecot does for a single user.
// Server entries have a NULL mailbox; a mailbox's entries reference its row, so deleting the
// mailbox removes them in the same transaction (ON DELETE CASCADE) and a rename keeps them.

import type Database from 'better-sqlite3';
import type { Change } from '../change-feed.js';
import type { Mailbox, MetadataDepth, MetadataEntry, MetadataSetLimits, MetadataSetResult, MetadataStore } from '../types.js';
import type { GroupCommit } from './group-commit.js';

/** Thrown inside a SETMETADATA transaction to roll its savepoint back. */
class TooMany extends Error {}

export class MetadataRepo {
  constructor(private readonly db: Database.Database) {}

  /** Entries at `name` and below it up to `depth` (names are lower case; `/` separates levels). */
  get(accountId: number, mailboxId: number | null, name: string, depth: MetadataDepth): MetadataEntry[] {
    const key = mailboxId ?? 0;
    const exact = this.db.prepare('SELECT name, value FROM metadata WHERE account_id = ? AND coalesce(mailbox_id, 0) = ? AND name = ?')
      .get(accountId, key, name) as MetadataEntry | undefined;
    const out = exact ? [exact] : [];
    if (depth === 0) return out;
    const prefix = name + '/';
    // Names below `prefix`: a range scan on the unique index (`0` sorts right after `/`).
    const below = this.db.prepare('SELECT name, value FROM metadata WHERE account_id = ? AND coalesce(mailbox_id, 0) = ? AND name > ? AND name < ? ORDER BY name')
      .all(accountId, key, prefix, name + '0') as MetadataEntry[];
    for (const e of below) if (depth === 'infinity' || !e.name.includes('/', prefix.length)) out.push(e);
    return out;
  }

  /** Inside the caller's transaction; throws TooMany (after changing rows: the caller rolls back). */
  set(accountId: number, mailboxId: number | null, changes: readonly { name: string; value: Buffer | null }[], limits: MetadataSetLimits): void {
    const key = mailboxId ?? 0;
    const del = this.db.prepare('DELETE FROM metadata WHERE account_id = ? AND coalesce(mailbox_id, 0) = ? AND name = ?');
    const ins = this.db.prepare('INSERT INTO metadata (account_id, mailbox_id, name, value) VALUES (?, ?, ?, ?)');
    let added = false;
    for (const c of changes) {
      del.run(accountId, key, c.name);
      if (c.value !== null) {
        ins.run(accountId, mailboxId, c.name, c.value);
        added = true;
      }
    }
    // Only additions can pass a limit: removing entries from an account over a lowered limit works.
    if (!added) return;
    const n = (this.db.prepare('SELECT count(*) AS n FROM metadata WHERE account_id = ? AND coalesce(mailbox_id, 0) = ?').get(accountId, key) as { n: number }).n;
    if (n > limits.maxEntries) throw new TooMany();
    const bytes = (this.db.prepare('SELECT coalesce(sum(length(name) + length(value)), 0) AS b FROM metadata WHERE account_id = ?').get(accountId) as { b: number }).b;
    if (bytes > limits.maxAccountBytes) throw new TooMany();
  }

  /** RFC 5464 4.1: renaming INBOX leaves its entries on INBOX and copies them to the new mailbox. */
  copyMailbox(fromId: number, toId: number): void {
    this.db.prepare('INSERT INTO metadata (account_id, mailbox_id, name, value) SELECT account_id, ?, name, value FROM metadata WHERE mailbox_id = ?').run(toId, fromId);
  }
}

/**
 * The Store's metadata methods over the repository; `mailbox` finds a mailbox or throws notfound.
 * A committed change is published (names only) for the account's other sessions (RFC 5465 5.6, 5.7).
 */
export function metadataStore(
  repo: MetadataRepo,
  group: GroupCommit,
  mailbox: (accountId: number, name: string) => Mailbox,
  publish: (accountId: number, changes: Change[]) => void,
): MetadataStore {
  const id = (accountId: number, name: string | null): number | null => (name === null ? null : mailbox(accountId, name).id);
  return {
    async get(accountId, name, names, depth) {
      const mailboxId = id(accountId, name);
      const seen = new Set<string>();
      const out: MetadataEntry[] = [];
      for (const n of names) {
        for (const e of repo.get(accountId, mailboxId, n, depth)) {
          if (seen.has(e.name)) continue;
          seen.add(e.name);
          out.push(e);
        }
      }
      return out;
    },
    async set(accountId, name, changes, limits): Promise<MetadataSetResult> {
      try {
        const mb = await group.run(() => {
          const m = name === null ? null : mailbox(accountId, name);
          repo.set(accountId, m?.id ?? null, changes, limits);
          return m;
        });
        const entries = [...new Set(changes.map((c) => c.name))];
        if (entries.length) publish(accountId, [{ kind: 'metadata', mailbox: mb && { id: mb.id, name: mb.name }, entries }]);
        return { ok: true };
      } catch (err) {
        if (err instanceof TooMany) return { ok: false, reason: 'toomany' };
        throw err;
      }
    },
  };
}
