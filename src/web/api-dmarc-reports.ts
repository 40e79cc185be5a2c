// DMARC aggregate reports that other receivers mailed to our rua addresses (dmarc.reportAddresses),
// for the domains of the logged-in account only (the domains of its addresses): per domain and UTC
// day, each report's reporter, date range and rows, so a user can see who sends as their domain and
// whether it passes.

import type { AggregateReport } from '../dmarc/aggregate-report.js';
import { DMARC_REPORTS_SHOWN } from './limits.js';
import type { Router } from './router.js';
import { requireSession } from './session-guard.js';
import type { WebApp } from './web-app.js';
import { json } from './web-response.js';

interface DayOut {
  day: string;
  reports: ReturnType<typeof reportOut>[];
}

export function dmarcReportRoutes(router: Router, app: WebApp): void {
  router.add('GET', '/account/api/dmarc/received', async (r) => {
    const s = await requireSession(app, r, { stateChange: false });
    const addresses = await app.ctx.store.listAddresses(s.accountId);
    const domains = [...new Set(addresses.map((a) => a.address.slice(a.address.lastIndexOf('@') + 1).toLowerCase()))].sort();
    const reports = (await app.ctx.store.listReceivedDmarcReportsFor(domains, DMARC_REPORTS_SHOWN)).map((j) => JSON.parse(j) as AggregateReport);
    const byDomain = new Map<string, Map<string, DayOut>>(domains.map((d) => [d, new Map()]));
    for (const rep of reports) {
      // The store selected by this domain: it is one of ours, lower-case.
      const days = byDomain.get(rep.policy.domain.toLowerCase())!;
      const day = new Date(rep.begin * 1000).toISOString().slice(0, 10);
      let d = days.get(day);
      if (!d) days.set(day, (d = { day, reports: [] }));
      d.reports.push(reportOut(rep));
    }
    return json(200, {
      limit: DMARC_REPORTS_SHOWN,
      domains: domains.map((domain) => ({ domain, days: [...byDomain.get(domain)!.values()] })),
    });
  });
}

function reportOut(r: AggregateReport) {
  const messages = r.records.reduce((n, x) => n + x.count, 0);
  // RFC 7489 4.2: a message passes DMARC when either aligned result passes.
  const passed = r.records.filter((x) => x.dkim === 'pass' || x.spf === 'pass').reduce((n, x) => n + x.count, 0);
  return {
    reporter: r.orgName,
    reporterEmail: r.email,
    reportId: r.reportId,
    begin: new Date(r.begin * 1000).toISOString(),
    end: new Date(r.end * 1000).toISOString(),
    policy: r.policy,
    messages,
    passed,
    rows: r.records.map((x) => ({
      sourceIp: x.sourceIp, count: x.count, disposition: x.disposition, dkim: x.dkim, spf: x.spf,
      headerFrom: x.headerFrom, envelopeFrom: x.envelopeFrom, authDkim: x.authDkim, authSpf: x.authSpf,
    })),
  };
}
