// One session's NOTIFY state (RFC 5465): what it asked for, and the notifications about other
// mailboxes waiting to be written (STATUS, LIST, METADATA). The selected mailbox's own updates stay
// in its MailboxView; the connection decides when anything may be written (connection.ts).
//
// Memory: changes are queued in a coarse form (a mailbox id with the kinds of change seen, or one
// LIST/METADATA event); names are matched against the filters only when written, so watching
// `personal` costs nothing per mailbox. At most `limit` entries wait: past it the queue is dropped,
// the client is told `* OK [NOTIFICATIONOVERFLOW]` and NOTIFY NONE applies (RFC 5465 5.8).
import type { Change } from '../../store/change-feed.js';
import type { Mailbox, MailboxCounts, Store } from '../../store/types.js';
import type { Command, FetchAtt, SeqRange } from '../proto/types.js';
import { handleFetch } from './cmd-fetch.js';
import type { ImapConnection } from './connection.js';
import { DELIMITER } from './mailbox-names.js';
import { anyWants, covers, usesSubscribed, wants, type NameFacts, type NotifyEventName, type NotifySpec } from './notify-spec.js';

/** Kinds of change seen in a non-selected mailbox, as bits. */
const NEW = 1;
const EXPUNGE = 2;
const FLAGS = 4;

/** Tells whether a change is one the running command of this session causes. */
export type OwnEvents = (c: Change) => boolean;

/**
 * The mailbox events (MailboxName, SubscriptionChange, MailboxMetadataChange, ServerMetadataChange)
 * that `cmd` causes, as a test on changes; null for commands that cause none. RFC 5465 5: the
 * server SHOULD NOT tell a client of events it caused itself. The change feed does not say which
 * session made a change, but a session's own change reaches it while its command runs (the store
 * publishes before it returns): a change of the command's kind and names seen then is its own.
 * CREATE also makes missing parents, RENAME moves children (and RENAME INBOX creates the target).
 */
export function ownEventsOf(cmd: Command, storeName: (wire: string) => string): OwnEvents | null {
  const under = (name: string, top: string): boolean => name === top || name.startsWith(top + DELIMITER);
  const strip = (n: string): string => (n.endsWith(DELIMITER) ? n.slice(0, -1) : n);
  switch (cmd.name) {
    case 'CREATE': {
      const name = strip(storeName(cmd.mailbox));
      return (c) => c.kind === 'mailbox-create' && under(name, c.name);
    }
    case 'DELETE': {
      const name = storeName(cmd.mailbox);
      return (c) => c.kind === 'mailbox-delete' && c.name === name;
    }
    case 'RENAME': {
      const to = strip(storeName(cmd.to));
      return (c) => (c.kind === 'mailbox-rename' && under(c.name, to)) || (c.kind === 'mailbox-create' && under(to, c.name));
    }
    case 'SUBSCRIBE':
    case 'UNSUBSCRIBE': {
      const name = storeName(cmd.mailbox);
      const subscribed = cmd.name === 'SUBSCRIBE';
      return (c) => c.kind === 'subscription' && c.name === name && c.subscribed === subscribed;
    }
    case 'SETMETADATA': {
      const name = cmd.mailbox === '' ? null : storeName(cmd.mailbox);
      // The entries too: another session setting other entries of the same mailbox meanwhile is told.
      const entries = new Set(cmd.entries.map((e) => e.name.toLowerCase()));
      return (c) => c.kind === 'metadata' && (c.mailbox?.name ?? null) === name && c.entries.every((e) => entries.has(e.toLowerCase()));
    }
    default:
      return null;
  }
}

type PendingEvent =
  | { kind: 'list'; name: string; oldName: string | null; event: 'MailboxName' | 'SubscriptionChange' }
  | { kind: 'metadata'; mailbox: string | null; entries: string[] };

/**
 * Store reads for the notifications of one change batch, shared by every session that reports it
 * (as change-fanout.ts shares EXISTS lookups): after a CREATE, a thousand sessions watching
 * `personal` make one mailbox listing, not a thousand. A session uses the lookups of the newest
 * batch it queued something from; the first session reads after that batch was published.
 */
