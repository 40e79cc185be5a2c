// The per-message MIME cache (MessageMeta.cache in the store): the MIME tree and the IMAP FETCH values
// derived from it, computed once when a message is stored (IMAP APPEND, SMTP delivery) so that
// ENVELOPE, BODYSTRUCTURE, PREVIEW and the SORT/THREAD keys need no parsing later. Pure: bytes in,
// plain data out. The store keeps `sort` in a column of its own too (read for a whole mailbox at once).
// A message stored without a cache (too big to parse while streaming) gets one on first use.
import { bodyStructure } from './body-structure.js';
import { envelope } from './envelope.js';
import { parseMessageAndFields } from './mime-tree.js';
import { preview } from './preview.js';
import { sortKeys, type SortKeys } from './sort-keys.js';
import type { ImapValue, MimePart } from './types.js';

/** Messages up to this size are kept in memory while they are stored, to build the cache. */
export const CACHE_AT_STORE_MAX = 4 * 1024 * 1024;

/**
 * Bumped whenever the parser's output changes (v2: RFC 2046 5.1.1 delimiter CRLF, default charset,
 * Dovecot-compatible boundary matching; v3: SORT/THREAD keys), so caches written by older code are
 * rebuilt on first use.
 */
export const MESSAGE_CACHE_VERSION = 3;

export interface MessageCache {
  v: typeof MESSAGE_CACHE_VERSION;
  part: MimePart;
  envelope: ImapValue;
  body: ImapValue;
  bodystructure: ImapValue;
  preview: string;
  /** SORT and THREAD keys (RFC 5256, RFC 5957). */
  sort: SortKeys;
}

/** Parses a whole message (the exact stored bytes) into its cache. Never throws on bad input. */
export function buildMessageCache(buf: Buffer): MessageCache {
  const { part, fields } = parseMessageAndFields(buf);
  let pv = '';
  try {
    pv = preview(buf, part);
  } catch {
    pv = '';
  }
  return {
    v: MESSAGE_CACHE_VERSION,
    part,
    envelope: envelope(buf, part, fields),
    body: bodyStructure(buf, part, false),
    bodystructure: bodyStructure(buf, part, true),
    preview: pv,
    sort: sortKeys(buf, fields),
  };
}

/** The cache as the store keeps it (the `cache` column of a message): JSON text. */
export function messageCacheJson(buf: Buffer): string {
  return JSON.stringify(buildMessageCache(buf));
}

/** Reads a stored cache; null when absent, unreadable or written by an older parser version. */
export function parseMessageCache(json: string | null): MessageCache | null {
  if (!json) return null;
  try {
    const c = JSON.parse(json) as MessageCache;
    return c && c.v === MESSAGE_CACHE_VERSION && c.part ? c : null;
  } catch {
    return null;
  }
}
