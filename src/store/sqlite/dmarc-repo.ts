// DMARC exceptions per account: RFC5322.From domains whose DMARC failures the account does not want
// enforced (senders known to break DMARC). Domains are lower-case A-labels.

import type Database from 'better-sqlite3';
import type { DmarcEvent } from '../types.js';

export class DmarcRepo {
  constructor(private readonly db: Database.Database) {}

  list(accountId: number): string[] {
    return (this.db.prepare('SELECT domain FROM dmarc_exceptions WHERE account_id = ? ORDER BY domain').all(accountId) as { domain: string }[]).map((r) => r.domain);
  }

  set(accountId: number, domain: string, on: boolean): void {
    if (on) this.db.prepare('INSERT OR IGNORE INTO dmarc_exceptions (account_id, domain) VALUES (?, ?)').run(accountId, domain);
    else this.db.prepare('DELETE FROM dmarc_exceptions WHERE account_id = ? AND domain = ?').run(accountId, domain);
  }

  record(e: Omit<DmarcEvent, 'count'>): void {
    this.db.prepare(`INSERT INTO dmarc_events (day, policy_domain, source_ip, header_from, envelope_from, disposition, dkim, spf, auth, policy, count)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
      ON CONFLICT DO UPDATE SET count = count + 1, policy = excluded.policy`)
      .run(e.day, e.policyDomain, e.sourceIp, e.headerFrom, e.envelopeFrom, e.disposition, e.dkim, e.spf, e.auth, e.policy);
  }

  events(day: string, policyDomain: string | null): DmarcEvent[] {
    const rows = this.db.prepare(`SELECT day, policy_domain AS policyDomain, source_ip AS sourceIp, header_from AS headerFrom, envelope_from AS envelopeFrom,
      disposition, dkim, spf, auth, policy, count FROM dmarc_events WHERE day = ? AND (? IS NULL OR policy_domain = ?) ORDER BY policy_domain, source_ip`).all(day, policyDomain, policyDomain);
    return rows as DmarcEvent[];
  }

  reportSent(day: string, policyDomain: string): boolean {
    return this.db.prepare('SELECT 1 FROM dmarc_reports_sent WHERE day = ? AND policy_domain = ?').get(day, policyDomain) !== undefined;
  }

  /** The day's rows of the domain are in the queued report now (or nobody asked for one): dropped
   * with the same write, so the events table holds only days still to report. */
  markReportSent(day: string, policyDomain: string, queueId: number | null): void {
    this.db.prepare('INSERT OR REPLACE INTO dmarc_reports_sent (day, policy_domain, queue_id) VALUES (?, ?, ?)').run(day, policyDomain, queueId);
    this.db.prepare('DELETE FROM dmarc_events WHERE day = ? AND policy_domain = ?').run(day, policyDomain);
  }

  /** Drops the rows and sent-marks of days before `day` (reports never sent, e.g. the server was
   * down that day); returns the event rows dropped. */
  purgeBefore(day: string): number {
    const n = this.db.prepare('DELETE FROM dmarc_events WHERE day < ?').run(day).changes;
    this.db.prepare('DELETE FROM dmarc_reports_sent WHERE day < ?').run(day);
    return n;
  }

  /** The newest `limit` received reports of the given policy domains, newest first. */
  listReceivedFor(policyDomains: readonly string[], limit: number): { report: string }[] {
    if (policyDomains.length === 0) return [];
    return this.db.prepare(`SELECT report FROM dmarc_received WHERE policy_domain IN (SELECT value FROM json_each(?)) ORDER BY begin DESC, policy_domain, org_name LIMIT ?`)
      .all(JSON.stringify(policyDomains), limit) as { report: string }[];
  }

  /** False when the same reporter's report id was stored before (a resent report). */
  addReceived(r: { orgName: string; reportId: string; policyDomain: string; begin: number; end: number; report: string }): boolean {
    return this.db.prepare('INSERT OR IGNORE INTO dmarc_received (org_name, report_id, policy_domain, begin, end, report, received) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(r.orgName, r.reportId, r.policyDomain, r.begin, r.end, r.report, Date.now()).changes > 0;
  }

  listReceived(policyDomain: string | null): { report: string }[] {
    return this.db.prepare('SELECT report FROM dmarc_received WHERE (? IS NULL OR policy_domain = ?) ORDER BY policy_domain, begin, org_name').all(policyDomain, policyDomain) as { report: string }[];
  }
}