interface BatchLookups {
  mailboxes(accountId: number): Promise<Mailbox[]>;
  mailbox(id: number): Promise<{ mb: Mailbox; counts: MailboxCounts } | null>;
}

const lookupsByBatch = new WeakMap<Change[], BatchLookups>();

function memo<K, V>(load: (k: K) => Promise<V>): (k: K) => Promise<V> {
  const m = new Map<K, Promise<V>>();
  return (k) => {
    let p = m.get(k);
    if (!p) {
      p = load(k);
      m.set(k, p);
      // A failed read is not kept: the next session tries again.
      p.catch(() => m.delete(k));
    }
    return p;
  };
}

function lookupsFor(store: Store, batch: Change[] | null): BatchLookups {
  const fresh = (): BatchLookups => ({
    mailboxes: memo((a: number) => store.listMailboxes(a)),
    mailbox: memo(async (id: number) => {
      const mb = await store.getMailboxById(id);
      return mb ? { mb, counts: await store.mailboxCounts(id) } : null;
    }),
  });
  if (!batch) return fresh();
  let l = lookupsByBatch.get(batch);
  if (!l) {
    l = fresh();
    lookupsByBatch.set(batch, l);
  }
  return l;
}

function eventsOf(bits: number): NotifyEventName[] {
  const out: NotifyEventName[] = [];
  if (bits & (NEW | EXPUNGE)) out.push('MessageNew', 'MessageExpunge');
  if (bits & FLAGS) out.push('FlagChange');
  return out;
}

export class NotifySession {
  /** Non-selected mailboxes with message changes: id → change bits. */
  private statuses = new Map<number, number>();
  private events: PendingEvent[] = [];
  private overflowed = false;
  /** The newest change batch something was queued from (its store reads are shared). */
  private lastBatch: Change[] | null = null;
  /** The running command's own mailbox events (ownEventsOf), and those seen meanwhile. */
  private own: { test: OwnEvents; held: Change[] } | null = null;

  constructor(
    public spec: NotifySpec | null,
    private readonly limit: number,
  ) {}

  /** Something is waiting to be written. */
  get hasPending(): boolean {
    return this.overflowed || this.statuses.size > 0 || this.events.length > 0;
  }

  /** The selected mailbox's updates are pushed (RFC 5465 5.2, 5.3: MessageNew/MessageExpunge asked for). */
  get selectedPushed(): boolean {
    return !!this.spec?.selected;
  }

  /** Expunges in the selected mailbox wait for a command that allows them (selected-delayed). */
  get selectedDelayed(): boolean {
    return !!this.spec?.selected?.delayed;
  }

  /** NOTIFY SET replaces what was asked and waits; NOTIFY NONE (null) drops both. */
  replace(spec: NotifySpec | null): void {
    this.spec = spec;
    this.statuses.clear();
    this.events = [];
    this.overflowed = false;
    this.lastBatch = null;
  }

  /** A command that causes mailbox events starts: returns whether it does (then endOwn follows). */
  startOwn(test: OwnEvents | null): boolean {
    if (!test) return false;
    this.own = { test, held: [] };
    return true;
  }

  /**
   * The command ended. Done: what it held was its own, dropped. Failed: it caused nothing, so the
   * held changes were another session's, queued now (returns whether anything was).
   */
  endOwn(done: boolean, selectedId: number | null): boolean {
    const own = this.own;
    this.own = null;
    return !done && !!own?.held.length && this.collect(own.held, selectedId);
  }

