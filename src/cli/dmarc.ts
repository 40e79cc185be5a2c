// `postern dmarc exception list|add|rm ACCOUNT [DOMAIN]`: the account's DMARC exception list (From
// domains whose DMARC failures are not enforced for it; docs/configuration.md "DMARC enforcement").

import { asciiDomain } from '../smtp/server/recipient-lookup.js';
import { parse, positionals } from './args.js';
import { CliError, EX_DATAERR, usage } from './cli-error.js';
import { withStore } from './open-store.js';

const USAGE = 'postern dmarc exception list ACCOUNT | add ACCOUNT DOMAIN | rm ACCOUNT DOMAIN';
const DOMAIN = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/;

export async function dmarcCommand(dir: string, args: string[]): Promise<void> {
  const [group, sub, ...rest] = args;
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
