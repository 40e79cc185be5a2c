// IDLE (RFC 2177, RFC 9051 6.3.13): changes are pushed as they are committed until the client sends DONE.
import type { Command, CommandOf } from '../proto/types.js';
import type { ImapConnection } from './connection.js';
import type { CommandResult } from './dispatch.js';
import { bad } from './errors.js';

export async function handleIdle(conn: ImapConnection, cmd: CommandOf<'IDLE'>): Promise<CommandResult> {
  await conn.send('+ idling\r\n');
  conn.idling = true;
  conn.flushIdle();
  let line: Buffer | null;
  try {
    line = await conn.readLine();
  } finally {
    conn.idling = false;
  }
  await conn.waitIdleFlush();
  if (line === null) return { taggedSent: true };
  if (line.toString('latin1').trim().toUpperCase() !== 'DONE') throw bad('expected DONE');
  void cmd;
  return { text: 'IDLE terminated' };
}
