// Outbound TLS policy state in SQLite: the MTA-STS policy cache (RFC 8461 5.1) and the TLS
// result counters behind TLS-RPT aggregate reports (RFC 8460 4).

import type Database from 'better-sqlite3';
import type { MtaStsCacheEntry, StoredTlsReport, TlsResultCount, TlsResultKey } from '../types.js';

interface PolicyRow { domain: string; policy_id: string; policy_text: string; fetched: number; expires: number }
interface ResultRow {
  day: string; policy_domain: string; policy_type: string; policy_string: string; mx_host: string;
  receiving_ip: string; result_type: string; count: number;
}

const toPolicy = (r: PolicyRow): MtaStsCacheEntry => ({
  domain: r.domain, policyId: r.policy_id, policyText: r.policy_text, fetched: new Date(r.fetched), expires: new Date(r.expires),
});

const toResult = (r: ResultRow): TlsResultCount => ({
  day: r.day, policyDomain: r.policy_domain, policyType: r.policy_type as TlsResultKey['policyType'],
  policyString: JSON.parse(r.policy_string) as string[], mxHost: r.mx_host, receivingIp: r.receiving_ip,
  resultType: r.result_type, count: r.count,
});

export class TlsPolicyRepo {
  constructor(private readonly db: Database.Database) {}

  getMtaSts(domain: string): MtaStsCacheEntry | null {
    const r = this.db.prepare('SELECT * FROM mta_sts_policies WHERE domain = ?').get(domain) as PolicyRow | undefined;
    return r ? toPolicy(r) : null;
  }

  listMtaSts(): MtaStsCacheEntry[] {
    return (this.db.prepare('SELECT * FROM mta_sts_policies ORDER BY domain').all() as PolicyRow[]).map(toPolicy);
  }

  putMtaSts(e: MtaStsCacheEntry): void {
    this.db
      .prepare(`INSERT INTO mta_sts_policies (domain, policy_id, policy_text, fetched, expires) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (domain) DO UPDATE SET policy_id = excluded.policy_id, policy_text = excluded.policy_text,
        fetched = excluded.fetched, expires = excluded.expires`)
      .run(e.domain, e.policyId, e.policyText, e.fetched.getTime(), e.expires.getTime());
  }

  deleteMtaSts(domain: string): void {
    this.db.prepare('DELETE FROM mta_sts_policies WHERE domain = ?').run(domain);
  }

  addResult(k: TlsResultKey, n: number): void {
    this.db
      .prepare(`INSERT INTO tls_results (day, policy_domain, policy_type, policy_string, mx_host, receiving_ip, result_type, count)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (day, policy_domain, policy_type, policy_string, mx_host, receiving_ip, result_type) DO UPDATE SET count = count + excluded.count`)
      .run(k.day, k.policyDomain, k.policyType, JSON.stringify(k.policyString), k.mxHost, k.receivingIp, k.resultType, n);
  }

  listResults(day: string, policyDomain?: string): TlsResultCount[] {
    const rows = policyDomain === undefined
      ? this.db.prepare('SELECT * FROM tls_results WHERE day = ? ORDER BY policy_domain, policy_type, mx_host, result_type').all(day)
      : this.db.prepare('SELECT * FROM tls_results WHERE day = ? AND policy_domain = ? ORDER BY policy_type, mx_host, result_type').all(day, policyDomain);
    return (rows as ResultRow[]).map(toResult);
  }

  addReport(r: StoredTlsReport): void {
    this.db
      .prepare('INSERT INTO tls_reports (policy_domain, day, organization, report_id, received, json) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (organization, report_id) DO NOTHING')
      .run(r.policyDomain, r.day, r.organization, r.reportId, Date.now(), r.json);
  }

  listReports(policyDomain?: string, day?: string): StoredTlsReport[] {
    const rows = this.db
      .prepare('SELECT policy_domain, day, organization, report_id, json FROM tls_reports WHERE (@domain IS NULL OR policy_domain = @domain) AND (@day IS NULL OR day = @day) ORDER BY day, policy_domain, organization, id')
      .all({ domain: policyDomain ?? null, day: day ?? null }) as { policy_domain: string; day: string; organization: string; report_id: string; json: string }[];
    return rows.map((r) => ({ policyDomain: r.policy_domain, day: r.day, organization: r.organization, reportId: r.report_id, json: r.json }));
  }

  resultDays(): string[] {
    return (this.db.prepare('SELECT DISTINCT day FROM tls_results ORDER BY day').all() as { day: string }[]).map((r) => r.day);
  }

  /** Drops counters of days before `day` (after their reports went out). */
  pruneResults(beforeDay: string): void {
    this.db.prepare('DELETE FROM tls_results WHERE day < ?').run(beforeDay);
  }
}
