// Turning CONDSTORE on for a session (RFC 7162 3.1): ENABLE, SELECT/EXAMINE (CONDSTORE), or the first
// CONDSTORE-enabling command (FETCH MODSEQ/CHANGEDSINCE, SEARCH MODSEQ, STORE UNCHANGEDSINCE, STATUS
// HIGHESTMODSEQ). When that command comes with a mailbox selected, the client has not seen the
// mailbox's HIGHESTMODSEQ in this mode yet: it gets `* OK [HIGHESTMODSEQ n]` first (RFC 7162 3.1).
import type { ImapConnection } from './connection.js';

export async function enableCondstore(conn: ImapConnection): Promise<void> {
  if (conn.condstore) return;
  conn.condstore = true;
  const view = conn.view;
  if (view) await conn.untagged(`OK [HIGHESTMODSEQ ${view.highestModseq}] highest`);
}
