// SORT and UID SORT (RFC 5256 3), DISPLAYFROM/DISPLAYTO (RFC 5957), ESORT, PARTIAL and UPDATE
// (RFC 5267 3, 4.4, 4.3: search-context.ts), SAVE (RFC 5182), MODSEQ (RFC 7162 3.1.5). The messages are chosen by the shared search evaluation,
// then ordered by keys computed once per message and stored with its MIME cache (sort-key-source.ts).
import type { MessageTable } from './message-table.js';
import type { SortKeys } from '../../mime/sort-keys.js';
import { quote } from '../proto/response-writer.js';
import { formatNumberList, formatNumberSet } from '../proto/sequence-set.js';
import type { CommandOf, SortCriterion, SortReturn } from '../proto/types.js';
import { answerOptions, checkUpdateTag, keepCurrent, resultItems, usesModseq } from './cmd-search.js';
import { updateFetchAtts } from './search-context.js';
import { enableCondstore } from './condstore.js';
import type { ImapConnection } from './connection.js';
import type { CommandResult } from './dispatch.js';
import type { MailboxView, ViewMessage } from './mailbox-view.js';
import { runSearch } from './search-run.js';
import { sortKeysFor } from './sort-key-source.js';

const NO_KEYS: SortKeys = {};

type Column = { num: Float64Array; str?: undefined } | { str: string[]; num?: undefined };

const STRING_FIELDS = { SUBJECT: 's', FROM: 'f', TO: 't', CC: 'c', DISPLAYFROM: 'df', DISPLAYTO: 'dt' } as const;

/** The value one criterion compares for a message (RFC 5256 3; missing strings sort as ""). */
function sortValue(c: SortCriterion, m: ViewMessage, k: SortKeys): number | string {
  switch (c.key) {
    case 'SIZE':
      return m.size;
    // RFC 5256 2.2: without a usable Date field the sent date is the INTERNALDATE.
    case 'DATE':
      return k.d ?? m.internalDate.getTime();
    case 'ARRIVAL':
      return m.internalDate.getTime();
    default:
      return k[STRING_FIELDS[c.key]] ?? '';
  }
}

/**
 * The order of two UIDs of the view by the criteria, ties in mailbox order (RFC 5256 3): what
 * sortUids gives, for placing one message in a kept sorted result (search-context.ts).
 */
export function sortComparator(view: MailboxView, keys: Map<number, SortKeys>, criteria: readonly SortCriterion[]): (a: number, b: number) => number {
  return (a, b) => {
    const ma = view.messages.get(a)!;
    const mb = view.messages.get(b)!;
    const ka = keys.get(a) ?? NO_KEYS;
    const kb = keys.get(b) ?? NO_KEYS;
    for (const c of criteria) {
      const x = sortValue(c, ma, ka);
      const y = sortValue(c, mb, kb);
      if (x !== y) return (x < y ? -1 : 1) * (c.reverse ? -1 : 1);
    }
    return a - b;
  };
}

/** Whether sorting by the criteria reads stored keys (ARRIVAL and SIZE are in the view). */
export function needsSortKeys(criteria: readonly SortCriterion[]): boolean {
  return criteria.some((c) => c.key !== 'ARRIVAL' && c.key !== 'SIZE');
}

/** One column of compared values per criterion, indexed like `uids`. */
function column(c: SortCriterion, view: MailboxView, uids: readonly number[], keys: Map<number, SortKeys>): Column {
  const n = uids.length;
  const k = (i: number): SortKeys => keys.get(uids[i]!) ?? NO_KEYS;
  const msg = (i: number) => view.messages.get(uids[i]!)!;
  switch (c.key) {
    case 'ARRIVAL':
    case 'DATE':
    case 'SIZE': {
      const num = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const m = msg(i);
        // RFC 5256 2.2: without a usable Date field the sent date is the INTERNALDATE.
        num[i] = c.key === 'SIZE' ? m.size : c.key === 'DATE' ? (k(i).d ?? m.internalDate.getTime()) : m.internalDate.getTime();
      }
      return { num };
    }
    default: {
      const field = STRING_FIELDS[c.key];
      const str = new Array<string>(n);
      // Missing values sort as the empty string (RFC 5256 3).
      for (let i = 0; i < n; i++) str[i] = k(i)[field] ?? '';
      return { str };
    }
  }
}

/** One criterion's comparison of positions a and b (no loop over criteria: the common case). */
function compareOne(col: Column, sign: number): (a: number, b: number) => number {
  if (col.num) {
    const num = col.num;
    return (a, b) => {
      const d = num[a]! - num[b]!;
      return d ? (d < 0 ? -sign : sign) : a - b;
    };
  }
  const str = col.str;
  return (a, b) => {
    const x = str[a]!;
    const y = str[b]!;
    return x === y ? a - b : x < y ? -sign : sign;
  };
}

/** `uids` (ascending) in the order of the criteria; ties in mailbox order (RFC 5256 3). */
export function sortUids(view: MailboxView, uids: readonly number[], keys: Map<number, SortKeys>, criteria: readonly SortCriterion[]): number[] {
  const cols = criteria.map((c) => ({ col: column(c, view, uids, keys), sign: c.reverse ? -1 : 1 }));
  const order = Array.from({ length: uids.length }, (_, i) => i);
  if (cols.length === 1) {
    order.sort(compareOne(cols[0]!.col, cols[0]!.sign));
    return order.map((i) => uids[i]!);
  }
  order.sort((a, b) => {
    for (const { col, sign } of cols) {
      if (col.num) {
        const d = col.num[a]! - col.num[b]!;
        if (d) return d < 0 ? -sign : sign;
      } else {
        const x = col.str[a]!;
        const y = col.str[b]!;
        if (x !== y) return x < y ? -sign : sign;
      }
    }
    return a - b;
  });
  return order.map((i) => uids[i]!);
}

