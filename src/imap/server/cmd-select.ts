// SELECT, EXAMINE (RFC 9051 6.3.2-3, RFC 3501 for IMAP4rev1 clients, RFC 7162 CONDSTORE/QRESYNC),
// CLOSE (6.4.1), UNSELECT (6.4.2), CHECK (RFC 3501 6.4.1).
import type { Change } from '../../store/change-feed.js';
import { StoreError } from '../../store/errors.js';
import { formatNumberSet, inRanges } from '../proto/sequence-set.js';
import type { Command, CommandOf } from '../proto/types.js';
import { fetchHead } from './uidonly.js';
import type { ImapConnection } from './connection.js';
import type { CommandResult } from './dispatch.js';
import { bad, no } from './errors.js';
import { MailboxView } from './mailbox-view.js';

export async function handleSelect(conn: ImapConnection, cmd: CommandOf<'SELECT' | 'EXAMINE'>): Promise<CommandResult> {
  const store = conn.ctx.store;
  const name = conn.storeName(cmd.mailbox);
  if (cmd.qresync && !conn.qresync) throw bad('QRESYNC parameter without ENABLE QRESYNC');
  const previous = conn.view;
  if (conn.view) {
    // RFC 7162 3.2.11 / RFC 9051 6.3.2: the previous mailbox is closed (without expunge).
    conn.setView(null);
    await conn.untagged('OK [CLOSED] previous mailbox closed');
  }
  // Changes committed from here on are collected until the view is in place (conn.setView): a big
  // mailbox is loaded in pages, between which other sessions change it (mailbox-view.ts, load).
  const early: Change[][] = [];
  const unsubscribe = store.changes.subscribe(conn.identity!.accountId, (c) => early.push(c));
  try {
    const view = await openView(conn, cmd, name, previous);
    // In the same turn as setView: from here on the connection's own listener queues them.
    for (const c of early) view.queue(c);
    conn.setView(view);
    return { code: view.readOnly ? 'READ-ONLY' : 'READ-WRITE', text: `${cmd.name} completed` };
  } finally {
    unsubscribe();
  }
}

/** SELECT/EXAMINE up to the view being set: loads the view and sends the untagged responses. */
async function openView(conn: ImapConnection, cmd: CommandOf<'SELECT' | 'EXAMINE'>, name: string, previous: MailboxView | null): Promise<MailboxView> {
  const store = conn.ctx.store;
  const mb = await store.getMailbox(conn.identity!.accountId, name);
  if (!mb) throw no('NONEXISTENT', 'no such mailbox');
  if (cmd.condstore) conn.condstore = true;
  const readOnly = cmd.name === 'EXAMINE';
  // The same mailbox again, unchanged: the previous view's messages serve (no reload of every row).
  const view = previous?.takeOver(mb, readOnly) ?? (await MailboxView.load(store, mb, readOnly));

  view.learnKeywords();
  const account = conn.identity!.accountId;
  if (!readOnly) {
    // RFC 3501 2.3.2: this session is the first to see the messages no session has claimed yet;
    // no other session will see them as recent (rev2 sessions claim too, they just never show it).
    const last = view.uids.length ? view.uids[view.uids.length - 1]! : 0;
    try {
      const c = await store.claimRecent(account, mb.id, Math.max(mb.uidNext, last + 1));
      view.markRecent(c.first, c.next);
    } catch (err) {
      // The claim could not be written (disk full): the mailbox opens all the same, showing what
      // is recent as EXAMINE does, without taking it.
      if (!(err instanceof StoreError)) throw err;
      view.markRecent(mb.firstRecentUid, Math.max(mb.uidNext, last + 1));
    }
    view.claimRecent = (upTo) => store.claimRecent(account, mb.id, upTo);
  } else {
    // EXAMINE shows what is recent without taking it.
    view.markRecent(mb.firstRecentUid, Infinity);
  }
  const [flagsLine, permanentLine] = view.flagsLines();
  await conn.untagged(`${view.exists} EXISTS`);
  if (!conn.rev2) await conn.untagged(`${view.recentCount} RECENT`);
  await conn.untagged(flagsLine!);
  await conn.untagged(permanentLine!);
  await conn.untagged(`OK [UIDVALIDITY ${mb.uidValidity}] UIDs valid`);
  await conn.untagged(`OK [UIDNEXT ${mb.uidNext}] predicted next UID`);
  if (!conn.rev2 && !conn.uidOnly) {
    // RFC 3501 6.3.1: [UNSEEN n] is the first unseen message's sequence number (none with UIDONLY,
    // RFC 9586 3).
    const i = view.uids.findIndex((u) => !view.messages.get(u)!.flags.includes('\\Seen'));
    if (i >= 0) await conn.untagged(`OK [UNSEEN ${i + 1}] first unseen`);
  }
  // RFC 7162 3.1.2.1: every successful SELECT/EXAMINE of a mailbox that keeps mod-sequences.
  await conn.untagged(`OK [HIGHESTMODSEQ ${mb.highestModseq}] highest`);
  if (conn.rev2) {
    // RFC 9051 6.3.2: LIST response with the mailbox name (canonical form).
    const b = conn.builder().text('* LIST () "/" ').astring(conn.wireName(mb.name)).text('\r\n');
    await conn.send(b.toBuffer());
  }
  const q = cmd.qresync;
  if (q && q.uidValidity === mb.uidValidity) {
    // RFC 7162 3.2.5.2: VANISHED (EARLIER) and FETCH for changes since the client's MODSEQ.
    let vanished = await store.expungedSince(mb.id, q.modseq);
    if (q.knownUids) {
      const known = q.knownUids;
      const max = vanished.length ? Math.max(...vanished) : 0;
      vanished = known.kind === 'ranges' ? vanished.filter((u) => inRanges(known.ranges, u, max)) : vanished;
    }
    if (vanished.length) await conn.untagged(`VANISHED (EARLIER) ${formatNumberSet(vanished)}`);
    for (const uid of view.uids) {
      const m = view.messages.get(uid)!;
      if (m.modseq > q.modseq) await conn.untagged(`${fetchHead(conn.uidOnly, view.msn(uid), uid)} (${conn.uidOnly ? '' : `UID ${uid} `}FLAGS ${conn.flagList(view.shownFlags(m, conn.rev2))} MODSEQ (${m.modseq}))`);
    }
  }
  return view;
}

/** RFC 9051 6.4.1: CLOSE expunges \Deleted messages silently (read-write only) and deselects. */
export async function handleClose(conn: ImapConnection): Promise<void> {
  const view = conn.view!;
  conn.setView(null);
  if (!view.readOnly) {
    const uids = view.uids.filter((u) => view.messages.get(u)!.flags.includes('\\Deleted'));
    if (uids.length) await conn.ctx.store.expunge(conn.identity!.accountId, view.mailbox.id, uids);
  }
}

export async function handleUnselect(conn: ImapConnection): Promise<void> {
  conn.setView(null);
}

/** RFC 3501 6.4.1 CHECK: a no-op for us (every change is committed at once). */
export async function handleCheck(): Promise<void> {}
