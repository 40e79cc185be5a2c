// Delivery of one accepted message: a copy into the Inbox (or, when the incoming policy says so, the
// Junk mailbox) of every local recipient account, and one queue entry for the remote recipients.
//
// The caller answers 250 only after this returns (spec 10). Every copy is staged (written and
// fsynced) before anything is committed, so a full disk or an I/O error fails the whole message
// with nothing visible. The commits (one per account, and the queue entry) are separate requests
// (savepoints of one group commit): if one fails and others succeed, those deliveries stand and
// the error is returned, so the client retries and the recipients already served may see the
// message twice, the same trade-off as a Postfix local delivery agent failing half-way; it cannot
// lose mail.
//
// A recipient account over its storage quota (the store checks it in the commit) does not fail the
// others: it is reported in `overQuota` for the caller to answer per recipient (a DSN); when no
// copy was delivered at all, deliver() throws the StoreError 'overquota' (SMTP 552 5.2.2).
//
// Local copies get the MIME cache (ENVELOPE, BODYSTRUCTURE, preview) at append time, as IMAP
// APPEND does, for messages up to CACHE_AT_STORE_MAX; bigger ones are parsed on first FETCH.

import { keepTlsReport } from '../outbound/tls-rpt-receive.js';
import type { Logger } from '../log/logger.js';
import { CACHE_AT_STORE_MAX, messageCacheJson } from '../mime/message-cache.js';
import { StoreError } from '../store/errors.js';
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
  /** RFC 8689: the remote copy may leave only over verified TLS. */
  requireTls?: boolean;
  /** Accounts whose copy goes to their \Junk mailbox (RFC 6154) instead of the Inbox. */
  junk?: ReadonlySet<number>;
  /** Header fields (CRLF-terminated) added on top of one account's copy only (its filter verdict). */
  accountFields?: ReadonlyMap<number, Buffer>;
  /** Largest copy accepted by the store. */
  maxSize?: number;
  internalDate?: Date;
}

export interface DeliveryResult {
  /** Account id to the UID the message got in its Inbox. */
  local: Map<number, number>;
  queueId: number | null;
  /** Accounts that did not get the message: it would take them over their quota. */
  overQuota: number[];
}

/** RFC 5321 4.4: the final delivery MTA records the reverse path as Return-Path. */
export function returnPathField(sender: string): Buffer {
  return Buffer.from(`Return-Path: <${sender}>\r\n`, 'utf8');
}

