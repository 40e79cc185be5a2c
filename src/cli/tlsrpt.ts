// `postern tlsrpt list [--domain D] [--day YYYY-MM-DD]`: TLS reports (RFC 8460) other senders
// mailed to our addresses, one line per policy of each report.

import { formatTlsReports } from '../outbound/tls-rpt-receive.js';
import { parse, positionals } from './args.js';
import { CliError, EX_USAGE, usage } from './cli-error.js';
import { withStore } from './open-store.js';

const USAGE = 'postern tlsrpt list [--domain DOMAIN] [--day YYYY-MM-DD]';

export async function tlsrptCommand(dir: string, args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub !== 'list') throw usage(USAGE);
  const { values, positionals: p } = parse(rest, { domain: { type: 'string' }, day: { type: 'string' } }, USAGE);
  positionals(p, 0, 0, USAGE);
  const day = values.day as string | undefined;
  if (day !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new CliError(`not a day (YYYY-MM-DD): ${JSON.stringify(day)}`, EX_USAGE);
  const domain = (values.domain as string | undefined)?.toLowerCase();
  await withStore(dir, async (store) => process.stdout.write(formatTlsReports(await store.listTlsReports(domain, day))));
}
