// CAPABILITY, NOOP, LOGOUT (RFC 9051 6.1) and ID (RFC 2971).
import type { Command, CommandOf } from '../proto/types.js';
import type { ImapConnection } from './connection.js';
import type { CommandResult } from './dispatch.js';

export async function handleCapability(conn: ImapConnection): Promise<void> {
  await conn.untagged(`CAPABILITY ${conn.capabilityList().join(' ')}`);
}

/** NOOP (and CHECK) exist to poll: the queued updates go out in syncAfter. */
export async function handleNoop(): Promise<void> {}

export async function handleLogout(conn: ImapConnection, cmd: CommandOf<'LOGOUT'>): Promise<CommandResult> {
  await conn.untagged('BYE logging out');
  await conn.send(`${cmd.tag} OK LOGOUT completed\r\n`);
  conn.close();
  return { taggedSent: true };
}

export async function handleId(conn: ImapConnection, cmd: CommandOf<'ID'>): Promise<void> {
  if (cmd.params) conn.log.debug('client id', { id: Object.fromEntries(cmd.params) });
  const b = conn.builder().text('* ID ');
  b.value(['name', 'Postern', 'vendor', 'Postern', 'support-url', 'https://github.com/postern']);
  await conn.send(b.text('\r\n').toBuffer());
}
