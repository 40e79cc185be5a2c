// Results kept current: SEARCH, UID SEARCH, SORT and UID SORT with RETURN (UPDATE) (RFC 5267 4.3,
// CONTEXT=SEARCH and CONTEXT=SORT). Each keeps its search program and its result (UIDs, in the
// requested order) on the selected mailbox's view; as the view learns of changes (MailboxView.sync:
// this session's, other sessions', other worker processes' through the change feed) the changed
// messages are evaluated again and the differences go out as
// `* ESEARCH (TAG "t") [UID] REMOVEFROM (pos set) ADDTO (pos set)`.
//
// - SEARCH results use position 0 and sets in mailbox order (4.3.3, 4.3.4: recommended); SORT
//   results give the position of each run in sort order, processed in order by the client.
// - REMOVEFROM for an expunge goes out before its EXPUNGE/VANISHED, and at once even while the
//   EXPUNGE is held back (RFC 9051 7.5.1; RFC 5267 Appendix A.3), so message numbers stay valid;
//   ADDTO for new messages after their EXISTS (4.3.3).
// - RETURN (UPDATE (fetch-att...)) (RFC 5465 7, with NOTIFY): a new message that joins the result
//   is fetched with that list, after the EXISTS and before the ESEARCH ADDTO (section 7's order;
//   section 5.2 says the other, erratum 4833 allows either). With NOTIFY's MessageNew list too
//   the lists go into one FETCH per message (5.2). A message that joins by a flag change is not
//   fetched (7: SHOULD NOT); nor are those of the session's own APPEND, COPY or MOVE (5.2).
// - Message numbers and `$` in the program are fixed when the command runs (4.3, from the RFC 3501
//   errata): they become the UIDs they named then.
// - The contexts end with the view (a new SELECT/EXAMINE, CLOSE, UNSELECT) or by CANCELUPDATE.
import { MAX_UPDATE_CONTEXTS, MAX_UPDATE_RESULT } from '../proto/limits.js';
import { quote } from '../proto/response-writer.js';
import { formatNumberList, formatNumberSet, inRanges } from '../proto/sequence-set.js';
import type { FetchAtt, SearchKey, SeqRange, SortCriterion } from '../proto/types.js';
import type { SortKeys } from '../../mime/sort-keys.js';
import type { Store } from '../../store/types.js';
import { needsSortKeys, sortComparator } from './cmd-sort.js';
import type { MailboxView, NewMessageFetch, ViewObserver, ViewOutput } from './mailbox-view.js';
import { isExpungeIssued, MessageLoader, Yielder } from './message-loader.js';
import { anyKey, matches, target, type SearchTarget } from './search-eval.js';
import { sortKeysFor } from './sort-key-source.js';
import { bad } from './errors.js';
import { peekOnly } from './notify-spec.js';

interface UpdateContext {
  tag: string;
  uid: boolean;
  /** RFC 5465 7: what to FETCH of a new message that joins (peek only); null: nothing. */
  fetchAtts: FetchAtt[] | null;
  key: SearchKey;
  /** null for SEARCH (mailbox order); the criteria for SORT. */
  criteria: SortCriterion[] | null;
  /** The result as UIDs, in the requested order. */
  result: number[];
  members: Set<number>;
  /** The program looks at flags, MODSEQ or \Recent: a flag change can change the match. */
  stateful: boolean;
  /** Members whose expunge the other contexts were told of before this one was made. */
  stale: number[];
}

/** Why a kept result was refused or ended (the text after `NO [NOUPDATE "tag"]`). */
export type NoUpdateReason = string;

const contexts = new WeakMap<MailboxView, SearchContexts>();

/** How many results a session keeps current, and how big each may be (RFC 5267 4.3.1). */
export interface ContextLimits {
  contexts: number;
  result: number;
}

const LIMITS: ContextLimits = { contexts: MAX_UPDATE_CONTEXTS, result: MAX_UPDATE_RESULT };

/** The view's kept results (made on first use; they live as long as the view). */
export function contextsOf(view: MailboxView, store: Store): SearchContexts {
  let c = contexts.get(view);
  if (!c) contexts.set(view, (c = new SearchContexts(store, view)));
  return c;
}

/** The view's kept results if it has any: null otherwise (nothing made). */
export function existingContexts(view: MailboxView | null): SearchContexts | null {
  return view ? (contexts.get(view) ?? null) : null;
}

/**
 * The UPDATE fetch-att list of RFC 5465 7, as it will be fetched (BODY[...] as BODY.PEEK[...], as
 * MessageNew's: a notification never sets \Seen). It extends UPDATE only where NOTIFY is offered:
 * an account NOTIFY is hidden from gets BAD.
 */
