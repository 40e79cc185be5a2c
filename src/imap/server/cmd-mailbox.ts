// CREATE (RFC 9051 6.3.4, RFC 6154 3 CREATE-SPECIAL-USE), DELETE (6.3.5), RENAME (6.3.6),
// SUBSCRIBE/UNSUBSCRIBE (6.3.7-8).
import type { Command, CommandOf } from '../proto/types.js';
import type { ImapConnection } from './connection.js';
import { no } from './errors.js';
import { DELIMITER } from './mailbox-names.js';

const SPECIAL_USE = new Set(['\\All', '\\Archive', '\\Drafts', '\\Flagged', '\\Junk', '\\Sent', '\\Trash']);

function stripTrailingDelimiter(name: string): string {
  // RFC 9051 6.3.4: a trailing delimiter only declares the intent to create children.
  return name.endsWith(DELIMITER) ? name.slice(0, -1) : name;
}

export async function handleCreate(conn: ImapConnection, cmd: CommandOf<'CREATE'>): Promise<void> {
  const store = conn.ctx.store;
  const account = conn.identity!.accountId;
  const name = stripTrailingDelimiter(conn.storeName(cmd.mailbox));
  if (name === 'INBOX') throw no('ALREADYEXISTS', 'INBOX always exists');
  let use: string | null = null;
  if (cmd.specialUse.length > 1) throw no('USEATTR', 'only one special-use attribute per mailbox');
  if (cmd.specialUse.length === 1) {
    use = [...SPECIAL_USE].find((u) => u.toLowerCase() === cmd.specialUse[0]!.toLowerCase()) ?? null;
    if (!use) throw no('USEATTR', `unsupported special-use attribute ${cmd.specialUse[0]}`);
  }
  if (await store.getMailbox(account, name)) throw no('ALREADYEXISTS', 'mailbox already exists');
  // RFC 9051 6.3.4: create missing superior names too.
  const levels = name.split(DELIMITER);
  for (let i = 1; i < levels.length; i++) {
    const parent = levels.slice(0, i).join(DELIMITER);
    if (!(await store.getMailbox(account, parent))) await store.createMailbox(account, parent);
  }
  await store.createMailbox(account, name, use);
}

export async function handleDelete(conn: ImapConnection, cmd: CommandOf<'DELETE'>): Promise<void> {
  const name = conn.storeName(cmd.mailbox);
  if (name === 'INBOX') throw no('CANNOT', 'INBOX cannot be deleted');
  const store = conn.ctx.store;
  const mb = await store.getMailbox(conn.identity!.accountId, name);
  if (!mb) throw no('NONEXISTENT', 'no such mailbox');
  if (conn.view?.mailbox.id === mb.id) conn.setView(null);
  await store.deleteMailbox(conn.identity!.accountId, name);
}

export async function handleRename(conn: ImapConnection, cmd: CommandOf<'RENAME'>): Promise<void> {
  const from = conn.storeName(cmd.from);
  const to = stripTrailingDelimiter(conn.storeName(cmd.to));
  const store = conn.ctx.store;
  const account = conn.identity!.accountId;
  if (!(await store.getMailbox(account, from))) throw no('NONEXISTENT', 'no such mailbox');
  if (to === 'INBOX' || (await store.getMailbox(account, to))) throw no('ALREADYEXISTS', 'target mailbox already exists');
  if (to.startsWith(from + DELIMITER)) throw no('CANNOT', 'cannot rename a mailbox into itself');
  await store.renameMailbox(account, from, to);
}

export async function handleSubscribe(conn: ImapConnection, cmd: CommandOf<'SUBSCRIBE' | 'UNSUBSCRIBE'>): Promise<void> {
  const name = conn.storeName(cmd.mailbox);
  const store = conn.ctx.store;
  if (cmd.name === 'SUBSCRIBE' && !(await store.getMailbox(conn.identity!.accountId, name))) {
    throw no('NONEXISTENT', 'no such mailbox');
  }
  await store.setSubscribed(conn.identity!.accountId, name, cmd.name === 'SUBSCRIBE');
}
