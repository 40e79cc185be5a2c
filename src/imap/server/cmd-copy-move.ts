// COPY, MOVE and their UID forms (RFC 9051 6.4.7-8, RFC 6851 MOVE, RFC 4315 COPYUID).
import { formatNumberList } from '../proto/sequence-set.js';
import type { Command, CommandOf } from '../proto/types.js';
import type { ImapConnection } from './connection.js';
import type { CommandResult } from './dispatch.js';
import { no } from './errors.js';

export async function handleCopyMove(conn: ImapConnection, cmd: CommandOf<'COPY' | 'MOVE'>): Promise<CommandResult> {
  const view = conn.view!;
  const store = conn.ctx.store;
  const account = conn.identity!.accountId;
  if (cmd.name === 'MOVE' && view.readOnly) throw no('READ-ONLY', 'mailbox is read-only (EXAMINE)');
  const uids = view.resolve(cmd.set, cmd.uid);
  const dest = await store.getMailbox(account, conn.storeName(cmd.mailbox));
  if (!dest) throw no('TRYCREATE', 'no such mailbox');
  if (!uids.length) return { text: `${cmd.name} completed: no messages` };
  // Into the selected mailbox itself: the messages get new UIDs there (COPYUID), as Dovecot does.
  const r = cmd.name === 'COPY'
    ? await store.copyMessages(account, view.mailbox.id, uids, dest.id)
    : await store.moveMessages(account, view.mailbox.id, uids, dest.id);
  const code = r.sourceUids.length ? `COPYUID ${r.uidValidity} ${formatNumberList(r.sourceUids)} ${formatNumberList(r.destUids)}` : undefined;
  if (cmd.name === 'MOVE') {
    // RFC 6851 4.3: COPYUID in an untagged OK before the expunges.
    if (code) await conn.untagged(`OK [${code}] moved`);
    view.queue([{ kind: 'expunge', mailboxId: view.mailbox.id, uids: r.sourceUids, modseq: 0 }]);
    await view.sync(store, conn.viewOutput(), true);
    return { text: 'MOVE completed' };
  }
  return { code, text: 'COPY completed' };
}
