// What an IMAP URL (RFC 5092) refers to in one account's store: the message, or the part of it that
// ;SECTION= and ;PARTIAL= select, as FETCH BODY.PEEK[section]<partial> would give it, but the bytes
// as stored (CATENATE copies them unchanged, RFC 4469 3; NUL stays, since BINARY is supported).
// A whole message (with or without ;PARTIAL=) is streamed from the store in pieces; a section needs
// the message's content and MIME structure, loaded as FETCH loads them (message-loader.ts).
// Access rights are the caller's business: it passes the account the URL is resolved in, having
// checked the URL's user/host (CATENATE) or its URLAUTH (URLFETCH, BURL). ;EXPIRE= likewise.
import { getSection, partial as partialOf, resolvePart, type MimePart } from '../../mime/index.js';
import { StoreError } from '../../store/errors.js';
import type { Store } from '../../store/types.js';
import { ImapError } from '../server/errors.js';
import { canonicalName } from '../server/mailbox-names.js';
import { ViewMessage } from '../server/mailbox-view.js';
import { MessageLoader } from '../server/message-loader.js';
import { sectionSpecOf, type ImapUrl, type ImapUrlError } from './imap-url.js';

/** Pieces a streamed message is read in. */
export const URL_READ_CHUNK = 1024 * 1024;

export interface ResolvedUrl {
  mailboxId: number;
  uid: number;
  /** Bytes the URL refers to. */
  size: number;
  /** Those bytes in pieces. A message removed meanwhile fails the iteration (StoreError). */
  chunks(): AsyncIterable<Buffer>;
}

const badUrl = (reason: string): ImapUrlError => ({ code: 'BADURL', reason });

/**
 * The last message a section URL was read from, with its MIME structure: the URLs of one command
 * (CATENATE's header, MIME header and body of the same message; URLFETCH's list) mostly name parts
 * of one message, read and parsed once. One message at most, so memory stays bounded.
 */
export class UrlSourceCache {
  private key = '';
  private value: { content: Buffer; root: MimePart } | null = null;

  get(mailboxId: number, uid: number, fileId: number): { content: Buffer; root: MimePart } | null {
    return this.key === `${mailboxId}:${uid}:${fileId}` ? this.value : null;
  }

  set(mailboxId: number, uid: number, fileId: number, value: { content: Buffer; root: MimePart }): void {
    this.key = `${mailboxId}:${uid}:${fileId}`;
    this.value = value;
  }
}

/**
 * Finds what `url` names in account `accountId`: mailbox (by its decoded name), UIDVALIDITY when the
 * URL has one (RFC 5092 6: a mismatch makes the URL invalid), message, section. Every miss is a
 * BADURL with a reason for logs (not to be shown as more than "bad URL" to third parties).
 */
export async function resolveImapUrl(store: Store, accountId: number, url: ImapUrl, sources?: UrlSourceCache): Promise<ResolvedUrl | ImapUrlError> {
  const mb = await store.getMailbox(accountId, canonicalName(url.mailbox.normalize('NFC')));
  if (!mb) return badUrl('no such mailbox');
  if (url.uidValidity !== undefined && url.uidValidity !== mb.uidValidity) return badUrl('UIDVALIDITY mismatch');
  const [meta] = await store.getMessages(mb.id, [url.uid]);
  if (!meta) return badUrl('no such message');
  const m = new ViewMessage(meta.uid, meta.flags, meta.modseq, meta.internalDate.getTime(), meta.saveDate.getTime(), meta.size, meta.fileId, meta.id);
  const offset = url.partial?.offset ?? 0;
  const length = url.partial?.length;

  if (url.section === undefined) {
    // RFC 5092 3.2 / RFC 9051 6.4.5 partial: from offset, at most length bytes; past the end, none.
    const start = Math.min(offset, m.size);
    const end = length === undefined ? m.size : Math.min(m.size, start + length);
    return {
      mailboxId: mb.id,
      uid: m.uid,
      size: end - start,
      async *chunks() {
        for (let at = start; at < end; ) {
          const piece = await store.readBlobRange(m.fileId, at, Math.min(URL_READ_CHUNK, end - at));
          if (piece.length === 0) throw new StoreError('contentmissing', 'message content ended early');
          at += piece.length;
          yield piece;
        }
      },
    };
  }

  const spec = sectionSpecOf(url.section);
  if (!spec) return badUrl('bad section');
  let data: Buffer;
  try {
    let src = sources?.get(mb.id, m.uid, m.fileId) ?? null;
    if (!src) {
      const loader = new MessageLoader(store, mb.id);
      await loader.prefetch([m]);
      const content = await loader.content(m);
      src = { content, root: (await loader.cache(m, content)).part };
      sources?.set(mb.id, m.uid, m.fileId, src);
    }
    const { content, root } = src;
    if (spec.part.length && !resolvePart(root, spec.part)) return badUrl('no such section');
    data = getSection(content, root, spec);
  } catch (err) {
    // Expunged between the lookup and the read (message-loader.ts: EXPUNGEISSUED).
    if (err instanceof ImapError || (err instanceof StoreError && err.code === 'contentmissing')) return badUrl('no such message');
    throw err;
  }
  if (url.partial) data = partialOf(data, offset, length);
  const bytes = data;
  return {
    mailboxId: mb.id,
    uid: m.uid,
    size: bytes.length,
    async *chunks() {
      if (bytes.length) yield bytes;
    },
  };
}

/** All the bytes at once (URLFETCH answers with one literal). */
export async function readResolvedUrl(r: ResolvedUrl): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r.chunks()) parts.push(c);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}
