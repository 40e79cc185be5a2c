// REPLACE and UID REPLACE (RFC 8508): the new message streams in through the APPEND path
// (cmd-append.ts: same checks before the continuation, same staging, CATENATE too), then one store transaction
// expunges the old message and adds the new one, so no other session ever sees both or neither and
// the quota sees only the difference (3.4). Responses: APPENDUID in an untagged OK before the
// EXPUNGE (or VANISHED with QRESYNC/UIDONLY) of the replaced message (4.3).
import { StoreError } from '../../store/errors.js';
import { STAR, type AppendMessage, type CommandOf } from '../proto/types.js';
import { AppendSession, type StagedMessage } from './cmd-append.js';
import type { ImapConnection } from './connection.js';
import type { CommandResult } from './dispatch.js';
import { bad, no } from './errors.js';

export interface Replaced {
  uid: number;
  size: number;
}

/**
 * The message a REPLACE names, checked when its literal is announced. RFC 8508 3.5: selected state
 * only. A sequence number beyond the mailbox is a protocol error (BAD, RFC 9051 9 seq-number); a UID
 * that is not there is NO, as for any message that cannot be removed.
 */
export function resolveReplaced(conn: ImapConnection, target: { uid: boolean; id: number }): Replaced {
  const view = conn.view;
  if (conn.state !== 'selected' || !view) throw bad('REPLACE only allowed with a mailbox selected');
  // RFC 9586 3: with UIDONLY, message numbers are refused.
  if (!target.uid && conn.uidOnly) throw bad('message sequence numbers are not allowed with UIDONLY; use UID REPLACE', 'UIDREQUIRED');
  let uid: number;
  if (target.uid) {
    uid = target.id === STAR ? (view.uids[view.uids.length - 1] ?? 0) : target.id;
    if (!view.messages.has(uid)) throw no(null, 'no message with that UID to replace');
  } else {
    const n = target.id === STAR ? view.uids.length : target.id;
    if (n < 1 || n > view.uids.length) throw bad('no message with that sequence number');
    uid = view.uids[n - 1]!;
  }
  if (view.readOnly) throw no('READ-ONLY', 'mailbox is read-only (EXAMINE)');
  return { uid, size: view.messages.get(uid)!.size };
}

/** Commits a REPLACE whose message is staged; reports the new message and the expunge. */
export async function commitReplace(conn: ImapConnection, mailboxId: number, uid: number, staged: StagedMessage, message: AppendMessage): Promise<CommandResult> {
  const view = conn.view!;
  const store = conn.ctx.store;
  let r;
  try {
    r = await store.replaceMessage(conn.identity!.accountId, view.mailbox.id, uid, mailboxId, {
      blob: staged.blob,
      flags: message.flags.filter((f) => f.toLowerCase() !== '\\recent'),
      internalDate: message.internalDate ?? new Date(),
      cache: staged.cache,
    });
  } catch (err) {
    // Expunged by another session since the literal was announced: the expunge is reported before
    // the NO (finishWithError syncs the view), the new message is not added.
    if (err instanceof StoreError && err.code === 'notfound' && (await store.getMessages(view.mailbox.id, [uid])).length === 0) {
      throw no('EXPUNGEISSUED', 'the message to replace has been expunged');
    }
    throw err;
  }
  // RFC 8508 4.3: APPENDUID before the EXPUNGE, in an untagged OK.
  await conn.untagged(`OK [APPENDUID ${r.uidValidity} ${r.uid}] replacement message added`);
  const changes = [{ kind: 'expunge' as const, mailboxId: view.mailbox.id, uids: [uid], modseq: r.expungeModseq }];
  if (mailboxId === view.mailbox.id) view.queue([...changes, { kind: 'append', mailboxId, uids: [r.uid], modseq: r.modseq }]);
  else view.queue(changes);
  await view.sync(store, conn.viewOutput(), true);
  return { text: 'REPLACE completed' };
}

export async function handleReplace(conn: ImapConnection, cmd: CommandOf<'REPLACE'>): Promise<CommandResult> {
  const session = conn.pendingAppend;
  // RFC 8508 6 (with RFC 4469): a CATENATE of URLs only has no literal to start the session.
  if (!session) return AppendSession.withoutLiterals(conn, cmd);
  return session.commitReplace(cmd);
}
