// QUOTA (RFC 9208): one quota root "" per account with the STORAGE resource: the account's usage as
// the store keeps it and its limit (its own or the server default, `postern account quota`). An
// account without a limit is reported with what the disk can still hold on top of the usage, the
// real ceiling. APPEND and COPY over the limit fail with NO [OVERQUOTA] (RFC 9208 4.3.1).
import { statfs } from 'node:fs/promises';
import type { CommandOf } from '../proto/types.js';
import type { ImapConnection } from './connection.js';
import { no } from './errors.js';

async function storageLine(conn: ImapConnection): Promise<string> {
  const q = await conn.ctx.store.getQuota(conn.identity!.accountId);
  // RFC 9208 5.1: STORAGE in units of 1024 octets; usage rounded up, the limit down, so a client
  // never sees room that is not there.
  const usedK = Math.ceil(q.used / 1024);
  if (q.limit !== null) return `QUOTA "" (STORAGE ${usedK} ${Math.floor(q.limit / 1024)})`;
  let free = 0;
  try {
    const s = await statfs(conn.ctx.config.dir);
    free = Number(s.bavail) * Number(s.bsize);
  } catch {
    free = 0;
  }
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
