// `postern queue list|retry ID|drop ID`.

import { QueueCommandError, formatQueueList, queueDrop, queueList, queueRetry } from '../queue/queue-commands.js';
import { parse, positionals } from './args.js';
import { CliError, EX_DATAERR, EX_USAGE, usage } from './cli-error.js';
import { withStore } from './open-store.js';

const USAGE = 'postern queue list | retry ID | drop ID';

function queueId(text: string): number {
  if (!/^\d+$/.test(text)) throw new CliError(`not a queue id: ${JSON.stringify(text)}`, EX_USAGE);
  return Number(text);
}

export async function queueCommand(dir: string, args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const { positionals: p } = parse(rest, {}, USAGE);
  try {
    switch (sub) {
      case 'list':
        positionals(p, 0, 0, 'postern queue list');
        await withStore(dir, async (store) => process.stdout.write(formatQueueList(await queueList(store))));
        return;
      case 'retry': {
        const [id] = positionals(p, 1, 1, 'postern queue retry ID');
        // The running server picks the recipients up at its next queue check.
        await withStore(dir, async (store) => {
          const n = await queueRetry(store, queueId(id!));
          console.log(`${n} recipient(s) scheduled for delivery now`);
        });
        return;
      }
      case 'drop': {
        const [id] = positionals(p, 1, 1, 'postern queue drop ID');
        await withStore(dir, (store) => queueDrop(store, queueId(id!)));
        return;
      }
      default:
        throw usage(USAGE);
    }
  } catch (err) {
    if (err instanceof QueueCommandError) throw new CliError(err.message, EX_DATAERR);
    throw err;
  }
}