export function updateFetchAtts(hidden: ReadonlySet<string>, atts: FetchAtt[] | null | undefined): FetchAtt[] | null {
  if (!atts) return null;
  if (hidden.has('NOTIFY')) throw bad('RETURN (UPDATE (fetch-att)) needs NOTIFY, which is not available to this account');
  return peekOnly(atts);
}

/** Keys whose answer a flag change can change (flags, \Recent, MODSEQ). */
const STATEFUL = new Set<SearchKey['op']>(['flag', 'new', 'old', 'recent', 'modseq']);

function isStateful(k: SearchKey): boolean {
  return anyKey(k, (l) => STATEFUL.has(l.op));
}

/** Ascending UIDs as ranges of consecutive ones. */
function toRanges(uids: readonly number[]): SeqRange[] {
  const out: SeqRange[] = [];
  for (const u of uids) {
    const last = out[out.length - 1];
    if (last && last.end === u - 1) last.end = u;
    else out.push({ start: u, end: u });
  }
  return out;
}

/**
 * The program with message numbers and `$` replaced by the UIDs they name now (RFC 5267 4.3: they
 * are evaluated when the command is received, so later renumbering changes nothing).
 */
export function fixNumbers(k: SearchKey, view: MailboxView): SearchKey {
  switch (k.op) {
    case 'and':
      return { op: 'and', keys: k.keys.map((x) => fixNumbers(x, view)) };
    case 'or':
      return { op: 'or', a: fixNumbers(k.a, view), b: fixNumbers(k.b, view) };
    case 'not':
      return { op: 'not', key: fixNumbers(k.key, view) };
    case 'seq':
    case 'uid': {
      if (k.set.kind === 'saved') return { op: 'uid', set: { kind: 'ranges', ranges: toRanges(view.saved.filter((u) => view.messages.has(u)).sort((a, b) => a - b)) } };
      if (k.op === 'uid') return k;
      const ranges = k.set.ranges;
      const n = view.uids.length;
      return { op: 'uid', set: { kind: 'ranges', ranges: toRanges(view.uids.filter((_, i) => inRanges(ranges, i + 1, n))) } };
    }
    default:
      return k;
  }
}

export class SearchContexts implements ViewObserver {
  /** In the order they were made: their updates go out in that order. */
  private list: UpdateContext[] = [];
  /** Flag changes this session made (applyFlags), not yet looked at. */
  private readonly touchedUids = new Set<number>();
  /** Expunged and removed from the results, still in the view (EXPUNGE held back). */
  private readonly gone = new Set<number>();

  constructor(
    private readonly store: Store,
    private readonly view: MailboxView,
    private readonly limits: ContextLimits = LIMITS,
  ) {}

  has(tag: string): boolean {
    return this.list.some((c) => c.tag === tag);
  }

  get dirty(): boolean {
    return this.touchedUids.size > 0 || this.list.some((c) => c.stale.length > 0);
  }

  /**
   * Keeps a result current from now on; returns why not (RFC 5267 4.3.1: NOUPDATE) or null. The
   * tag is not in use (the caller answered BAD otherwise, 4.3).
   */
  add(tag: string, uid: boolean, key: SearchKey, criteria: SortCriterion[] | null, result: readonly number[], fetchAtts: FetchAtt[] | null = null): NoUpdateReason | null {
    if (this.list.length >= this.limits.contexts) return `no more than ${this.limits.contexts} searches kept current at once`;
    if (result.length > this.limits.result) return `no result of more than ${this.limits.result} messages kept current`;
    // A message whose expunge is known but not reported yet can be in the answer: the client
    // hears of its REMOVEFROM with the next updates, as the other contexts did.
    const stale = this.gone.size ? result.filter((u) => this.gone.has(u)).sort((a, b) => a - b) : [];
    this.list.push({ tag, uid, fetchAtts, key: fixNumbers(key, this.view), criteria, result: result.slice(), members: new Set(result), stateful: isStateful(key), stale });
    this.view.observer = this;
    return null;
  }

  /** CANCELUPDATE (RFC 5267 4.3.5): all the tags or none; returns the unknown ones. */
  cancel(tags: string[]): string[] {
    const unknown = tags.filter((t) => !this.has(t));
    if (unknown.length) return unknown;
    for (const t of tags) {
      const i = this.list.findIndex((c) => c.tag === t);
      if (i >= 0) this.list.splice(i, 1);
    }
    if (!this.list.length) this.stop();
    return [];
  }

