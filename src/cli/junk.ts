// `postern junk show ACCOUNT | threshold ACCOUNT VALUE|default`: the account's junk filter: what it
// has learnt (messages per class, tokens) and its spam threshold.

import { parse, positionals } from './args.js';
import { CliError, EX_DATAERR, usage } from './cli-error.js';
import { withStore } from './open-store.js';

const USAGE = 'postern junk show ACCOUNT | threshold ACCOUNT VALUE|default   (VALUE above 0, at most 1)';

export async function junkCommand(dir: string, args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const { positionals: p } = parse(rest, {}, USAGE);
  if (sub !== 'show' && sub !== 'threshold') throw usage(USAGE);
  const [name, value] = sub === 'show' ? positionals(p, 1, 1, USAGE) : positionals(p, 2, 2, USAGE);
  await withStore(dir, async (store, config) => {
    const account = await store.getAccount(name!);
    if (!account) throw new CliError(`account ${name} not found`, EX_DATAERR);
    if (sub === 'threshold') {
      const t = value!.toLowerCase() === 'default' ? null : Number(value);
      if (t !== null && !(Number.isFinite(t) && t > 0 && t <= 1)) throw new CliError(`not a threshold: ${JSON.stringify(value)} (above 0, at most 1, or default)`, EX_DATAERR);
      await store.junk.setThreshold(account.id, t);
    }
    const s = await store.junk.state(account.id);
    const threshold = s.threshold === null ? `${config.junk?.threshold ?? 0.9} (server default)` : String(s.threshold);
    console.log(`${account.name}\tspam ${s.spamMessages}\tham ${s.hamMessages}\ttokens ${await store.junk.tokenCount(account.id)}\tthreshold ${threshold}${config.junk?.enabled === false ? '\tfilter off (junk.enabled)' : ''}`);
  });
}