export async function deliver(store: Store, req: DeliveryRequest, log: Logger): Promise<DeliveryResult> {
  const inboxes: { accountId: number; mailboxId: number }[] = [];
  for (const accountId of new Set(req.localAccounts)) {
    const inbox = req.junk?.has(accountId) ? await junkMailboxId(store, accountId) : await store.inboxId(accountId);
    if (inbox === null) throw new Error(`account ${accountId} has no INBOX`);
    inboxes.push({ accountId, mailboxId: inbox });
  }
  const localContent = req.content.prepend(returnPathField(req.sender));
  // A message small enough for the cache is read once, and that buffer is also what is staged.
  const localBytes = inboxes.length && localContent.size <= CACHE_AT_STORE_MAX ? await localContent.toBuffer() : null;
  // Parsed only when some copy is stored without fields of its own.
  const plainCopy = inboxes.some(({ accountId }) => !req.accountFields?.has(accountId));
  const sharedCache = localBytes && plainCopy ? cacheOf(localBytes, log) : null;
  // A copy with fields of its own is staged and cached as those exact bytes.
  const copies = inboxes.map(({ accountId }) => {
    const extra = req.accountFields?.get(accountId);
    if (!extra) return { bytes: localBytes, source: localContent, cache: sharedCache };
    const source = localContent.prepend(extra);
    const bytes = localBytes ? Buffer.concat([extra, localBytes]) : null;
    return { bytes, source, cache: bytes ? cacheOf(bytes, log) : null };
  });
  const result: DeliveryResult = { local: new Map(), queueId: null, overQuota: [] };
  const internalDate = req.internalDate ?? new Date();
  // A blob may be referenced by one row only: one copy per account and one for the queue. The
  // copies are written and fsynced concurrently, and the commits are requested together so that
  // the store's group commit makes them durable with one fsync.
  const wantQueue = !!req.remote && req.remote.recipients.length > 0;
  const stagings = [
    ...copies.map((c) => store.stageBlob(c.bytes ?? c.source.chunks(), req.maxSize)),
    ...(wantQueue ? [store.stageBlob(req.content.chunks(), req.maxSize)] : []),
  ];
  const settled = await Promise.allSettled(stagings);
  const staged = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const stageFailure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (stageFailure) {
    await discardAll(staged);
    throw stageFailure.reason;
  }
  const commits: Promise<unknown>[] = inboxes.map(({ accountId, mailboxId }, i) =>
    store.appendMessages(accountId, mailboxId, [{ blob: staged[i]!, flags: [], internalDate, cache: copies[i]!.cache }]).then((r) => result.local.set(accountId, r.uids[0]!)),
  );
  if (wantQueue) {
    commits.push(store.enqueue(req.remote!.accountId, req.sender, [...req.remote!.recipients], staged[inboxes.length]!, { requireTls: req.requireTls ?? false }).then((q) => (result.queueId = q.id)));
  }
  const outcomes = await Promise.allSettled(commits);
  const overQuota = (i: number): boolean => {
    const o = outcomes[i]!;
    return i < inboxes.length && o.status === 'rejected' && o.reason instanceof StoreError && o.reason.code === 'overquota';
  };
  const failed = outcomes.findIndex((o, i) => o.status === 'rejected' && !overQuota(i));
  if (failed < 0) {
    // RFC 8460: a TLS report mailed to one of our addresses is also kept readable by domain and day.
    if (localBytes && result.local.size > 0) await keepTlsReport(store, localBytes, log);
    result.overQuota = inboxes.filter((_, i) => overQuota(i)).map((x) => x.accountId);
    if (result.overQuota.length === 0) return result;
    await discardAll(staged.filter((_, i) => overQuota(i)));
    if (result.local.size === 0 && result.queueId === null) throw new StoreError('overquota', 'mailbox full');
    return result;
  }
  // Committed copies belong to their rows now; the others are removed. The error goes back to the
  // client, which retries: recipients already served may see the message twice, it is never lost.
  const committed = outcomes.filter((o) => o.status === 'fulfilled').length;
  if (committed > 0) log.error('delivery failed after partial commit', { err: (outcomes[failed] as PromiseRejectedResult).reason, delivered: [...result.local.keys()].join(',') });
  await discardAll(staged.filter((_, i) => outcomes[i]!.status === 'rejected'));
  throw (outcomes[failed] as PromiseRejectedResult).reason;
}

/** The account's \Junk mailbox (RFC 6154); created when the user removed it, since junk must never
 * fall back to the Inbox. */
export async function junkMailboxId(store: Store, accountId: number): Promise<number> {
  const found = (await store.listMailboxes(accountId)).find((m) => m.specialUse === '\\Junk');
  if (found) return found.id;
  try {
    return (await store.createMailbox(accountId, 'Junk', '\\Junk')).id;
  } catch (err) {
    // A plain mailbox named Junk already exists (or was created concurrently): use it.
    const named = await store.getMailbox(accountId, 'Junk');
    if (named) return named.id;
    throw err;
  }
}

async function discardAll(blobs: StagedBlob[]): Promise<void> {
  for (const b of blobs) await b.discard().catch(() => {});
}

/** The MIME cache of a local copy (the exact stored bytes), or null: too big to hold in memory
 * here (built on first use instead) or unparseable, which must never stop a delivery. */
export async function cacheFor(content: MessageSource, log: Logger): Promise<string | null> {
  if (content.size > CACHE_AT_STORE_MAX) return null;
  return cacheOf(await content.toBuffer(), log);
}

function cacheOf(bytes: Buffer, log: Logger): string | null {
  try {
    return messageCacheJson(bytes);
  } catch (err) {
    log.warn('message parse failed at delivery', { err });
    return null;
  }
}
