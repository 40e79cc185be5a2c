// TLS-RPT (RFC 8460): the daily aggregate report of the TLS results counted per policy domain
// (policy-tls.ts), sent to the rua of each domain that publishes a `_smtp._tls` TXT record: as a
// gzipped JSON attachment by mail through the queue (5.3), or by HTTPS POST (5.4).

import { randomBytes } from 'node:crypto';
import { request, type RequestOptions } from 'node:https';
import type { LookupFunction } from 'node:net';
import { gzipSync } from 'node:zlib';
import type { Logger } from '../log/logger.js';
import { rfc5322Date } from '../queue/dsn.js';
import type { Store, TlsResultCount } from '../store/types.js';
import { TLSRPT_MAX_RUA, TLSRPT_POST_TIMEOUT_MS } from './limits.js';
import { signReport, type DkimKeySource } from './report-dkim.js';

/** RFC 8460 3: "v=TLSRPTv1; rua=mailto:a@example.com,https://r.example/path". Null when not one. */
export function parseTlsRptRecord(txt: string): string[] | null {
  const fields = txt.split(';').map((f) => f.trim()).filter((f) => f !== '');
  if (fields[0] !== 'v=TLSRPTv1') return null;
  const rua = fields.find((f) => f.startsWith('rua='));
  if (!rua) return null;
  const uris = rua.slice(4).split(',').map((u) => u.trim()).filter((u) => /^mailto:[^@\s]+@[^@\s]+$/i.test(u) || /^https:\/\/\S+$/i.test(u));
  return uris.length ? uris.slice(0, TLSRPT_MAX_RUA) : null;
}

export interface TlsReportJson {
  'organization-name': string;
  'date-range': { 'start-datetime': string; 'end-datetime': string };
  'contact-info': string;
  'report-id': string;
  policies: {
    policy: { 'policy-type': string; 'policy-string': string[]; 'policy-domain': string; 'mx-host'?: string[] };
    summary: { 'total-successful-session-count': number; 'total-failure-session-count': number };
    'failure-details'?: { 'result-type': string; 'receiving-mx-hostname'?: string; 'receiving-ip'?: string; 'failed-session-count': number }[];
  }[];
}

/** RFC 8460 4.4: one report for one policy domain and UTC day, a policy entry per policy seen. */
export function buildTlsReport(o: { organization: string; contact: string; reportId: string; day: string; policyDomain: string; counts: TlsResultCount[] }): TlsReportJson {
  const byPolicy = new Map<string, TlsResultCount[]>();
  for (const c of o.counts) {
    const key = JSON.stringify([c.policyType, c.policyString]);
    byPolicy.set(key, [...(byPolicy.get(key) ?? []), c]);
  }
  return {
    'organization-name': o.organization,
    'date-range': { 'start-datetime': `${o.day}T00:00:00Z`, 'end-datetime': `${o.day}T23:59:59Z` },
    'contact-info': o.contact,
    'report-id': o.reportId,
    policies: [...byPolicy.values()].map((cs) => {
      const first = cs[0]!;
      const failures = cs.filter((c) => c.resultType !== 'success');
      const mx = [...new Set(cs.map((c) => c.mxHost).filter((h) => h !== ''))];
      return {
        policy: { 'policy-type': first.policyType, 'policy-string': first.policyString, 'policy-domain': o.policyDomain, ...(mx.length && { 'mx-host': mx }) },
        summary: {
          'total-successful-session-count': cs.filter((c) => c.resultType === 'success').reduce((n, c) => n + c.count, 0),
          'total-failure-session-count': failures.reduce((n, c) => n + c.count, 0),
        },
        ...(failures.length && {
          'failure-details': failures.map((c) => ({
            'result-type': c.resultType,
            ...(c.mxHost && { 'receiving-mx-hostname': c.mxHost }),
            ...(c.receivingIp && { 'receiving-ip': c.receivingIp }),
            'failed-session-count': c.count,
          })),
        }),
      };
    }),
  };
}

/** RFC 8460 5.3: the report mail (multipart/report; report-type="tlsrpt", gzip attachment). It
 * must get through despite TLS failures (a report about a broken policy goes to a domain whose
 * policy may be what is broken): TLS-Required: No makes the door take the recipient's policies
 * as advisory (RFC 8689 4.2.2). */
