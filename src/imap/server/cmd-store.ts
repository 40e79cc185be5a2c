// STORE and UID STORE (RFC 9051 6.4.6), .SILENT, UNCHANGEDSINCE and [MODIFIED] (RFC 7162 3.1.3).
import { OutputBatch } from '../proto/response-writer.js';
import { formatNumberSet } from '../proto/sequence-set.js';
import type { Command, CommandOf } from '../proto/types.js';
import { enableCondstore } from './condstore.js';
import { fetchHead } from './uidonly.js';
import type { ImapConnection } from './connection.js';
import type { CommandResult } from './dispatch.js';
import { no } from './errors.js';
import { Yielder } from './message-loader.js';

export async function handleStore(conn: ImapConnection, cmd: CommandOf<'STORE'>): Promise<CommandResult | void> {
  const view = conn.view!;
  if (view.readOnly) throw no('READ-ONLY', 'mailbox is read-only (EXAMINE)');
  if (cmd.unchangedSince !== null) await enableCondstore(conn);
  const uids = view.resolve(cmd.set, cmd.uid);
  // \Recent cannot be stored (RFC 3501 2.3.2); drop it rather than fail old clients.
  const flags = cmd.flags.filter((f) => f.toLowerCase() !== '\\recent');
  if (!uids.length) return;
  const r = await conn.ctx.store.storeFlags(conn.identity!.accountId, view.mailbox.id, uids, cmd.op, flags, cmd.unchangedSince ?? undefined);
  // Many messages (STORE 1:* of a big mailbox): turns for other sessions, lines in large pieces.
  const yielder = new Yielder();
  const updated = new Set<number>();
  const used = new Set<string>();
  for (const u of r.updated) {
    view.applyFlags(u.uid, u.flags, u.modseq);
    updated.add(u.uid);
    for (const f of u.flags) used.add(f);
    const y = yielder.tick();
    if (y) await y;
  }
  // RFC 9051 7.3.5: a keyword new to the mailbox is announced before the FETCH that shows it.
  for (const line of view.announceKeywords([...used])) await conn.untagged(line);
  const failed = new Set(r.failedUnchangedSince);
  const out = new OutputBatch((data) => conn.send(data));
  const msns = view.msnsOf(uids);
  try {
    for (let i = 0; i < uids.length; i++) {
      const uid = uids[i]!;
      if (failed.has(uid)) continue;
      const m = view.messages.get(uid);
      if (!m) continue;
      // .SILENT suppresses the FETCH for what we changed, but once CONDSTORE is on the new MODSEQ of
      // a changed message is still reported (RFC 7162 3.1.3 requires it with UNCHANGEDSINCE; Dovecot
      // sends it for every STORE, and a client caching mod-sequences needs it either way).
      if (cmd.silent && !(conn.condstore && updated.has(uid))) continue;
      const parts: string[] = [];
      // With QRESYNC the UID goes in every FETCH response (RFC 7162 3.2.4 ff., as for unsolicited ones).
      if ((cmd.uid || conn.qresync) && !conn.uidOnly) parts.push(`UID ${uid}`);
      if (!cmd.silent) parts.push(`FLAGS ${conn.flagList(view.shownFlags(m, conn.rev2))}`);
      if (conn.condstore) parts.push(`MODSEQ (${m.modseq})`);
      const w = out.addText(`* ${fetchHead(conn.uidOnly, msns[i]!, uid)} (${parts.join(' ')})\r\n`);
      if (w) await w;
      const y = yielder.tick();
      if (y) await y;
    }
  } finally {
    await out.end();
  }
  if (failed.size) {
    const nums = [...failed].map((u) => (cmd.uid ? u : view.msn(u))).filter((n) => n > 0);
    return { code: `MODIFIED ${formatNumberSet(nums)}`, text: 'some messages were modified meanwhile' };
  }
}
