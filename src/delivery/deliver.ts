// Delivery of one accepted message: a copy into the Inbox of every local recipient account and one
// queue entry for the remote recipients.
//
// The caller answers 250 only after this returns (spec 10). Every copy is staged (written and
// fsynced) before anything is committed, so a full disk or an I/O error fails the whole message
// with nothing visible. The commits (one per account, then the queue entry) are separate
// transactions: if one fails after others succeeded, those deliveries stand and the error is
// returned, so the client retries and the recipients already served may see the message twice,
// the same trade-off as a Postfix local delivery agent failing half-way; it cannot lose mail.
//
// Local copies get the MIME cache (ENVELOPE, BODYSTRUCTURE, preview) at append time, as IMAP
// APPEND does, for messages up to CACHE_AT_STORE_MAX; bigger ones are parsed on first FETCH.

import type { Logger } from '../log/logger.js';
import { CACHE_AT_STORE_MAX, messageCacheJson } from '../mime/message-cache.js';
import type { StagedBlob, Store } from '../store/types.js';
import { MessageSource } from './message-source.js';

export interface DeliveryRequest {
  /** Reverse path without brackets; '' for the null sender. */
  sender: string;
  /** Accounts that get the message in their Inbox, each once. */
  localAccounts: readonly number[];
  /** Remote recipients for the outbound queue (submission only). */
  remote: { accountId: number | null; recipients: readonly string[] } | null;
  content: MessageSource;
  /** Largest copy accepted by the store. */
  maxSize?: number;
  internalDate?: Date;
}

export interface DeliveryResult {
  /** Account id to the UID the message got in its Inbox. */
  local: Map<number, number>;
  queueId: number | null;
}

/** RFC 5321 4.4: the final delivery MTA records the reverse path as Return-Path. */
export function returnPathField(sender: string): Buffer {
  return Buffer.from(`Return-Path: <${sender}>\r\n`, 'utf8');
}

export async function deliver(store: Store, req: DeliveryRequest, log: Logger): Promise<DeliveryResult> {
  const inboxes: { accountId: number; mailboxId: number }[] = [];
  for (const accountId of new Set(req.localAccounts)) {
    const inbox = await store.getMailbox(accountId, 'INBOX');
    if (!inbox) throw new Error(`account ${accountId} has no INBOX`);
    inboxes.push({ accountId, mailboxId: inbox.id });
  }
  const localContent = req.content.prepend(returnPathField(req.sender));
  const cache = inboxes.length ? await cacheFor(localContent, log) : null;
  const staged: StagedBlob[] = [];
  const result: DeliveryResult = { local: new Map(), queueId: null };
  let committed = 0;
  try {
    // A blob may be referenced by one row only: one copy per account and one for the queue.
    for (let i = 0; i < inboxes.length; i++) staged.push(await store.stageBlob(localContent.chunks(), req.maxSize));
    const queueBlob = req.remote && req.remote.recipients.length ? await store.stageBlob(req.content.chunks(), req.maxSize) : null;
    if (queueBlob) staged.push(queueBlob);
    const internalDate = req.internalDate ?? new Date();
    for (let i = 0; i < inboxes.length; i++) {
      const { accountId, mailboxId } = inboxes[i]!;
      const r = await store.appendMessages(accountId, mailboxId, [{ blob: staged[i]!, flags: [], internalDate, cache }]);
      committed++;
      result.local.set(accountId, r.uids[0]!);
    }
    if (queueBlob && req.remote) {
      const q = await store.enqueue(req.remote.accountId, req.sender, [...req.remote.recipients], queueBlob);
      committed++;
      result.queueId = q.id;
    }
    return result;
  } catch (err) {
    if (committed > 0) log.error('delivery failed after partial commit', { err, delivered: [...result.local.keys()].join(',') });
    // Uncommitted copies are removed; committed ones belong to their rows now.
    for (const b of staged.slice(committed)) await b.discard().catch(() => {});
    throw err;
  }
}

/** The MIME cache of a local copy (the exact stored bytes), or null: too big to hold in memory
 * here (built on first use instead) or unparseable, which must never stop a delivery. */
export async function cacheFor(content: MessageSource, log: Logger): Promise<string | null> {
  if (content.size > CACHE_AT_STORE_MAX) return null;
  try {
    return messageCacheJson(await content.toBuffer());
  } catch (err) {
    log.warn('message parse failed at delivery', { err });
    return null;
  }
}
