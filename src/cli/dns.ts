// `postern dns records DOMAIN` prints every record the domain needs as zone-file lines;
// `postern dns check DOMAIN` looks them up (through dns.resolver in the config, else the system's
// resolver) and exits non-zero when any is missing or wrong.

import { resolverAddress } from '../config/load.js';
import type { Config } from '../config/types.js';
import { checkDomain, renderResults } from '../dns/check.js';
import { domainRecords, renderZone } from '../dns/records.js';
import { normalizeDomain } from '../store/address.js';
import { parse, positionals } from './args.js';
import { CliError, EX_DATAERR, usage } from './cli-error.js';
import { withStore } from './open-store.js';

const USAGE = 'postern dns records DOMAIN | check DOMAIN';

/** The domain, which must be one of ours, and the config. */
async function ourDomain(dir: string, text: string): Promise<{ domain: string; config: Config }> {
  let domain: string;
  try {
    domain = normalizeDomain(text);
  } catch {
    throw new CliError(`not a valid domain: ${JSON.stringify(text)}`, EX_DATAERR);
  }
  return withStore(dir, async (store, config) => {
    if (!(await store.isLocalDomain(domain))) throw new CliError(`${domain} is not one of our domains`, EX_DATAERR);
    return { domain, config };
  });
}

export async function dnsCommand(dir: string, args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const { positionals: p } = parse(rest, {}, USAGE);
  switch (sub) {
    case 'records': {
      const [text] = positionals(p, 1, 1, 'postern dns records DOMAIN');
      const { domain, config } = await ourDomain(dir, text!);
      process.stdout.write(renderZone(domainRecords(config, domain)));
      return;
    }
    case 'check': {
      const [text] = positionals(p, 1, 1, 'postern dns check DOMAIN');
      const { domain, config } = await ourDomain(dir, text!);
      const server = config.dns.resolver ? resolverAddress(config.dns.resolver) : null;
      const results = await checkDomain(domainRecords(config, domain), config.hostname, server);
      process.stdout.write(renderResults(results));
      const bad = results.filter((r) => !r.ok).length;
      if (bad > 0) {
        process.stdout.write(`${bad} record(s) to fix\n`);
        process.exitCode = EX_DATAERR;
      } else {
        process.stdout.write('all records OK\n');
      }
      return;
    }
    default:
      throw usage(USAGE);
  }
}
