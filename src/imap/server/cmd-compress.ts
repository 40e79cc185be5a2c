// COMPRESS (RFC 4978 3): DEFLATE only, once per connection, after login (RFC 4978 5 adds it to
// command-auth; unauthenticated connections stay cheap). The tagged OK goes out uncompressed and
// everything after its CRLF is compressed both ways (compress-layer.ts).
import type { CommandOf } from '../proto/types.js';
import type { ImapConnection } from './connection.js';
import type { CommandResult } from './dispatch.js';
import { bad, no } from './errors.js';

export const COMPRESS_CAPABILITY = 'COMPRESS=DEFLATE';

export async function handleCompress(conn: ImapConnection, cmd: CommandOf<'COMPRESS'>): Promise<CommandResult> {
  // A capability hidden from the account (`postern account capabilities`) is not there for it.
  if (cmd.mechanism !== 'DEFLATE' || conn.hiddenCapabilities.has(COMPRESS_CAPABILITY)) {
    throw bad(`unsupported compression algorithm ${cmd.mechanism.slice(0, 30)}`);
  }
  // RFC 4978 3: NO with COMPRESSIONACTIVE when the same compression is already on.
  if (conn.compressed) throw no('COMPRESSIONACTIVE', 'DEFLATE compression is already active');
  // Queued mailbox changes go out before the OK, uncompressed, as after any command.
  await conn.syncAfter(cmd);
  await conn.startCompression(`${cmd.tag} OK DEFLATE active\r\n`);
  return { taggedSent: true };
}
