// CANCELUPDATE (RFC 5267 4.3.5): ends the updates of the searches kept current under the given tags.
import type { CommandOf } from '../proto/types.js';
import type { ImapConnection } from './connection.js';
import { bad } from './errors.js';
import { existingContexts } from './search-context.js';

export async function handleCancelUpdate(conn: ImapConnection, cmd: CommandOf<'CANCELUPDATE'>): Promise<void> {
  const ctxs = existingContexts(conn.view);
  const unknown = ctxs ? ctxs.cancel(cmd.tags) : cmd.tags;
  // A tag that names no search kept current is the client's mistake: nothing is cancelled.
  if (unknown.length) throw bad(`no search kept current under the tag ${unknown[0]!.slice(0, 64)}`);
}