export function tlsReportMessage(o: { from: string; to: string; hostname: string; policyDomain: string; reportId: string; gz: Buffer; now: Date }): Buffer {
  const boundary = `tlsrpt-${randomBytes(12).toString('hex')}`;
  const file = `${o.hostname}!${o.policyDomain}!${o.reportId}.json.gz`;
  const b64 = o.gz.toString('base64').replace(/.{1,76}/g, '$&\r\n');
  return Buffer.from([
    `From: <${o.from}>`, `To: <${o.to}>`, `Date: ${rfc5322Date(o.now)}`,
    `Subject: Report Domain: ${o.policyDomain} Submitter: ${o.hostname} Report-ID: <${o.reportId}>`,
    `Message-ID: <${o.reportId}.${randomBytes(6).toString('hex')}@${o.hostname}>`,
    `TLS-Report-Domain: ${o.policyDomain}`, `TLS-Report-Submitter: ${o.hostname}`, 'TLS-Required: No', 'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type="tlsrpt"; boundary="${boundary}"`, '',
    `--${boundary}`, 'Content-Type: text/plain; charset=utf-8', '',
    `This is an aggregate TLS report from ${o.hostname} for ${o.policyDomain} (RFC 8460).`, '',
    `--${boundary}`, `Content-Type: application/tlsrpt+gzip; name="${file}"`, 'Content-Transfer-Encoding: base64',
    `Content-Disposition: attachment; filename="${file}"`, '', b64,
    `--${boundary}--`, '',
  ].join('\r\n'));
}

export interface TlsRptSenderOptions {
  store: Pick<Store, 'listTlsResults' | 'stageBlob' | 'enqueue' | 'deleteTlsResultsBefore' | 'listTlsResultDays'>;
  resolveTxt: (name: string) => Promise<string[][]>;
  /** Our host name: report submitter and the domain of the report sender address. */
  hostname: string;
  organization?: string;
  /** Envelope sender and From of report mail; default tlsrpt-noreply@<hostname>. */
  from?: string;
  /** DKIM keys: report mail is signed by its From domain when that has keys (RFC 8460 5.3). */
  dkim?: DkimKeySource;
  /** HTTPS POST settings (tests: CAs, address lookup). */
  https?: { ca?: string | string[]; lookup?: LookupFunction };
  /** The queue is kicked after reports are queued. */
  kick?: () => void;
  now?: () => Date;
  log: Logger;
}

export interface SentReport {
  policyDomain: string;
  rua: string;
  reportId: string;
  ok: boolean;
}

/** Sends the reports of every finished UTC day still in the store, then forgets those counts. */
export async function sendTlsReports(o: TlsRptSenderOptions): Promise<SentReport[]> {
  const now = o.now?.() ?? new Date();
  const today = now.toISOString().slice(0, 10);
  const sent: SentReport[] = [];
  for (const day of await o.store.listTlsResultDays()) {
    if (day >= today) continue;
    const counts = await o.store.listTlsResults(day);
    const domains = [...new Set(counts.map((c) => c.policyDomain))];
    for (const policyDomain of domains) {
      let rua: string[] | null = null;
      try {
        rua = (await o.resolveTxt(`_smtp._tls.${policyDomain}`)).map((c) => parseTlsRptRecord(c.join(''))).find((r) => r !== null) ?? null;
      } catch {
        rua = null;
      }
      if (!rua) continue;
      const reportId = `${day}.${policyDomain}.${randomBytes(6).toString('hex')}`;
      const from = o.from ?? `tlsrpt-noreply@${o.hostname}`;
      const json = buildTlsReport({ organization: o.organization ?? o.hostname, contact: `mailto:${from}`, reportId, day, policyDomain, counts: counts.filter((c) => c.policyDomain === policyDomain) });
      const gz = gzipSync(Buffer.from(JSON.stringify(json)));
      for (const uri of rua) {
        let ok = true;
        try {
          if (uri.toLowerCase().startsWith('mailto:')) {
            const to = decodeURIComponent(uri.slice(7));
            const mail = tlsReportMessage({ from, to, hostname: o.hostname, policyDomain, reportId, gz, now });
            const blob = await o.store.stageBlob(await signReport(o.dkim, from.slice(from.lastIndexOf('@') + 1), mail, o.log));
            // RFC 8460 5.3: through the queue like any mail; the null sender avoids report loops.
            await o.store.enqueue(null, '', [to], blob, { isDsn: true, isReport: true });
            o.kick?.();
          } else {
            await postReport(uri, gz, o.https);
          }
        } catch (err) {
          ok = false;
          o.log.warn('tls report not sent', { domain: policyDomain, rua: uri, err: (err as Error).message });
        }
        sent.push({ policyDomain, rua: uri, reportId, ok });
      }
    }
  }
  await o.store.deleteTlsResultsBefore(today);
  return sent;
}

/** RFC 8460 5.4: POST with Content-Type application/tlsrpt+gzip; any 2xx is taken. */
function postReport(uri: string, gz: Buffer, h: TlsRptSenderOptions['https']): Promise<void> {
  const u = new URL(uri);
  const opts: RequestOptions = {
    method: 'POST', host: u.hostname, servername: u.hostname, port: u.port || 443, path: u.pathname + u.search, agent: false,
    headers: { 'content-type': 'application/tlsrpt+gzip', 'content-length': gz.length },
    ...(h?.ca !== undefined && { ca: h.ca }), ...(h?.lookup && { lookup: h.lookup }),
  };
  return new Promise((resolve, reject) => {
    const req = request(opts, (res) => {
      res.resume();
      if (res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300) resolve();
      else reject(new Error(`HTTP ${res.statusCode}`));
    });
    req.setTimeout(TLSRPT_POST_TIMEOUT_MS, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(gz);
  });
}
