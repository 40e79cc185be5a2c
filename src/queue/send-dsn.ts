// Getting a DSN to the original sender: straight into the Inbox when the sender is one of our
// addresses, else through the queue with the null sender (RFC 5321 4.5.5: a notification is
// sent with an empty reverse-path, so that it never causes another one).

import type { Logger } from '../log/logger.js';
import { cacheFor } from '../delivery/deliver.js';
import { MessageSource } from '../delivery/message-source.js';
import { StoreError } from '../store/errors.js';
import type { QueueMessage, Store } from '../store/types.js';
import { composeDsn, type DsnRecipient } from './dsn.js';

export type DsnResult = 'local' | 'queued' | 'none';

/** True for the null reverse-path, however a caller stored it. */
export function isNullSender(sender: string): boolean {
  return sender === '' || sender === '<>';
}

export async function sendDsn(
  store: Store,
  msg: QueueMessage,
  recipients: DsnRecipient[],
  o: { hostname: string; now: Date; log: Logger },
): Promise<DsnResult> {
  // RFC 3461 / RFC 5321 4.5.5: never a DSN about a DSN, never to the null sender (loops).
  if (recipients.length === 0 || msg.isDsn || isNullSender(msg.sender)) return 'none';
  const original = await store.readBlob(msg.fileId);
  return sendDsnAbout(store, { sender: msg.sender, arrivalDate: msg.created, original, ref: { msgid: msg.id }, requireTls: msg.requireTls }, recipients, o);
}

/** A DSN about a message that is not (or no longer) in the queue, e.g. one refused for some
 * recipients at delivery (over quota); `original` needs only the header section. */
export async function sendDsnAbout(
  store: Store,
  about: {
    sender: string; arrivalDate: Date; original: Buffer; ref: Record<string, string | number>;
    /** The message was sent with REQUIRETLS (RFC 8689). */
    requireTls?: boolean;
  },
  recipients: DsnRecipient[],
  o: { hostname: string; now: Date; log: Logger },
): Promise<DsnResult> {
  if (recipients.length === 0 || isNullSender(about.sender)) return 'none';
  const dsn = composeDsn({ reportingMta: o.hostname, to: about.sender, arrivalDate: about.arrivalDate, original: about.original, recipients, now: o.now });

  const local = await store.lookupAddress(about.sender);
  if (local) {
    const inbox = await store.getMailbox(local.accountId, 'INBOX');
    if (inbox) {
      const cache = await cacheFor(new MessageSource([dsn]), o.log);
      const blob = await store.stageBlob(dsn);
      try {
        await store.appendMessages(local.accountId, inbox.id, [{ blob, flags: [], internalDate: o.now, cache }]);
      } catch (err) {
        await blob.discard();
        // A sender over its storage quota cannot get the DSN, now or at a retry (a failure here
        // would make the queue try the recipients again and again): it is dropped, as a DSN that
        // cannot be delivered is (RFC 5321 4.5.5: never a DSN about a DSN).
        if (err instanceof StoreError && err.code === 'overquota') {
          o.log.warn('dsn dropped: sender over quota', { ...about.ref, to: about.sender, account: local.accountName });
          return 'none';
        }
        throw err;
      }
      o.log.info('dsn delivered locally', { ...about.ref, to: about.sender, account: local.accountName });
      return 'local';
    }
  }
  const blob = await store.stageBlob(dsn);
  try {
    // RFC 8689 5: a bounce carries the original's header section (composeDsn returns headers
    // only, as RET=HDRS does), so it is protected as the original was: it is relayed with
    // REQUIRETLS itself, over verified TLS or not at all.
    const q = await store.enqueue(null, '', [about.sender], blob, { isDsn: true, requireTls: about.requireTls === true });
    o.log.info('dsn queued', { ...about.ref, dsnid: q.id, to: about.sender, ...(q.requireTls && { requireTls: true }) });
  } catch (err) {
    await blob.discard();
    throw err;
  }
  return 'queued';
}