  /** Queues what `changes` mean for mailboxes other than `selectedId`; returns whether anything was queued. */
  collect(changes: Change[], selectedId: number | null): boolean {
    const spec = this.spec;
    if (!spec || spec.groups.length === 0) return false;
    const before = this.statuses.size + this.events.length;
    const own = this.own;
    const messages = anyWants(spec, ['MessageNew']);
    const flags = anyWants(spec, ['FlagChange']);
    for (const c of changes) {
      if (own?.test(c)) {
        own.held.push(c);
        continue;
      }
      switch (c.kind) {
        case 'append':
        case 'expunge':
        case 'flags': {
          if (c.mailboxId === selectedId) break;
          const bit = c.kind === 'append' ? NEW : c.kind === 'expunge' ? EXPUNGE : FLAGS;
          if (bit === FLAGS ? !flags : !messages) break;
          this.statuses.set(c.mailboxId, (this.statuses.get(c.mailboxId) ?? 0) | bit);
          break;
        }
        case 'mailbox-create':
        case 'mailbox-delete':
          if (anyWants(spec, ['MailboxName'])) this.events.push({ kind: 'list', name: c.name, oldName: null, event: 'MailboxName' });
          break;
        case 'mailbox-rename':
          if (anyWants(spec, ['MailboxName'])) this.events.push({ kind: 'list', name: c.name, oldName: c.oldName, event: 'MailboxName' });
          break;
        case 'subscription':
          if (anyWants(spec, ['SubscriptionChange'])) this.events.push({ kind: 'list', name: c.name, oldName: null, event: 'SubscriptionChange' });
          break;
        case 'metadata':
          if (anyWants(spec, [c.mailbox === null ? 'ServerMetadataChange' : 'MailboxMetadataChange'])) {
            this.events.push({ kind: 'metadata', mailbox: c.mailbox?.name ?? null, entries: c.entries });
          }
          break;
      }
    }
    if (this.statuses.size + this.events.length > this.limit) {
      // RFC 5465 5.8: drop everything, say so, and behave as after NOTIFY NONE.
      this.replace(null);
      this.overflowed = true;
      return true;
    }
    const queued = this.statuses.size + this.events.length > before;
    if (queued) this.lastBatch = changes;
    return queued;
  }

  /**
   * Writes what is queued: LIST and METADATA events in order, then one STATUS per changed mailbox.
   * Names are matched against the filters now (the facts they need are read once per flush).
   */
  async flush(conn: ImapConnection): Promise<void> {
    if (this.overflowed) {
      this.overflowed = false;
      await conn.untagged('OK [NOTIFICATIONOVERFLOW] too many notifications queued; NOTIFY NONE now applies');
      return;
    }
    const spec = this.spec;
    const statuses = this.statuses;
    const events = this.events;
    const lookups = lookupsFor(conn.ctx.store, this.lastBatch);
    this.statuses = new Map();
    this.events = [];
    this.lastBatch = null;
    if (!spec || (statuses.size === 0 && events.length === 0)) return;
    const store = conn.ctx.store;
    const account = conn.identity!.accountId;
    const subscribed = new Set(usesSubscribed(spec) ? await store.listSubscriptions(account) : []);
    const facts: NameFacts = { subscribed: () => subscribed };
    let all: Mailbox[] | null = null;
    for (const e of events) {
      if (e.kind === 'metadata') {
        const ok = e.mailbox === null ? anyWants(spec, ['ServerMetadataChange']) : wants(spec, e.mailbox, ['MailboxMetadataChange'], facts);
        if (ok) await conn.send(metadataNotice(conn, e.mailbox, e.entries));
        continue;
      }
      const ok = wants(spec, e.name, [e.event], facts) || (e.oldName !== null && wants(spec, e.oldName, [e.event], facts));
      if (!ok) continue;
      all ??= await lookups.mailboxes(account);
      await conn.send(listNotice(conn, e.name, e.oldName, all));
    }
    const selectedId = conn.view?.mailbox.id ?? null;
    for (const [id, bits] of statuses) {
      if (id === selectedId) continue;
      const found = await lookups.mailbox(id);
      if (!found || found.mb.accountId !== account) continue;
      if (!wants(spec, found.mb.name, eventsOf(bits), facts)) continue;
      await conn.send(statusLine(conn, found.mb, found.counts));
    }
  }
}

/**
 * `* STATUS name (MESSAGES UIDNEXT UIDVALIDITY UNSEEN [HIGHESTMODSEQ])` (RFC 5465 5.1-5.3: the
 * items each event needs, HIGHESTMODSEQ with CONDSTORE; the same for all, as Dovecot).
 */
