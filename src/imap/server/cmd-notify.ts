// NOTIFY (RFC 5465 3.1): NOTIFY SET replaces what the session is told about and when; NOTIFY NONE
// turns it all off. With the STATUS indicator, one STATUS per watched mailbox other than the
// selected one goes out before the tagged OK. The reply also reports what the selected mailbox has
// queued, as NOOP would (3.1: "an implicit NOOP"), which the connection does before every tagged OK.
import { notifyLimitsFrom } from '../proto/limits.js';
import type { CommandOf } from '../proto/types.js';
import type { ImapConnection } from './connection.js';
import { bad, no } from './errors.js';
import { compileNotify, covers, type NameFacts, usesSubscribed } from './notify-spec.js';
import { NotifySession, sendStatus } from './notify-session.js';

export async function handleNotify(conn: ImapConnection, cmd: CommandOf<'NOTIFY'>): Promise<void> {
  // A capability hidden from the account (`postern account capabilities`) is not there for it.
  if (conn.hiddenCapabilities.has('NOTIFY')) throw bad('NOTIFY is not available to this account');
  const limits = notifyLimitsFrom(conn.ctx.config.limits?.imap);
  if (cmd.set === null) {
    // Also as the first NOTIFY: from now on nothing is pushed, not even in IDLE (RFC 5465 4).
    if (conn.notify) conn.notify.replace(null);
    else conn.notify = new NotifySession(null, limits.queueLimit);
    return;
  }
  const names = cmd.set.groups.reduce((n, g) => n + ('mailboxes' in g.filter ? g.filter.mailboxes.length : 0), 0);
  // RFC 5465 3.1: a request too costly to serve is refused with NO [NOTIFICATIONOVERFLOW].
  if (names > limits.maxMailboxNames) throw no('NOTIFICATIONOVERFLOW', `at most ${limits.maxMailboxNames} mailbox names per NOTIFY`);
  const spec = compileNotify(cmd.set, (w) => conn.storeName(w));
  if (conn.notify) conn.notify.replace(spec);
  else conn.notify = new NotifySession(spec, limits.queueLimit);
  if (!spec.status) return;
  // RFC 5465 3.1: STATUS for every mailbox (not the selected one) with message events asked for.
  const store = conn.ctx.store;
  const account = conn.identity!.accountId;
  const subscribed = new Set(usesSubscribed(spec) ? await store.listSubscriptions(account) : []);
  const facts: NameFacts = { subscribed: () => subscribed };
  const groups = spec.groups.filter((g) => g.events.has('MessageNew') || g.events.has('FlagChange'));
  if (groups.length === 0) return;
  const selectedId = conn.view?.mailbox.id ?? null;
  for (const mb of await store.listMailboxes(account)) {
    if (mb.id === selectedId) continue;
    if (groups.some((g) => covers(g.filter, mb.name, facts))) await sendStatus(conn, mb);
  }
}
