// THREAD and UID THREAD (RFC 5256 4, 5): ORDEREDSUBJECT and REFERENCES over the messages the search
// criteria choose, with keys stored per message (sort-key-source.ts).
import type { MessageTable } from './message-table.js';
import type { SortKeys } from '../../mime/sort-keys.js';
import type { CommandOf, ThreadAlgorithm } from '../proto/types.js';
import type { ImapConnection } from './connection.js';
import type { CommandResult } from './dispatch.js';
import type { MailboxView, ViewMessage } from './mailbox-view.js';
import { runSearch } from './search-run.js';
import { sortKeysFor } from './sort-key-source.js';
import { formatThreads, threadOrderedSubject, threadReferences, type ThreadInput, type ThreadNode } from './thread-algorithms.js';

const NO_KEYS: SortKeys = {};

/**
 * The last forest per algorithm, per view message table (as the keys are): a message's keys never
 * change, so the same messages always thread the same way, and a client that threads a mailbox
 * again (each time it opens it) gets it without the work. Like Dovecot's thread index, but held
 * only while the session shows the mailbox.
 */
const lastForest = new WeakMap<MessageTable<ViewMessage>, Map<ThreadAlgorithm, { uids: number[]; threads: ThreadNode[] }>>();

function sameList(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

async function forest(conn: ImapConnection, view: MailboxView, algorithm: ThreadAlgorithm, uids: number[]): Promise<{ threads: ThreadNode[]; gone: boolean }> {
  let byAlg = lastForest.get(view.messages);
  const last = byAlg?.get(algorithm);
  if (last && sameList(last.uids, uids)) return { threads: last.threads, gone: false };
  const { keys, gone } = await sortKeysFor(conn.ctx.store, view, uids);
  const input: ThreadInput[] = uids.map((uid, i) => {
    const k = keys.get(uid) ?? NO_KEYS;
    return {
      n: i,
      // RFC 5256 2.2: without a usable Date field the sent date is the INTERNALDATE.
      date: k.d ?? view.messages.get(uid)!.internalDate.getTime(),
      subject: k.s ?? '',
      replyOrForward: k.r === 1,
      messageId: k.m ?? null,
      parents: k.p ?? [],
    };
  });
  const threads = algorithm === 'REFERENCES' ? threadReferences(input) : threadOrderedSubject(input);
  // A message whose keys could not be read (expunged meanwhile) must not make the result stick.
  if (!gone) {
    if (!byAlg) lastForest.set(view.messages, (byAlg = new Map()));
    byAlg.set(algorithm, { uids, threads });
  }
  return { threads, gone };
}

export async function handleThread(conn: ImapConnection, cmd: CommandOf<'THREAD'>): Promise<CommandResult | void> {
  const view = conn.view!;
  const search = await runSearch(conn.ctx.store, view, cmd.key);
  const { threads, gone } = await forest(conn, view, cmd.algorithm, search.found);
  const uids = search.found;
  const data = formatThreads(threads, cmd.uid ? (i) => uids[i]! : (i) => view.msn(uids[i]!));
  await conn.untagged(data ? `THREAD ${data}` : 'THREAD');
  if (search.gone || gone) return { code: 'EXPUNGEISSUED', text: 'THREAD completed; some messages were expunged by another session' };
}
