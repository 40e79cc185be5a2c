// STATUS (RFC 9051 6.3.11; STATUS=SIZE RFC 8438; HIGHESTMODSEQ RFC 7162 3.1.6; APPENDLIMIT RFC 7889).
import type { Mailbox } from '../../store/types.js';
import type { CommandOf, StatusItem } from '../proto/types.js';
import { enableCondstore } from './condstore.js';
import type { ImapConnection } from './connection.js';
import { no } from './errors.js';

/** The "(ITEM n ...)" list for one mailbox. */
export async function statusValues(conn: ImapConnection, mb: Mailbox, items: StatusItem[]): Promise<string> {
  const c = await conn.ctx.store.mailboxCounts(mb.id);
  const out: string[] = [];
  for (const item of items) {
    let v: number;
    switch (item) {
      case 'MESSAGES': v = c.messages; break;
      case 'UIDNEXT': v = mb.uidNext; break;
      case 'UIDVALIDITY': v = mb.uidValidity; break;
      case 'UNSEEN': v = c.unseen; break;
      case 'DELETED': v = c.deleted; break;
      case 'SIZE': v = c.size; break;
      // RFC 3501 6.3.10: messages with \Recent; those a read-write selection of this mailbox claimed
      // are \Recent for this session (the store counts the unclaimed ones; EXAMINE claims none).
      case 'RECENT': v = c.recent + (conn.view?.mailbox.id === mb.id && !conn.view.readOnly ? conn.view.recentCount : 0); break;
      case 'HIGHESTMODSEQ': v = mb.highestModseq; break;
      case 'APPENDLIMIT': v = conn.appendLimit; break;
    }
    out.push(`${item} ${v}`);
  }
  return `(${out.join(' ')})`;
}

export async function handleStatus(conn: ImapConnection, cmd: CommandOf<'STATUS'>): Promise<void> {
  const mb = await conn.ctx.store.getMailbox(conn.identity!.accountId, conn.storeName(cmd.mailbox));
  if (!mb) throw no('NONEXISTENT', 'no such mailbox');
  if (cmd.items.includes('HIGHESTMODSEQ')) await enableCondstore(conn);
  const vals = await statusValues(conn, mb, cmd.items);
  await conn.send(conn.builder().text('* STATUS ').astring(conn.wireName(mb.name)).text(` ${vals}\r\n`).toBuffer());
}
