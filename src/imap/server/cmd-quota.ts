// QUOTA (RFC 9208): one quota root "" per account with the STORAGE resource. No quota is configured,
// so the limit reported is what the disk can still hold on top of the usage (a real ceiling).
import { statfs } from 'node:fs/promises';
import type { Command, CommandOf } from '../proto/types.js';
import type { ImapConnection } from './connection.js';
import { no } from './errors.js';

async function storageLine(conn: ImapConnection): Promise<string> {
  const store = conn.ctx.store;
  let used = 0;
  for (const mb of await store.listMailboxes(conn.identity!.accountId)) used += (await store.mailboxCounts(mb.id)).size;
  let free = 0;
  try {
    const s = await statfs(conn.ctx.config.dir);
    free = Number(s.bavail) * Number(s.bsize);
  } catch {
    free = 0;
  }
  const usedK = Math.ceil(used / 1024);
  // RFC 9208 5.1: STORAGE in units of 1024 octets.
  return `QUOTA "" (STORAGE ${usedK} ${usedK + Math.floor(free / 1024)})`;
}

export async function handleGetQuotaRoot(conn: ImapConnection, cmd: CommandOf<'GETQUOTAROOT'>): Promise<void> {
  const name = conn.storeName(cmd.mailbox);
  if (!(await conn.ctx.store.getMailbox(conn.identity!.accountId, name))) throw no('NONEXISTENT', 'no such mailbox');
  await conn.send(conn.builder().text('* QUOTAROOT ').astring(conn.wireName(name)).text(' ""\r\n').toBuffer());
  await conn.untagged(await storageLine(conn));
}

export async function handleGetQuota(conn: ImapConnection, cmd: CommandOf<'GETQUOTA'>): Promise<void> {
  if (cmd.root !== '') throw no('NONEXISTENT', 'no such quota root');
  await conn.untagged(await storageLine(conn));
}

export async function handleSetQuota(): Promise<void> {
  // RFC 9208 4.1.3: SETQUOTA is for administrators; users cannot change their quota.
  throw no('NOPERM', 'quota cannot be changed over IMAP');
}
