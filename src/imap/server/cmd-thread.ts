// THREAD and UID THREAD (RFC 5256 4, 5): ORDEREDSUBJECT and REFERENCES over the messages the search
// criteria choose, with keys stored per message (sort-key-source.ts).
import type { SortKeys } from '../../mime/sort-keys.js';
import type { CommandOf } from '../proto/types.js';
import type { ImapConnection } from './connection.js';
import type { CommandResult } from './dispatch.js';
import { runSearch } from './search-run.js';
import { sortKeysFor } from './sort-key-source.js';
import { formatThreads, threadOrderedSubject, threadReferences, type ThreadInput } from './thread-algorithms.js';

const NO_KEYS: SortKeys = {};

export async function handleThread(conn: ImapConnection, cmd: CommandOf<'THREAD'>): Promise<CommandResult | void> {
  const view = conn.view!;
  const search = await runSearch(conn.ctx.store, view, cmd.key);
  const { keys, gone } = await sortKeysFor(conn.ctx.store, view, search.found);
  const input: ThreadInput[] = search.found.map((uid) => {
    const k = keys.get(uid) ?? NO_KEYS;
    return {
      n: cmd.uid ? uid : view.msn(uid),
      // RFC 5256 2.2: without a usable Date field the sent date is the INTERNALDATE.
      date: k.d ?? view.messages.get(uid)!.internalDate.getTime(),
      subject: k.s ?? '',
      replyOrForward: k.r === 1,
      messageId: k.m ?? null,
      parents: k.p ?? [],
    };
  });
  const threads = cmd.algorithm === 'REFERENCES' ? threadReferences(input) : threadOrderedSubject(input);
  const data = formatThreads(threads, (i) => input[i]!.n);
  await conn.untagged(data ? `THREAD ${data}` : 'THREAD');
  if (search.gone || gone) return { code: 'EXPUNGEISSUED', text: 'THREAD completed; some messages were expunged by another session' };
}
