// What a NOTIFY SET asked for (RFC 5465), checked and compiled: the selected mailbox's events and
// the event groups for other mailboxes, and which mailbox names a group covers. Names are matched
// when a notification is due, so a session watching `personal` keeps no state per mailbox.
import { NOTIFY_EVENTS } from '../proto/parse-notify.js';
import type { FetchAtt, MailboxFilter, NotifySet } from '../proto/types.js';
import { bad, no } from './errors.js';
import { DELIMITER } from './mailbox-names.js';

export type NotifyEventName = (typeof NOTIFY_EVENTS)[number];

/**
 * Events this server reports. AnnotationChange needs per-message annotations (RFC 5257 ANNOTATE),
 * which Postern does not have, so RFC 5465 3.1 makes it an unsupported event: NO [BADEVENT].
 */
export const SUPPORTED_EVENTS: readonly NotifyEventName[] = NOTIFY_EVENTS.filter((e) => e !== 'AnnotationChange');

const MESSAGE_EVENTS = new Set<string>(['MessageNew', 'MessageExpunge', 'FlagChange', 'AnnotationChange']);

export interface SelectedSpec {
  /** selected-delayed (RFC 5465 6.1.2): expunges wait for a command that allows them. */
  delayed: boolean;
  events: Set<NotifyEventName>;
  /** MessageNew's fetch-att list: a FETCH after the EXISTS (RFC 5465 5.2). */
  fetchAtts: FetchAtt[] | null;
}

export interface GroupSpec {
  /** Names are store names (already converted from the wire). */
  filter: MailboxFilter;
  events: Set<NotifyEventName>;
}

export interface NotifySpec {
  /** null: no message events for the selected mailbox (RFC 5465 3.1: as `SELECTED NONE`). */
  selected: SelectedSpec | null;
  /** Groups for mailboxes other than the selected one, each with at least one event. */
  groups: GroupSpec[];
  status: boolean;
}

/**
 * Checks a NOTIFY SET (RFC 5465 3.1, 5, 6.1) and compiles it. Unsupported events: NO [BADEVENT
 * (supported...)]; combinations the RFC forbids: BAD. `storeName` converts a wire mailbox name.
 */
export function compileNotify(set: NotifySet, storeName: (wire: string) => string): NotifySpec {
  const supported = new Set<string>(SUPPORTED_EVENTS);
  for (const g of set.groups) {
    for (const e of g.events ?? []) {
      if (!supported.has(e.name)) throw no(`BADEVENT (${SUPPORTED_EVENTS.join(' ')})`, `event ${e.name.slice(0, 40)} is not supported`);
    }
  }
  let selected: SelectedSpec | null = null;
  let sawSelected = false;
  const groups: GroupSpec[] = [];
  for (const g of set.groups) {
    const names = new Set((g.events ?? []).map((e) => e.name as NotifyEventName));
    // RFC 5465 5: MessageNew and MessageExpunge together; FlagChange (and AnnotationChange) need both.
    if (names.has('MessageNew') !== names.has('MessageExpunge')) throw bad('MessageNew and MessageExpunge must be given together');
    if (names.has('FlagChange') && !names.has('MessageNew')) throw bad('FlagChange needs MessageNew and MessageExpunge');
    if (g.filter.kind === 'selected' || g.filter.kind === 'selected-delayed') {
      // RFC 5465 6.1: one selected specifier, message events only.
      if (sawSelected) throw bad('only one of selected and selected-delayed may be given');
      sawSelected = true;
      for (const n of names) if (!MESSAGE_EVENTS.has(n)) throw bad(`${n} is not a message event; not allowed with ${g.filter.kind}`);
      if (names.size) {
        const fetchAtts = g.events!.find((e) => e.name === 'MessageNew')?.fetchAtts ?? null;
        selected = { delayed: g.filter.kind === 'selected-delayed', events: names, fetchAtts: fetchAtts && peekOnly(fetchAtts) };
      }
      continue;
    }
    if (names.size === 0) continue;
    const filter: MailboxFilter =
      g.filter.kind === 'subtree' || g.filter.kind === 'subtree-one' || g.filter.kind === 'mailboxes'
        ? { kind: g.filter.kind, mailboxes: g.filter.mailboxes.map((w) => canonical(storeName(w))) }
        : { kind: g.filter.kind };
    groups.push({ filter, events: names });
  }
  return { selected, groups, status: set.status };
}

/** A notification never changes a message: BODY[...] is fetched as BODY.PEEK[...] (RFC 5465 5.2). */
export function peekOnly(atts: FetchAtt[]): FetchAtt[] {
  return atts.map((a) => (a.kind === 'body' || a.kind === 'binary' ? { ...a, peek: true } : a));
}

/** INBOX is case-insensitive (RFC 9051 5.1). */
function canonical(name: string): string {
  return name.toUpperCase() === 'INBOX' ? 'INBOX' : name;
}

/** Facts a filter may need about a mailbox name. */
export interface NameFacts {
  /** The account's subscriptions; loaded only when a `subscribed` filter is used. */
  subscribed: () => Set<string>;
}

/** Whether `filter` covers the mailbox `name` (RFC 5465 6.2-6.6; RFC 7377 2.2 subtree-one). */
export function covers(filter: MailboxFilter, name: string, facts: NameFacts): boolean {
  switch (filter.kind) {
    case 'selected':
      return false;
    case 'personal':
      return true;
    case 'inboxes':
      // RFC 5465 6.3: where new mail is delivered; here that is INBOX.
      return name === 'INBOX';
    case 'subscribed':
      return facts.subscribed().has(name);
    case 'mailboxes':
      // RFC 5465 6.6: the names themselves, no wildcard expansion.
      return filter.mailboxes.includes(name);
    case 'subtree':
    case 'subtree-one':
      return filter.mailboxes.some((root) => {
        if (name === root) return true;
        if (!name.startsWith(root + DELIMITER)) return false;
        return filter.kind === 'subtree' || !name.includes(DELIMITER, root.length + 1);
      });
  }
}

/** Whether a group covering `name` asks for any of `events`. */
export function wants(spec: NotifySpec, name: string, events: readonly NotifyEventName[], facts: NameFacts): boolean {
  return spec.groups.some((g) => events.some((e) => g.events.has(e)) && covers(g.filter, name, facts));
}

/** Whether any group asks for any of `events` (a cheap test before a change is queued). */
export function anyWants(spec: NotifySpec, events: readonly NotifyEventName[]): boolean {
  return spec.groups.some((g) => events.some((e) => g.events.has(e)));
}

/** Whether any group uses the `subscribed` filter (its matching needs the subscription list). */
export function usesSubscribed(spec: NotifySpec): boolean {
  return spec.groups.some((g) => g.filter.kind === 'subscribed');
}
