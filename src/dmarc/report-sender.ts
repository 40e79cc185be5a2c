// Sending the daily aggregate reports (RFC 7489 7.2) through the outbound queue: one message per
// policy domain that asked for reports (rua=mailto:), for a finished UTC day, sent once. A report
// address outside the policy domain gets reports only when its domain agrees to take them
// (external destination verification, 7.1: a "v=DMARC1" TXT record at
// <policy-domain>._report._dmarc.<rua-domain>).

import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { Logger } from '../log/logger.js';
import { signReport, type DkimKeySource } from '../outbound/report-dkim.js';
import type { DnsResolver } from '../smtp/server/policy.js';
import type { Store } from '../store/types.js';
import { buildReport, reportXml, type AggregateReport } from './aggregate-report.js';
import type { PublishedPolicy } from './record-tags.js';

export interface ReportSenderDeps {
  store: Store;
  hostname: string;
  resolver?: DnsResolver;
  /** DKIM keys: reports are signed by the From domain (the host name) when it has keys. */
  dkim?: DkimKeySource;
  log: Logger;
}

/** Rows of a day whose report was never sent (the server was down when it was due, say) are kept
 * this many days before `day`, then dropped: the events table stays bounded. */
export const DMARC_EVENT_KEEP_DAYS = 14;

/** Queues the reports of `day` not sent yet; returns the queue ids. Sent days' rows go with the
 * sent-mark (store), older days' rows here. */
export async function sendDailyReports(deps: ReportSenderDeps, day: string): Promise<number[]> {
  const cutoff = new Date(Date.parse(`${day}T00:00:00Z`) - DMARC_EVENT_KEEP_DAYS * 86400_000).toISOString().slice(0, 10);
  const dropped = await deps.store.purgeDmarcEvents(cutoff);
  if (dropped > 0) deps.log.info('dmarc report rows of unreported days dropped', { before: cutoff, rows: dropped });
  const events = await deps.store.dmarcEvents(day, null);
  const domains = [...new Set(events.map((e) => e.policyDomain))];
  const ids: number[] = [];
  for (const domain of domains) {
    if (await deps.store.dmarcReportSent(day, domain)) continue;
    const rows = events.filter((e) => e.policyDomain === domain);
    const policy = JSON.parse(rows.at(-1)!.policy) as PublishedPolicy;
    const rua: string[] = [];
    for (const a of policy.rua) if (await destinationAccepts(deps, domain, a)) rua.push(a);
    if (rua.length === 0) {
      await deps.store.markDmarcReportSent(day, domain, null);
      continue;
    }
    const report = buildReport(rows, { orgName: deps.hostname, email: `postmaster@${deps.hostname}` })!;
    const mail = reportMessage(report, { hostname: deps.hostname, to: rua, now: new Date() });
    const staged = await deps.store.stageBlob(await signReport(deps.dkim, deps.hostname, mail, deps.log));
    const q = await deps.store.enqueue(null, `postmaster@${deps.hostname}`, rua, staged, { isReport: true });
    await deps.store.markDmarcReportSent(day, domain, q.id);
    deps.log.info('dmarc aggregate report queued', { domain, day, queued: q.id, rcpts: rua.length });
    ids.push(q.id);
  }
  return ids;
}

/** RFC 7489 7.1: same domain (or a subdomain either way) is fine; otherwise the rua domain must
 * publish its consent. */
async function destinationAccepts(deps: ReportSenderDeps, policyDomain: string, address: string): Promise<boolean> {
  const ruaDomain = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
  if (ruaDomain === policyDomain || ruaDomain.endsWith('.' + policyDomain) || policyDomain.endsWith('.' + ruaDomain)) return true;
  const name = `${policyDomain}._report._dmarc.${ruaDomain}`;
  try {
    const { promises: dns } = await import('node:dns');
    const answer = (deps.resolver ? await deps.resolver(name, 'TXT') : await dns.resolveTxt(name)) as string[][];
    return answer.some((parts) => /^v=DMARC1\b/i.test(parts.join('')));
  } catch {
    return false;
  }
}

/** RFC 7489 7.2.1.1: the report as a gzip attachment named receiver!policy-domain!begin!end. */
export function reportMessage(r: AggregateReport, opts: { hostname: string; to: string[]; now: Date }): Buffer {
  const boundary = `=_dmarc_${randomBytes(9).toString('base64url')}`;
  const filename = `${r.orgName}!${r.policy.domain}!${r.begin}!${r.end}.xml.gz`;
  const gz = gzipSync(reportXml(r)).toString('base64').replace(/(.{76})/g, '$1\r\n');
  return Buffer.from([
    `From: <postmaster@${opts.hostname}>`,
    `To: ${opts.to.map((a) => `<${a}>`).join(', ')}`,
    `Subject: Report Domain: ${r.policy.domain} Submitter: ${r.orgName} Report-ID: <${r.reportId}>`,
    `Date: ${opts.now.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <dmarc.${r.reportId}.${randomBytes(6).toString('hex')}@${opts.hostname}>`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=us-ascii',
    '',
    `DMARC aggregate report for ${r.policy.domain} from ${r.orgName}, ${new Date(r.begin * 1000).toISOString().slice(0, 10)}.`,
    `--${boundary}`,
    `Content-Type: application/gzip; name="${filename}"`,
    'Content-Transfer-Encoding: base64',
    `Content-Disposition: attachment; filename="${filename}"`,
    '',
    gz,
    `--${boundary}--`,
    '',
  ].join('\r\n'));
}

/** The UTC day before `now`, YYYY-MM-DD: the last finished day. */
export function previousDay(now: Date): string {
  return new Date(now.getTime() - 86400_000).toISOString().slice(0, 10);
}

/** How often the server looks for a finished day whose reports are not sent yet. */
export const REPORT_CHECK_INTERVAL_MS = 60 * 60 * 1000;

/** Starts the hourly check; returns the stop function. */
export function startReportSchedule(deps: ReportSenderDeps & { kick?: () => void }): () => void {
  const run = () => {
    void sendDailyReports(deps, previousDay(new Date()))
      .then((ids) => ids.length && deps.kick?.())
      .catch((err) => deps.log.warn('dmarc aggregate reports failed', { err }));
  };
  const first = setTimeout(run, 60_000);
  const timer = setInterval(run, REPORT_CHECK_INTERVAL_MS);
  first.unref();
  timer.unref();
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}
