// ENVELOPE, BODY and BODYSTRUCTURE as sent, kept beside the parsed cache they are written from.
// The parsed caches are shared by every session of the process (message-cache-lru.ts) and never
// change for a message, so their serialisation is done once per form (UTF-8 accepted or not, the
// only thing that changes how a string is sent, response-writer.ts) instead of at every FETCH; it
// goes when the cache object does (a WeakMap), so it adds no bound of its own.
import type { MessageCache } from '../../mime/message-cache.js';
import { ResponseBuilder } from '../proto/response-writer.js';

export type RenderedItem = 'envelope' | 'body' | 'bodystructure';

const rendered = new WeakMap<MessageCache, Map<string, Buffer>>();

/** The item's value as sent to a client that does (utf8) or does not accept UTF-8. */
export function renderedItem(cache: MessageCache, item: RenderedItem, utf8: boolean): Buffer {
  let forms = rendered.get(cache);
  if (!forms) rendered.set(cache, (forms = new Map()));
  const key = utf8 ? `${item}:u` : item;
  let out = forms.get(key);
  if (!out) forms.set(key, (out = new ResponseBuilder(utf8).value(cache[item]).toBuffer()));
  return out;
}