  private stop(): void {
    if (this.view.observer === this) this.view.observer = null;
    this.touchedUids.clear();
    this.gone.clear();
  }

  touched(uid: number): void {
    this.touchedUids.add(uid);
  }

  async expunging(uids: number[], out: ViewOutput): Promise<void> {
    await this.flushStale(out);
    this.prune();
    const removed: number[] = [];
    for (const u of uids) {
      this.touchedUids.delete(u);
      if (this.view.messages.has(u) && !this.gone.has(u)) {
        this.gone.add(u);
        removed.push(u);
      }
    }
    if (!removed.length) return;
    for (const ctx of this.list) {
      const drop = removed.filter((u) => ctx.members.has(u));
      if (drop.length) await out.untagged(this.head(ctx) + this.remove(ctx, drop));
    }
  }

  /** REMOVEFROM for the stale members (see add), before anything else and before any EXPUNGE. */
  private async flushStale(out: ViewOutput): Promise<void> {
    for (const ctx of this.list) {
      if (!ctx.stale.length) continue;
      const drop = ctx.stale.filter((u) => ctx.members.has(u));
      ctx.stale = [];
      if (drop.length) await out.untagged(this.head(ctx) + this.remove(ctx, drop));
    }
  }

  async changed(uids: number[], out: ViewOutput): Promise<void> {
    await this.flushStale(out);
    const stateful = this.list.filter((c) => c.stateful);
    const all = new Set(stateful.length ? uids : []);
    for (const u of this.touchedUids) all.add(u);
    this.touchedUids.clear();
    if (!all.size || !stateful.length) return;
    const candidates = [...all].filter((u) => this.view.messages.has(u) && !this.gone.has(u));
    if (!candidates.length) return;
    await this.reevaluate(stateful, candidates, out, true);
  }

  async added(uids: number[], out: ViewOutput): Promise<void> {
    const fresh = uids.filter((u) => this.view.messages.has(u) && !this.gone.has(u));
    if (!fresh.length || !this.list.length) return;
    await this.reevaluate(this.list, fresh, out, false, out.newMessages);
  }

  /** Evaluates the messages against each context and reports the differences. */
  private async reevaluate(ctxs: UpdateContext[], uids: number[], out: ViewOutput, mayRemove: boolean, fetchNew?: NewMessageFetch): Promise<void> {
    uids.sort((a, b) => a - b);
    const loader = new MessageLoader(this.store, this.view.mailbox.id);
    const now = Date.now();
    const adds = ctxs.map((): number[] => []);
    const drops = ctxs.map((): number[] => []);
    const yielder = new Yielder();
    for (const uid of uids) {
      let t: SearchTarget | null = null;
      for (let i = 0; i < ctxs.length; i++) {
        const ctx = ctxs[i]!;
        const was = ctx.members.has(uid);
        if (was && !mayRemove) continue;
        t ??= target(this.view, loader, uid);
        let is: boolean;
        try {
          is = await matches(ctx.key, t, this.view, now);
        } catch (err) {
          // Expunged by another session, its content gone: its expunge comes through the feed.
          if (!isExpungeIssued(err)) throw err;
          is = false;
        }
        if (is && !was) adds[i]!.push(uid);
        else if (!is && was) drops[i]!.push(uid);
      }
      loader.release([uid]);
      const y = yielder.tick();
      if (y) await y;
    }
    if (fetchNew) await fetchJoined(ctxs, uids, adds, fetchNew);
    const ended = new Set<UpdateContext>();
    for (let i = 0; i < ctxs.length; i++) {
      const ctx = ctxs[i]!;
      if (!adds[i]!.length && !drops[i]!.length) continue;
      let line = this.head(ctx);
      if (drops[i]!.length) line += this.remove(ctx, drops[i]!);
      if (adds[i]!.length) line += await this.insert(ctx, adds[i]!);
      await out.untagged(line);
      if (ctx.result.length > this.limits.result) {
        // Grown past the limit: it ends here, and the client is told (RFC 5267 4.3.1).
        ended.add(ctx);
        await out.untagged(`NO [NOUPDATE ${quote(ctx.tag)}] no result of more than ${this.limits.result} messages kept current`);
      }
    }
    if (ended.size) this.list = this.list.filter((c) => !ended.has(c));
    if (!this.list.length) this.stop();
  }

  private head(ctx: UpdateContext): string {
    return `ESEARCH (TAG ${quote(ctx.tag)})${ctx.uid ? ' UID' : ''}`;
  }

  private num(ctx: UpdateContext, uid: number): number {
    return ctx.uid ? uid : this.view.msn(uid);
  }

