// TLS-RPT (RFC 8460) reports that other senders mail to our rua: recognised at local delivery
// (multipart/report; report-type="tlsrpt" with an application/tlsrpt+gzip or +json part, 5.3),
// checked for the fields a report must have (4.4), and kept in the store by policy domain and day.

import { gunzipSync } from 'node:zlib';
import type { Logger } from '../log/logger.js';
import { parseMessage } from '../mime/index.js';
import type { Store } from '../store/types.js';
import { TLSRPT_MAX_REPORT_BYTES } from './limits.js';
import type { TlsReportJson } from './tls-rpt.js';

export interface ReceivedTlsReport {
  policyDomain: string;
  /** UTC day of the report's start-datetime. */
  day: string;
  organization: string;
  reportId: string;
  report: TlsReportJson;
}

function isReport(v: unknown): v is TlsReportJson {
  const r = v as TlsReportJson;
  return typeof r === 'object' && r !== null && typeof r['organization-name'] === 'string' && typeof r['report-id'] === 'string'
    && typeof r['date-range']?.['start-datetime'] === 'string' && Array.isArray(r.policies) && r.policies.length > 0
    && r.policies.every((p) => typeof p?.policy?.['policy-domain'] === 'string' && typeof p.summary?.['total-successful-session-count'] === 'number'
      && typeof p.summary['total-failure-session-count'] === 'number');
}

/** The report a message carries, or null when it is not a well-formed TLS report. */
export function tlsReportFromMessage(msg: Buffer): ReceivedTlsReport | null {
  let root;
  try {
    root = parseMessage(msg);
  } catch {
    return null;
  }
  if (root.type !== 'multipart' || root.subtype !== 'report' || root.params.find((p) => p.name === 'report-type')?.value.toLowerCase() !== 'tlsrpt') return null;
  const part = root.children?.find((c) => c.type === 'application' && (c.subtype === 'tlsrpt+gzip' || c.subtype === 'tlsrpt+json'));
  if (!part) return null;
  try {
    let data = msg.subarray(part.bodyStart, part.bodyEnd);
    if (part.encoding === 'base64') data = Buffer.from(data.toString('latin1'), 'base64');
    if (part.subtype === 'tlsrpt+gzip') data = gunzipSync(data, { maxOutputLength: TLSRPT_MAX_REPORT_BYTES });
    if (data.length > TLSRPT_MAX_REPORT_BYTES) return null;
    const report: unknown = JSON.parse(data.toString('utf8'));
    if (!isReport(report)) return null;
    const day = report['date-range']['start-datetime'].slice(0, 10);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return null;
    return { policyDomain: report.policies[0]!.policy['policy-domain'].toLowerCase(), day, organization: report['organization-name'], reportId: report['report-id'], report };
  } catch {
    return null;
  }
}

/** Keeps a report that a locally delivered message carries; a repeated one (same organization
 * and report id) is kept once. Never fails the delivery. */
export async function keepTlsReport(store: Pick<Store, 'addTlsReport'>, msg: Buffer, log: Logger): Promise<void> {
  if (!msg.subarray(0, 64 * 1024).toString('latin1').toLowerCase().includes('tlsrpt')) return;
  const r = tlsReportFromMessage(msg);
  if (!r) return;
  try {
    await store.addTlsReport({ policyDomain: r.policyDomain, day: r.day, organization: r.organization, reportId: r.reportId, json: JSON.stringify(r.report) });
    log.info('tls report received', { domain: r.policyDomain, day: r.day, org: r.organization, id: r.reportId });
  } catch (err) {
    log.error('tls report not kept', { err });
  }
}

/** One line per policy of each report: day, domain, organization, counts, failures. */
export function formatTlsReports(rows: { policyDomain: string; day: string; organization: string; reportId: string; json: string }[]): string {
  const out: string[] = [];
  for (const row of rows) {
    const r = JSON.parse(row.json) as TlsReportJson;
    for (const p of r.policies) {
      const fails = (p['failure-details'] ?? []).map((f) => `${f['result-type']}${f['receiving-mx-hostname'] ? `@${f['receiving-mx-hostname']}` : ''}=${f['failed-session-count']}`);
      out.push(`${row.day} ${row.policyDomain} ${row.organization} ${row.reportId} ${p.policy['policy-type']} success=${p.summary['total-successful-session-count']} failure=${p.summary['total-failure-session-count']}${fails.length ? ' ' + fails.join(' ') : ''}`);
    }
  }
  return out.length ? out.join('\n') + '\n' : '';
}
