// Aggregate reports that other receivers mail to our rua addresses (dmarc.reportAddresses): the
// message is delivered as usual, and its report is read and kept per policy domain and day for
// `postern dmarc received`. Reading happens after the reply, so a malformed report costs the
// sender nothing and us only a log line.

import type { Logger } from '../log/logger.js';
import type { Store } from '../store/types.js';
import { parseReport } from './aggregate-report.js';
import { MAX_REPORT_MAIL, reportXmlOf } from './report-attachment.js';

export function isReportAddress(address: string, reportAddresses: readonly string[]): boolean {
  return reportAddresses.includes(address.toLowerCase());
}

/** Reads and stores the report in `raw`; false when the message holds none (logged). */
export async function takeReport(store: Store, raw: Buffer, log: Logger): Promise<boolean> {
  try {
    const xml = raw.length <= MAX_REPORT_MAIL ? reportXmlOf(raw) : null;
    if (xml === null) {
      log.info('mail to a DMARC report address without a report');
      return false;
    }
    const r = parseReport(xml);
    const added = await store.addReceivedDmarcReport({
      orgName: r.orgName, reportId: r.reportId, policyDomain: r.policy.domain.toLowerCase(), begin: r.begin, end: r.end, report: JSON.stringify(r),
    });
    log.info('dmarc aggregate report received', { from: r.orgName, domain: r.policy.domain, id: r.reportId, duplicate: !added || undefined });
    return true;
  } catch (err) {
    log.warn('dmarc aggregate report unreadable', { err });
    return false;
  }
}
