// ENABLE (RFC 5161; RFC 9051 6.3.1): IMAP4rev2, UTF8=ACCEPT (RFC 6855), CONDSTORE and QRESYNC (RFC 7162),
// UIDONLY (RFC 9586).
import type { Command, CommandOf } from '../proto/types.js';
import type { ImapConnection } from './connection.js';
import { bad } from './errors.js';

const ENABLABLE = new Set(['IMAP4REV2', 'UTF8=ACCEPT', 'CONDSTORE', 'QRESYNC', 'UIDONLY']);

export async function handleEnable(conn: ImapConnection, cmd: CommandOf<'ENABLE'>): Promise<void> {
  // RFC 7162 3.2.3: enabling QRESYNC with a mailbox selected is a protocol error; we apply that to all.
  if (conn.state === 'selected') throw bad('ENABLE is only allowed before SELECT');
  const newly: string[] = [];
  for (const c of cmd.capabilities) {
    // An extension hidden from the account is not enabled (nor QRESYNC with CONDSTORE hidden: the
    // hidden set holds what depends on a hidden capability, capabilities.ts REQUIRES).
    if (!ENABLABLE.has(c) || conn.enabled.has(c) || conn.hiddenCapabilities.has(c)) continue;
    conn.enabled.add(c);
    newly.push(c === 'IMAP4REV2' ? 'IMAP4rev2' : c);
    // RFC 7162 3.2.3: QRESYNC implies CONDSTORE.
    if (c === 'QRESYNC' && !conn.enabled.has('CONDSTORE')) {
      conn.enabled.add('CONDSTORE');
      newly.push('CONDSTORE');
    }
  }
  if (conn.enabled.has('CONDSTORE')) conn.condstore = true;
  await conn.untagged(`ENABLED${newly.map((c) => ' ' + c).join('')}`);
}
