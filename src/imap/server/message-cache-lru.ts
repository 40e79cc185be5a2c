// Parsed message caches (ENVELOPE, BODYSTRUCTURE, the MIME tree) shared by every session of the
// process, by file id: a content never changes for its id and ids are never reused, so an entry is
// never stale, and each worker process keeps its own with no invalidation between them. Repeated
// FETCHes of the same messages then neither read the `cache` column nor parse its JSON again.
import { ByteLru } from '../../store/byte-lru.js';
import type { Store } from '../../store/types.js';
import type { MessageCache } from '../../mime/message-cache.js';

/**
 * Bound of each store's LRU, counted in characters of the caches' JSON (the parsed objects take a
 * few times that in the heap).
 */
export const MESSAGE_CACHE_LRU_MAX = 16 * 1024 * 1024;

/** One LRU per store object (tests and tools open several stores in one process, each with its own
 * ids); it goes with the store. */
const perStore = new WeakMap<Store, ByteLru<number, MessageCache>>();

export function messageCacheLru(store: Store): ByteLru<number, MessageCache> {
  let lru = perStore.get(store);
  if (!lru) perStore.set(store, (lru = new ByteLru(MESSAGE_CACHE_LRU_MAX)));
  return lru;
}