  /** Removes `drop` (ascending UIDs, all members) and returns the REMOVEFROM item. */
  private remove(ctx: UpdateContext, drop: number[]): string {
    for (const u of drop) ctx.members.delete(u);
    if (!ctx.criteria) {
      const gone = new Set(drop);
      ctx.result = ctx.result.filter((u) => !gone.has(u));
      return ` REMOVEFROM (0 ${formatNumberSet(drop.map((u) => this.num(ctx, u)))})`;
    }
    // Positions before removal, as runs of neighbours; each pair is applied in turn by the
    // client, so a run's position counts the runs removed before it (4.3.4).
    const gone = new Set(drop);
    const at: number[] = [];
    for (let i = 0; i < ctx.result.length; i++) if (gone.has(ctx.result[i]!)) at.push(i);
    const pairs: string[] = [];
    let removedBefore = 0;
    for (let j = 0; j < at.length; ) {
      let k = j;
      while (k + 1 < at.length && at[k + 1] === at[k]! + 1) k++;
      const run = at.slice(j, k + 1).map((i) => this.num(ctx, ctx.result[i]!));
      pairs.push(`${at[j]! + 1 - removedBefore} ${formatNumberList(run)}`);
      removedBefore += run.length;
      j = k + 1;
    }
    ctx.result = ctx.result.filter((u) => !gone.has(u));
    return ` REMOVEFROM (${pairs.join(' ')})`;
  }

  /** Adds `add` (ascending UIDs, none a member) and returns the ADDTO item. */
  private async insert(ctx: UpdateContext, add: number[]): Promise<string> {
    for (const u of add) ctx.members.add(u);
    if (!ctx.criteria) {
      ctx.result = mergeAscending(ctx.result, add);
      return ` ADDTO (0 ${formatNumberSet(add.map((u) => this.num(ctx, u)))})`;
    }
    let keys = new Map<number, SortKeys>();
    // The members' keys were read for the SORT and are kept with the view; new ones are read now.
    if (needsSortKeys(ctx.criteria)) keys = (await sortKeysFor(this.store, this.view, [...add, ...ctx.result])).keys;
    const cmp = sortComparator(this.view, keys, ctx.criteria);
    add.sort(cmp);
    // Each insertion lands after the previous one (same order): a run grows while they are adjacent.
    const pairs: { pos: number; nums: number[] }[] = [];
    let lo = 0;
    for (const u of add) {
      let hi = ctx.result.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cmp(ctx.result[mid]!, u) < 0) lo = mid + 1;
        else hi = mid;
      }
      ctx.result.splice(lo, 0, u);
      const last = pairs[pairs.length - 1];
      if (last && last.pos + last.nums.length === lo + 1) last.nums.push(this.num(ctx, u));
      else pairs.push({ pos: lo + 1, nums: [this.num(ctx, u)] });
      lo++;
    }
    return ` ADDTO (${pairs.map((p) => `${p.pos} ${formatNumberList(p.nums)}`).join(' ')})`;
  }

  /** Drops `gone` entries the view no longer holds (their EXPUNGE went out). */
  private prune(): void {
    for (const u of this.gone) if (!this.view.messages.has(u)) this.gone.delete(u);
  }
}

/**
 * RFC 5465 7 and 5.2: one FETCH per new message, before the ESEARCH lines, with the UPDATE lists
 * of the results it joined and NOTIFY's MessageNew list, each attribute once.
 */
async function fetchJoined(ctxs: UpdateContext[], uids: number[], adds: number[][], fetchNew: NewMessageFetch): Promise<void> {
  const lists = new Map<number, FetchAtt[]>();
  const put = (uid: number, atts: FetchAtt[]): void => {
    const list = lists.get(uid) ?? [];
    for (const a of atts) if (!list.some((b) => sameAtt(a, b))) list.push(a);
    lists.set(uid, list);
  };
  for (let i = 0; i < ctxs.length; i++) {
    const atts = ctxs[i]!.fetchAtts;
    if (atts) for (const u of adds[i]!) put(u, atts);
  }
  // Without an UPDATE list to join, MessageNew's FETCH stays where it is (after the sync).
  if (!lists.size) return;
  if (fetchNew.messageNew) for (const u of uids) put(u, fetchNew.messageNew);
  const ordered = new Map([...lists].sort((a, b) => a[0] - b[0]));
  await fetchNew.fetch(ordered);
  for (const u of ordered.keys()) fetchNew.done.add(u);
}

function sameAtt(a: FetchAtt, b: FetchAtt): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function mergeAscending(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]! < b[j]!)) out.push(a[i++]!);
    else out.push(b[j++]!);
  }
  return out;
}
