// Getting a DSN to the original sender: straight into the Inbox when the sender is one of our
// addresses, else through the queue with the null sender (RFC 5321 4.5.5: a notification is
// sent with an empty reverse-path, so that it never causes another one).

import type { Logger } from '../log/logger.js';
import { cacheFor } from '../delivery/deliver.js';
import { MessageSource } from '../delivery/message-source.js';
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
  const dsn = composeDsn({ reportingMta: o.hostname, to: msg.sender, arrivalDate: msg.created, original, recipients, now: o.now });

  const local = await store.lookupAddress(msg.sender);
  if (local) {
    const inbox = await store.getMailbox(local.accountId, 'INBOX');
    if (inbox) {
      const cache = await cacheFor(new MessageSource([dsn]), o.log);
      const blob = await store.stageBlob(dsn);
      try {
        await store.appendMessages(local.accountId, inbox.id, [{ blob, flags: [], internalDate: o.now, cache }]);
      } catch (err) {
        await blob.discard();
        throw err;
      }
      o.log.info('queue dsn delivered locally', { msgid: msg.id, to: msg.sender, account: local.accountName });
      return 'local';
    }
  }
  const blob = await store.stageBlob(dsn);
  try {
    const q = await store.enqueue(null, '', [msg.sender], blob, { isDsn: true });
    o.log.info('queue dsn queued', { msgid: msg.id, dsnid: q.id, to: msg.sender });
  } catch (err) {
    await blob.discard();
    throw err;
  }
  return 'queued';
}