/**
 * The last orders per view message table (as the keys are): a message's keys never change, so the
 * same messages by the same criteria always sort the same way, and a client that sorts a mailbox
 * again (each time it opens it) gets the order without the work. A few criteria lists per view.
 */
const lastOrders = new WeakMap<MessageTable<ViewMessage>, Map<string, { uids: number[]; sorted: number[] }>>();
const ORDERS_KEPT = 4;

function sameList(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

async function sortedFor(conn: ImapConnection, view: MailboxView, uids: number[], criteria: readonly SortCriterion[]): Promise<{ sorted: number[]; gone: boolean }> {
  const name = criteria.map((c) => (c.reverse ? `-${c.key}` : c.key)).join(' ');
  let orders = lastOrders.get(view.messages);
  const last = orders?.get(name);
  if (last && sameList(last.uids, uids)) return { sorted: last.sorted, gone: false };
  const { keys, gone } = needsSortKeys(criteria) ? await sortKeysFor(conn.ctx.store, view, uids) : { keys: new Map<number, SortKeys>(), gone: false };
  const sorted = sortUids(view, uids, keys, criteria);
  // A message whose keys could not be read (expunged meanwhile) must not make the order stick.
  if (!gone) {
    if (!orders) lastOrders.set(view.messages, (orders = new Map()));
    orders.delete(name);
    orders.set(name, { uids, sorted });
    if (orders.size > ORDERS_KEPT) orders.delete(orders.keys().next().value!);
  }
  return { sorted, gone };
}

export async function handleSort(conn: ImapConnection, cmd: CommandOf<'SORT'>): Promise<CommandResult | void> {
  const view = conn.view!;
  const update = checkUpdateTag(conn, cmd.tag, cmd.returnOpts?.opts);
  const updateAtts = updateFetchAtts(conn.hiddenCapabilities, cmd.returnOpts?.updateAtts);
  const withModseq = usesModseq(cmd.key);
  // RFC 7162 3.1: the first command that enables CONDSTORE is answered with HIGHESTMODSEQ.
  if (withModseq) await enableCondstore(conn);
  const search = await runSearch(conn.ctx.store, view, cmd.key);
  const { sorted, gone } = await sortedFor(conn, view, search.found, cmd.criteria);
  const nums = cmd.uid ? sorted : sorted.map((u) => view.msn(u));
  const modseqOf = (uids: number[]): number => {
    let highest = 0;
    for (const u of uids) highest = Math.max(highest, view.messages.get(u)?.modseq ?? 0);
    return highest;
  };
  if (cmd.returnOpts) await esort(conn, cmd, cmd.returnOpts, search.found, sorted, nums, withModseq ? modseqOf : null);
  else {
    let line = nums.length ? `SORT ${nums.join(' ')}` : 'SORT';
    if (withModseq && nums.length) line += ` (MODSEQ ${modseqOf(sorted)})`;
    await conn.untagged(line);
  }
  if (update) await keepCurrent(conn, cmd, cmd.criteria, sorted, updateAtts);
  // RFC 5530 4: EXPUNGEISSUED tells the client to NOOP soon to learn of the expunge.
  if (search.gone || gone) return { code: 'EXPUNGEISSUED', text: 'SORT completed; some messages were expunged by another session' };
}

/**
 * RFC 5267 3 (ESORT): the answer is an ESEARCH response, as for SEARCH, with MIN and MAX the first
 * and last in sort order and ALL in that order; MODSEQ that of the messages returned (RFC 7162 3.1.5).
 */
async function esort(conn: ImapConnection, cmd: CommandOf<'SORT'>, ret: SortReturn, found: number[], sorted: number[], nums: number[], modseqOf: ((uids: number[]) => number) | null): Promise<void> {
  const opts = answerOptions(ret.opts, ret.partial);
  const view = conn.view!;
  if (opts.has('SAVE')) {
    // RFC 5182 2.4: the saved result is the set of messages (UIDs); with MIN/MAX only those.
    if (opts.has('MIN') || opts.has('MAX')) {
      const s: number[] = [];
      if (opts.has('MIN') && sorted.length) s.push(sorted[0]!);
      if (opts.has('MAX') && sorted.length) s.push(sorted[sorted.length - 1]!);
      view.saved = [...new Set(s)].sort((a, b) => a - b);
    } else view.saved = found.slice();
    if (opts.size === 1 && !ret.partial) return;
  }
  await conn.untagged(`ESEARCH (TAG ${quote(cmd.tag)})${cmd.uid ? ' UID' : ''}` + resultItems(opts, ret.partial, sorted, nums, false, modseqOf));
}

/**
 * RFC 5267 4.4: PARTIAL (first:last set) with the results at those positions (1-based) of the
 * result list, NIL when there are none. ESEARCH results are ascending, so they may be ranges in any
 * order; ESORT keeps the sort order.
 */
export function partialData(range: { first: number; last: number }, nums: readonly number[], ascending: boolean): string {
  const part = nums.slice(range.first - 1, range.last);
  const set = part.length ? (ascending ? formatNumberSet(part) : formatNumberList(part)) : 'NIL';
  return `(${range.first}:${range.last} ${set})`;
}
