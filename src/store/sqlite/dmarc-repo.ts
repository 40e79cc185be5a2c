// DMARC exceptions per account: RFC5322.From domains whose DMARC failures the account does not want
// enforced (senders known to break DMARC). Domains are lower-case A-labels.

import type Database from 'better-sqlite3';

export class DmarcRepo {
  constructor(private readonly db: Database.Database) {}

  list(accountId: number): string[] {
    return (this.db.prepare('SELECT domain FROM dmarc_exceptions WHERE account_id = ? ORDER BY domain').all(accountId) as { domain: string }[]).map((r) => r.domain);
  }

  set(accountId: number, domain: string, on: boolean): void {
    if (on) this.db.prepare('INSERT OR IGNORE INTO dmarc_exceptions (account_id, domain) VALUES (?, ?)').run(accountId, domain);
    else this.db.prepare('DELETE FROM dmarc_exceptions WHERE account_id = ? AND domain = ?').run(accountId, domain);
  }
}
