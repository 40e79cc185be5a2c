// NOTIFY (RFC 5465 8): `NOTIFY NONE` and `NOTIFY SET [(STATUS)] event-group...`. The parser checks
// the grammar only; which events are supported (BADEVENT) and how they may be combined (RFC 5465 5,
// 6.1) is the handler's decision (server/cmd-notify.ts), since some of those answers are NO, not BAD.
import type { Cursor } from './cursor.js';
import { parseFetchItems } from './parse-fetch.js';
import type { CommandBody, NotifyEvent, NotifyFilter, NotifyGroup } from './types.js';

/** The event names of RFC 5465 5, spelt as the RFC does (BADEVENT lists them this way). */
export const NOTIFY_EVENTS = [
  'MessageNew', 'MessageExpunge', 'FlagChange', 'AnnotationChange',
  'MailboxName', 'SubscriptionChange', 'MailboxMetadataChange', 'ServerMetadataChange',
] as const;

const CANONICAL = new Map<string, string>(NOTIFY_EVENTS.map((e) => [e.toUpperCase(), e]));

export function parseNotify(c: Cursor): CommandBody {
  c.sp();
  const verb = c.atom('SET or NONE').toUpperCase();
  if (verb === 'NONE') return { name: 'NOTIFY', set: null };
  if (verb !== 'SET') c.fail('expected SET or NONE');
  c.sp();
  let status = false;
  // status-indicator = SP "STATUS" (RFC 5465 8); some clients send it in parentheses.
  if (c.take('STATUS ')) status = true;
  else if (c.take('(STATUS) ')) status = true;
  const groups: NotifyGroup[] = [group(c)];
  while (c.maybeSp()) groups.push(group(c));
  return { name: 'NOTIFY', set: { status, groups } };
}

/** event-group = "(" filter-mailboxes SP events ")" */
function group(c: Cursor): NotifyGroup {
  c.expect('(');
  const filter = filterMailboxes(c);
  c.sp();
  let events: NotifyEvent[] | null;
  if (c.peek() === 0x28) events = c.list(() => event(c), false);
  else {
    if (c.atom('an event list or NONE').toUpperCase() !== 'NONE') c.fail('expected an event list or NONE');
    events = null;
  }
  c.expect(')');
  return { filter, events };
}

function filterMailboxes(c: Cursor): NotifyFilter {
  const w = c.atom('a mailbox filter').toLowerCase();
  switch (w) {
    case 'selected':
    case 'selected-delayed':
    case 'inboxes':
    case 'personal':
    case 'subscribed':
      return { kind: w };
    case 'subtree':
    case 'subtree-one':
    case 'mailboxes': {
      c.sp();
      // one-or-more-mailbox = mailbox / "(" mailbox *(SP mailbox) ")"
      const mailboxes = c.peek() === 0x28 ? c.list(() => c.astring('a mailbox name'), false) : [c.astring('a mailbox name')];
      return { kind: w, mailboxes };
    }
    default:
      return c.fail(`unknown mailbox filter ${w.slice(0, 40)}`);
  }
}

/** event = message-event / mailbox-event / user-event / event-ext (an atom) */
function event(c: Cursor): NotifyEvent {
  const raw = c.atom('an event name');
  const name = CANONICAL.get(raw.toUpperCase()) ?? raw;
  let fetchAtts = null;
  if (name === 'MessageNew' && c.peekWord(' (')) {
    c.sp();
    fetchAtts = parseFetchItems(c);
  }
  return { name, fetchAtts };
}