function statusLine(conn: ImapConnection, mb: Mailbox, c: MailboxCounts): Buffer {
  let items = `MESSAGES ${c.messages} UIDNEXT ${mb.uidNext} UIDVALIDITY ${mb.uidValidity} UNSEEN ${c.unseen}`;
  if (conn.condstore) items += ` HIGHESTMODSEQ ${mb.highestModseq}`;
  return conn.builder().text('* STATUS ').astring(conn.wireName(mb.name)).text(` (${items})\r\n`).toBuffer();
}

/** `* STATUS name (...)` for a non-selected mailbox (RFC 5465 5.1-5.3, 3.1 STATUS indicator). */
export async function sendStatus(conn: ImapConnection, mb: Mailbox): Promise<void> {
  await conn.send(statusLine(conn, mb, await conn.ctx.store.mailboxCounts(mb.id)));
}

/**
 * `* LIST (attributes) "/" name` (RFC 5465 5.4, 5.5): \NonExistent once the name is gone, else the
 * attributes LIST would show (children, special use, \Subscribed); after a rename the extended
 * item OLDNAME (RFC 5258 9 syntax) with the old name.
 */
function listNotice(conn: ImapConnection, name: string, oldName: string | null, all: Mailbox[]): Buffer {
  const mb = all.find((m) => m.name === name);
  const attrs: string[] = [];
  if (!mb) attrs.push('\\NonExistent');
  else {
    const prefix = name + DELIMITER;
    attrs.push(all.some((m) => m.name.startsWith(prefix)) ? '\\HasChildren' : '\\HasNoChildren');
    if (mb.specialUse) attrs.push(mb.specialUse);
    if (mb.subscribed) attrs.push('\\Subscribed');
  }
  const b = conn.builder().text(`* LIST (${attrs.join(' ')}) "${DELIMITER}" `).astring(conn.wireName(name));
  if (oldName !== null) b.text(' ("OLDNAME" (').astring(conn.wireName(oldName)).text('))');
  return b.text('\r\n').toBuffer();
}

/** RFC 5464 4.4.2: the unsolicited form names the changed entries, without values. */
function metadataNotice(conn: ImapConnection, mailbox: string | null, entries: string[]): Buffer {
  const b = conn.builder().text('* METADATA ').astring(mailbox === null ? '' : conn.wireName(mailbox));
  for (const e of entries) b.text(' ').astring(e);
  return b.text('\r\n').toBuffer();
}

/**
 * RFC 5465 5.2: after the EXISTS, a FETCH with the MessageNew fetch-att list for each message the
 * view gained above UID `after`, as a UID FETCH would answer it (never setting \Seen: the list is
 * peek-only, notify-spec.ts). Those in `done` were fetched already (search-context.ts, RFC 5465 7).
 */
export async function fetchNewMessages(conn: ImapConnection, after: number, atts: FetchAtt[], done: ReadonlySet<number>): Promise<void> {
  const view = conn.view;
  if (!view || view.uids.length === 0) return;
  const last = view.uids[view.uids.length - 1]!;
  if (last <= after) return;
  if (!done.size) {
    await fetchRanges(conn, [{ start: after + 1, end: last }], atts);
    return;
  }
  const uids: number[] = [];
  for (let i = view.uids.length - 1; i >= 0 && view.uids[i]! > after; i--) if (!done.has(view.uids[i]!)) uids.push(view.uids[i]!);
  await fetchUids(conn, uids.reverse(), atts);
}

/** UID FETCH of `uids` (ascending) with `atts`, as the notifications send it. */
export async function fetchUids(conn: ImapConnection, uids: number[], atts: FetchAtt[]): Promise<void> {
  const ranges: SeqRange[] = [];
  for (const u of uids) {
    const r = ranges[ranges.length - 1];
    if (r && r.end === u - 1) r.end = u;
    else ranges.push({ start: u, end: u });
  }
  if (ranges.length) await fetchRanges(conn, ranges, atts);
}

function fetchRanges(conn: ImapConnection, ranges: SeqRange[], atts: FetchAtt[]): Promise<unknown> {
  return handleFetch(conn, { tag: '*', name: 'FETCH', uid: true, set: { kind: 'ranges', ranges }, items: atts, changedSince: null, vanished: false });
}
