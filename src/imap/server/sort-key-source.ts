// The SORT/THREAD keys of a view's messages (mime/sort-keys.ts). They are computed once per message
// with its MIME cache and stored with it; a SORT reads them for the whole mailbox in one store pass
// (a small column per message), and keeps them with the view's message table so that the next SORT
// or THREAD of the session reads nothing. Messages whose cache predates the keys are parsed once and
// their rebuilt cache written back (MessageLoader.cache).
import type { MessageTable } from './message-table.js';
import type { SortKeys } from '../../mime/sort-keys.js';
import type { Store } from '../../store/types.js';
import type { MailboxView, ViewMessage } from './mailbox-view.js';
import { isExpungeIssued, MessageLoader, Yielder } from './message-loader.js';

/** Fewer missing keys than this are fetched by UID; more, by one pass over the mailbox's column. */
const BY_UID_MAX = 64;

/** Rows per store read of the keys column. */
const PAGE = 5000;

/** Keys per view message table: shared by views that take over the same table (re-SELECT). */
const memo = new WeakMap<MessageTable<ViewMessage>, Map<number, SortKeys>>();

export interface KeysResult {
  keys: Map<number, SortKeys>;
  /** Some message was expunged by another session before its keys could be read. */
  gone: boolean;
}

export async function sortKeysFor(store: Store, view: MailboxView, uids: readonly number[]): Promise<KeysResult> {
  let keys = memo.get(view.messages);
  if (!keys) memo.set(view.messages, (keys = new Map()));
  let missing = uids.filter((u) => !keys.has(u));
  if (!missing.length) return { keys, gone: false };
  const loader = new MessageLoader(store, view.mailbox.id);
  if (missing.length > BY_UID_MAX) {
    const want = new Set(missing);
    const found = keys;
    // In pages, with a turn for other sessions between them (a page is some milliseconds of work).
    for (let after = 0; ; ) {
      const n = await store.forEachMessageSortKeys(view.mailbox.id, after, PAGE, (uid, json) => {
        after = uid;
        if (json !== null && want.has(uid)) found.set(uid, JSON.parse(json) as SortKeys);
      });
      if (n < PAGE) break;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    missing = missing.filter((u) => !keys.has(u));
  }
  let gone = false;
  const yielder = new Yielder();
  for (let i = 0; i < missing.length; i += BY_UID_MAX) {
    const batch = missing.slice(i, i + BY_UID_MAX);
    await loader.prefetch(batch.map((u) => view.messages.get(u)));
    for (const uid of batch) {
      const msg = view.messages.get(uid);
      if (!msg) continue;
      try {
        // Built from the file when the stored cache is missing or older (and written back).
        keys.set(uid, (await loader.cache(msg)).sort);
      } catch (err) {
        if (!isExpungeIssued(err)) throw err;
        gone = true;
      }
      loader.release([uid]);
      const y = yielder.tick();
      if (y) await y;
    }
  }
  // Messages expunged and reported are dropped, so the table follows the view.
  if (keys.size > view.messages.size + BY_UID_MAX) for (const u of keys.keys()) if (!view.messages.has(u)) keys.delete(u);
  return { keys, gone };
}
