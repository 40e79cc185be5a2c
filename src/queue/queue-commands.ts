// `postern queue list | retry ID | drop ID`: plain functions on the store; the CLI wires them in
// and prints. They work while the server runs: the runner picks up a retry at its next look
// (at most POLL_INTERVAL_MS later), and skips a message dropped under it.

import type { QueueMessage, Store } from '../store/types.js';
import { isNullSender } from './send-dsn.js';

export class QueueCommandError extends Error {
  override name = 'QueueCommandError';
}

async function requireMessage(store: Store, id: number): Promise<QueueMessage> {
  if (!Number.isSafeInteger(id) || id <= 0) throw new QueueCommandError(`invalid queue message id ${String(id)}`);
  const m = await store.getQueueMessage(id);
  if (!m) throw new QueueCommandError(`no queue message ${id}`);
  return m;
}

export function queueList(store: Store): Promise<QueueMessage[]> {
  return store.listQueue();
}

/**
 * The listing as text: a `#` header line, then per message a tab-separated line (id, created,
 * size, sender, `dsn` for notifications) and one indented line per recipient (address, state,
 * attempts, next attempt, last error).
 */
export function formatQueueList(messages: QueueMessage[]): string {
  const clean = (s: string) => s.replace(/[\t\r\n]+/g, ' ');
  const lines = ['# id\tcreated\tsize\tsender\t[dsn]', '#\trecipient\tstate\tattempts\tnext attempt\tlast error'];
  for (const m of messages) {
    lines.push([m.id, m.created.toISOString(), m.size, isNullSender(m.sender) ? '<>' : m.sender, ...(m.isDsn ? ['dsn'] : []), ...(m.isReport ? ['report'] : [])].join('\t'));
    for (const r of m.recipients) {
      const next = r.state === 'pending' ? r.nextAttempt.toISOString() : '-';
      lines.push(['', r.address, r.state, r.attempts, next, r.lastError === null ? '-' : clean(r.lastError)].join('\t'));
    }
  }
  return lines.join('\n') + '\n';
}

/** Makes the message's pending recipients due now; returns how many. */
export async function queueRetry(store: Store, id: number, now: Date = new Date()): Promise<number> {
  const m = await requireMessage(store, id);
  const pending = m.recipients.filter((r) => r.state === 'pending');
  for (const r of pending) await store.updateQueueRecipient(r.id, { nextAttempt: now });
  return pending.length;
}

/** Removes the message and its file without notifying anyone. */
export async function queueDrop(store: Store, id: number): Promise<void> {
  await requireMessage(store, id);
  await store.dropQueueMessage(id);
}
