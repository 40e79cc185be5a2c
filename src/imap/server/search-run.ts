// Runs a SEARCH program over the selected mailbox: the UIDs that match, in ascending order. Shared by
// SEARCH (cmd-search.ts), SORT and THREAD (RFC 5256: they take the same search criteria).
import type { SearchKey } from '../proto/types.js';
import type { Store } from '../../store/types.js';
import type { MailboxView } from './mailbox-view.js';
import { isExpungeIssued, MessageLoader, ReadAhead, Yielder } from './message-loader.js';
import { matches, matchesCheap, needsContent, needsParsed, target } from './search-eval.js';

const BATCH = 100;

export interface SearchRun {
  /** Matching UIDs, ascending. */
  found: number[];
  /** A message was expunged by another session and its content is gone: it matched nothing. */
  gone: boolean;
}

export async function runSearch(store: Store, view: MailboxView, key: SearchKey): Promise<SearchRun> {
  // ALL (what SORT and THREAD are mostly given): every message, nothing to evaluate.
  if (key.op === 'all') return { found: view.uids.slice(), gone: false };
  const now = Date.now();
  if (!needsContent(key)) return { found: await runCheap(view, key, now), gone: false };
  const loader = new MessageLoader(store, view.mailbox.id);
  const content = needsContent(key);
  // Caches (parse trees) in batches only for keys that need one for every message; BODY and TEXT
  // load it only for the few messages their raw-byte pass cannot decide.
  const parsed = needsParsed(key);
  const found: number[] = [];
  let gone = false;
  const uids = view.uids.slice();
  // File reads overlap with the evaluation (bounded read-ahead), instead of one at a time.
  const ahead = content ? new ReadAhead(loader, uids.map((u) => view.messages.get(u))) : null;
  const yielder = new Yielder();
  for (let i = 0; i < uids.length; i += BATCH) {
    const batch = uids.slice(i, i + BATCH);
    if (parsed) await loader.prefetch(batch.map((u) => view.messages.get(u)));
    for (let j = 0; j < batch.length; j++) {
      const uid = batch[j]!;
      ahead?.at(i + j);
      try {
        if (view.messages.has(uid) && (await matches(key, target(view, loader, uid), view, now))) found.push(uid);
      } catch (err) {
        // Expunged by another session, its content gone: it matches nothing (RFC 9051 7.5.1).
        if (!isExpungeIssued(err)) throw err;
        gone = true;
      }
      ahead?.done(i + j);
      loader.release([uid]);
      const y = yielder.tick();
      if (y) await y;
    }
  }
  return { found, gone };
}

/** Keys the view decides (flags, sizes, dates, sets): no content, no promise per message. */
async function runCheap(view: MailboxView, key: SearchKey, now: number): Promise<number[]> {
  const found: number[] = [];
  const uids = view.uids.slice();
  const yielder = new Yielder();
  for (const uid of uids) {
    const m = view.messages.get(uid);
    if (m && matchesCheap(key, m, () => view.msn(uid), view, now)) found.push(uid);
    const y = yielder.tick();
    if (y) await y;
  }
  return found;
}
