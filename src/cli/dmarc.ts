// `postern dmarc exception list|add|rm ACCOUNT [DOMAIN]`: the account's DMARC exception list (From
// domains whose DMARC failures are not enforced for it; docs/configuration.md "DMARC enforcement").
// `postern dmarc report DOMAIN [DAY]`: the aggregate report (RFC 7489 7.2 XML) of what we received
// from a policy domain on a UTC day (default: today so far).

import { asciiDomain } from '../smtp/server/recipient-lookup.js';
import { buildReport, reportXml, type AggregateReport } from '../dmarc/aggregate-report.js';
import { parse, positionals } from './args.js';
import { CliError, EX_DATAERR, usage } from './cli-error.js';
import { withStore } from './open-store.js';

const USAGE = 'postern dmarc exception list ACCOUNT | add ACCOUNT DOMAIN | rm ACCOUNT DOMAIN | report DOMAIN [YYYY-MM-DD] | received [DOMAIN]';
const DOMAIN = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/;

export async function dmarcCommand(dir: string, args: string[]): Promise<void> {
  const [group, sub, ...rest] = args;
  if (group === 'report') return reportCommand(dir, args.slice(1));
  if (group === 'received') return receivedCommand(dir, args.slice(1));
  if (group !== 'exception') throw usage(USAGE);
  const { positionals: p } = parse(rest, {}, USAGE);
  const [name, raw] = sub === 'list' ? positionals(p, 1, 1, USAGE) : positionals(p, 2, 2, USAGE);
  if (sub !== 'list' && sub !== 'add' && sub !== 'rm') throw usage(USAGE);
  await withStore(dir, async (store) => {
    const account = await store.getAccount(name!);
    if (!account) throw new CliError(`account ${name} not found`, EX_DATAERR);
    if (sub !== 'list') {
      const domain = asciiDomain(raw!);
      if (!DOMAIN.test(domain)) throw new CliError(`not a domain: ${JSON.stringify(raw)}`, EX_DATAERR);
      await store.setDmarcException(account.id, domain, sub === 'add');
    }
    for (const d of await store.listDmarcExceptions(account.id)) console.log(d);
  });
}

async function reportCommand(dir: string, args: string[]): Promise<void> {
  const { positionals: p } = parse(args, {}, USAGE);
  const [raw, day = new Date().toISOString().slice(0, 10)] = positionals(p, 1, 2, USAGE);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`))) throw new CliError(`not a day: ${JSON.stringify(day)} (YYYY-MM-DD)`, EX_DATAERR);
  const domain = asciiDomain(raw!);
  await withStore(dir, async (store, config) => {
    const report = buildReport(await store.dmarcEvents(day, domain), { orgName: config.hostname, email: `postmaster@${config.hostname}` });
    if (!report) throw new CliError(`no DMARC evaluations of ${domain} on ${day}`, EX_DATAERR);
    process.stdout.write(reportXml(report));
  });
}

/** Reports others sent to our rua addresses: one line per report, by domain and day. */
async function receivedCommand(dir: string, args: string[]): Promise<void> {
  const { positionals: p } = parse(args, {}, USAGE);
  const [raw] = positionals(p, 0, 1, USAGE);
  await withStore(dir, async (store) => {
    for (const json of await store.listReceivedDmarcReports(raw === undefined ? null : asciiDomain(raw))) {
      const r = JSON.parse(json) as AggregateReport;
      const sum = (f: (x: AggregateReport['records'][number]) => boolean) => r.records.filter(f).reduce((n, x) => n + x.count, 0);
      const day = new Date(r.begin * 1000).toISOString().slice(0, 10);
      const total = sum(() => true);
      const pass = sum((x) => x.dkim === 'pass' || x.spf === 'pass');
      console.log(`${r.policy.domain}\t${day}\t${r.orgName}\t${r.reportId}\tmessages ${total}\tpass ${pass}\tfail ${total - pass}\tsources ${new Set(r.records.map((x) => x.sourceIp)).size}`);
    }
  });
}
