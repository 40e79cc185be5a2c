// EXPUNGE (RFC 9051 6.4.3) and UID EXPUNGE (RFC 4315 2.1); HIGHESTMODSEQ with QRESYNC (RFC 7162 3.2.7).
import type { Command, CommandOf } from '../proto/types.js';
import type { ImapConnection } from './connection.js';
import type { CommandResult } from './dispatch.js';
import { no } from './errors.js';

export async function handleExpunge(conn: ImapConnection, cmd: CommandOf<'EXPUNGE'>): Promise<CommandResult | void> {
  const view = conn.view!;
  if (view.readOnly) throw no('READ-ONLY', 'mailbox is read-only (EXAMINE)');
  // Flag changes from other sessions first, so that we expunge what the user saw as \Deleted.
  await view.sync(conn.ctx.store, conn.viewOutput(), true);
  const candidates = cmd.uids ? view.resolve(cmd.uids, true) : view.uids;
  const uids = candidates.filter((u) => view.messages.get(u)!.flags.includes('\\Deleted'));
  if (!uids.length) return;
  const r = await conn.ctx.store.expunge(conn.identity!.accountId, view.mailbox.id, uids);
  view.queue([{ kind: 'expunge', mailboxId: view.mailbox.id, uids: r.uids, modseq: r.modseq }]);
  await view.sync(conn.ctx.store, conn.viewOutput(), true);
  // RFC 7162 3.2.7: with QRESYNC, the mod-sequence the removal raised goes in the tagged OK (the
  // client's next SELECT (QRESYNC ...) starts from it). Not for CLOSE (3.2.8: MUST NOT).
  if (conn.qresync && r.uids.length) return { code: `HIGHESTMODSEQ ${view.highestModseq}` };
}
