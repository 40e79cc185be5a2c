// The selected mailbox as this session knows it: message sequence numbers over UIDs, flags and
// MODSEQs, and changes from other sessions (change feed) queued until they may be reported.
// RFC 9051 7.5.1: EXPUNGE may not be sent during FETCH, STORE or SEARCH (non-UID), nor when no command
// is in progress; so expunges wait in `pending` while other changes are applied in order.
import { MessageTable } from './message-table.js';
import type { Change } from '../../store/change-feed.js';
import { StoreError } from '../../store/errors.js';
import type { Mailbox, MessageMeta, MessageSummary, Store } from '../../store/types.js';

/** What a view sync reads from the store: the metadata of new messages. */
export type MessageLookup = Pick<Store, 'getMessages'>;
import { inRanges, formatNumberSet } from '../proto/sequence-set.js';
import { STAR, type FetchAtt, type SeqRange, type SequenceSet } from '../proto/types.js';
import { bad } from './errors.js';
import { fetchHead } from './uidonly.js';

// Dates are kept as seconds from this base plus milliseconds: small integers (V8 stores them in
// the object; a millisecond timestamp would be a separate heap number, two per message).
const DATE_BASE_S = 1_500_000_000;

/** What the session keeps per message: small (dates as small integers, flag lists shared), 100,000s per view. */
export class ViewMessage {
  private readonly internalS: number;
  private readonly internalMs: number;
  private readonly saveS: number;
  private readonly saveMs: number;

  constructor(
    public uid: number,
    public flags: string[],
    public modseq: number,
    internalDate: number,
    saveDate: number,
    public size: number,
    public fileId: number,
    public id: number,
  ) {
    this.internalMs = ((internalDate % 1000) + 1000) % 1000;
    this.internalS = (internalDate - this.internalMs) / 1000 - DATE_BASE_S;
    this.saveMs = ((saveDate % 1000) + 1000) % 1000;
    this.saveS = (saveDate - this.saveMs) / 1000 - DATE_BASE_S;
  }

  get internalDate(): Date {
    return new Date((this.internalS + DATE_BASE_S) * 1000 + this.internalMs);
  }

  get saveDate(): Date {
    return new Date((this.saveS + DATE_BASE_S) * 1000 + this.saveMs);
  }
}

export interface ViewOutput {
  /** Sends one untagged response line (without "* " and CRLF). */
  untagged(text: string): Promise<void>;
  condstore: boolean;
  qresync: boolean;
  rev2: boolean;
  /** RFC 9586: UIDFETCH and VANISHED, never a sequence number. */
  uidOnly?: boolean;
  flagList(flags: string[]): string;
  /**
   * FETCH of new messages (RFC 5465 5.2 MessageNew, 7 UPDATE fetch-att lists), written after the
   * lines so far; absent when none may go out (the session's own APPEND, COPY or MOVE).
   */
  newMessages?: NewMessageFetch;
}

export interface NewMessageFetch {
  /** NOTIFY's MessageNew list for every new message; null when there is none. */
  messageNew: FetchAtt[] | null;
  /** Writes one FETCH per UID with its list. */
  fetch(lists: Map<number, FetchAtt[]>): Promise<void>;
  /** UIDs fetched here already: the MessageNew FETCH after the sync leaves them out. */
  readonly done: Set<number>;
}

/**
 * Follows the view's message changes for results kept current (RFC 5267 4.3, search-context.ts).
 * MailboxView.sync calls it at the points where the RFC wants the updates: before the EXPUNGE or
 * VANISHED of an expunge (also while those are held back), after the FETCH of flag changes, and
 * after the EXISTS of new messages.
 */
export interface ViewObserver {
  /** Messages expunged, reported to the client or not yet; called before any EXPUNGE line. */
  expunging(uids: number[], out: ViewOutput): Promise<void>;
  /** Messages whose flags changed (also those this session changed: `touched`). */
  changed(uids: number[], out: ViewOutput): Promise<void>;
  /** Messages new to the view, after the EXISTS that numbers them. */
  added(uids: number[], out: ViewOutput): Promise<void>;
  /** A flag change this session made and reported itself (applyFlags). */
  touched(uid: number): void;
  /** Touched messages wait to be looked at. */
  readonly dirty: boolean;
}

/** Whether one of `ranges` spans all of first..max (`*` being max). */
function coversAll(ranges: SeqRange[], first: number, max: number): boolean {
  return ranges.some((r) => {
    const a = r.start === STAR ? max : r.start;
    const b = r.end === STAR ? max : r.end;
    return Math.min(a, b) <= first && Math.max(a, b) >= max;
  });
}

function toView(m: MessageMeta): ViewMessage {
  return new ViewMessage(m.uid, m.flags, m.modseq, m.internalDate.getTime(), m.saveDate.getTime(), m.size, m.fileId, m.id);
}

/** Rows per store page when a view is loaded: a few milliseconds of work. */
export const LOAD_PAGE = 2000;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const SYSTEM_FLAGS = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'];

export class MailboxView {
  /** Keywords announced to the client in FLAGS / PERMANENTFLAGS (RFC 9051 7.3.5). */
  private readonly keywords = new Set<string>();
  private keywordsLearnt = false;
  /** UIDs in order: index + 1 is the message sequence number. */
  uids: number[] = [];
  readonly messages: MessageTable<ViewMessage>;
  /** RFC 5182: the saved search result, as UIDs. */
  saved: number[] = [];
  /**
   * UID ranges [first, next) that are \Recent in this session (RFC 3501 2.3.2; IMAP4rev1 sessions are
   * told): claims are ranges, so a few pairs, not an entry per message of a big new mailbox. A UID
   * in them is recent while the view holds it.
   */
  private readonly recentRanges: [number, number][] = [];
  /**
   * Claims new messages' \Recent state from the store (set for a read-write SELECT); null: new
   * messages count as recent without a claim (EXAMINE shows, never takes, RFC 3501 6.3.2).
   */
  claimRecent: ((upTo: number) => Promise<{ first: number; next: number }>) | null = null;
  /** Flag lists with \Recent in front, one per distinct list (lists are shared, see load). */
  private withRecent = new WeakMap<string[], string[]>();
  private pending: Change[] = [];
  /** Results kept current (RFC 5267 UPDATE); null while there are none. */
  observer: ViewObserver | null = null;
  highestModseq: number;
  uidNext: number;
  deleted = false;

  constructor(
    readonly mailbox: Mailbox,
    readonly readOnly: boolean,
    rows: { uids: number[]; messages: MessageTable<ViewMessage> } = { uids: [], messages: new MessageTable() },
  ) {
    this.highestModseq = mailbox.highestModseq;
    this.uidNext = mailbox.uidNext;
    this.uids = rows.uids;
    this.messages = rows.messages;
  }

  /**
   * A view of the mailbox's messages (SELECT, EXAMINE): those below `mailbox.uidNext`, read in pages
   * of LOAD_PAGE with a turn for other sessions between pages, so a big mailbox does not hold the
   * process. The pages are read at different moments: the caller must have subscribed to the
   * account's changes before it read `mailbox`, and queue what came meanwhile on the view (see
   * cmd-select.ts): a change a page already shows is applied again harmlessly (appends by UID,
   * flags by MODSEQ, expunges by UID), and one it missed is applied from the queue.
   */
  static async load(store: Store, mailbox: Mailbox, readOnly: boolean): Promise<MailboxView> {
    // Flag lists are replaced, never changed in place, so messages with the same flags share one.
    const lists = new Map<string, string[]>();
    const uids: number[] = [];
    const messages = new MessageTable<ViewMessage>();
    // Keywords in use, learnt from each distinct flag list as it is split (not per message).
    const keywords = new Set<string>();
    const add = (r: MessageSummary): void => {
      let flags = lists.get(r.flags);
      if (!flags) {
        flags = r.flags === '' ? [] : r.flags.split(' ');
        if (lists.size < 1024) lists.set(r.flags, flags);
        for (const f of flags) if (!f.startsWith('\\')) keywords.add(f);
      }
      uids.push(r.uid);
      messages.set(r.uid, new ViewMessage(r.uid, flags, r.modseq, r.internalDate, r.saveDate, r.size, r.fileId, r.id));
    };
    // Appends from UIDNEXT on come through the change queue, so UIDNEXT, EXISTS and the queue agree.
    for (let after = 0; ; ) {
      const n = await store.messageSummaryPage(mailbox.id, after, mailbox.uidNext, LOAD_PAGE, add);
      if (n < LOAD_PAGE) break;
      after = uids[uids.length - 1]!;
      await nextTurn();
    }
    const view = new MailboxView(mailbox, readOnly, { uids, messages });
    for (const k of keywords) view.keywords.add(k);
    view.keywordsLearnt = true;
    return view;
  }

  /**
   * For SELECT/EXAMINE of the mailbox this (previous) view shows: a new view taking over its
   * messages when they are certainly what the store holds now, so that re-selecting a big mailbox
   * needs no reload. Every change of a mailbox's messages raises its HIGHESTMODSEQ (appends raise
   * UIDNEXT too), and this view has applied every change it was told of up to its own HIGHESTMODSEQ;
   * anything else (changes not applied yet, another UIDVALIDITY) gives null.
   */
  takeOver(mailbox: Mailbox, readOnly: boolean): MailboxView | null {
    const mine = this.mailbox;
    if (mine.id !== mailbox.id || mine.uidValidity !== mailbox.uidValidity || mine.created.getTime() !== mailbox.created.getTime()) return null;
    if (this.deleted || this.pending.length || this.highestModseq !== mailbox.highestModseq || this.uidNext !== mailbox.uidNext) return null;
    const view = new MailboxView(mailbox, readOnly, { uids: this.uids, messages: this.messages });
    // What this view announced covers every keyword its messages use.
    for (const k of this.keywords) view.keywords.add(k);
    view.keywordsLearnt = true;
    this.uids = [];
    this.deleted = true; // this one is not to be used any more
    return view;
  }

  /** The untagged FLAGS and PERMANENTFLAGS lines for the current keywords (SELECT, new keywords). */
  flagsLines(): string[] {
    const flags = [...SYSTEM_FLAGS, ...[...this.keywords].sort()];
    return [`FLAGS (${flags.join(' ')})`, `OK [PERMANENTFLAGS (${this.readOnly ? '' : [...flags, '\\*'].join(' ')})] flags permitted`];
  }

  /** Records every keyword the messages use (SELECT); a loaded view learnt them as it loaded. */
  learnKeywords(): void {
    if (this.keywordsLearnt) return;
    this.keywordsLearnt = true;
    for (const m of this.messages.values()) for (const f of m.flags) if (!f.startsWith('\\')) this.keywords.add(f);
  }

  /**
   * FLAGS and PERMANENTFLAGS again when `flags` hold a keyword the client was not told of: it must
   * see the new FLAGS before a FETCH that uses it (RFC 9051 7.3.5). Empty when nothing is new.
   */
  announceKeywords(flags: string[]): string[] {
    let fresh = false;
    for (const f of flags) {
      if (f.startsWith('\\') || this.keywords.has(f)) continue;
      this.keywords.add(f);
      fresh = true;
    }
    return fresh ? this.flagsLines() : [];
  }

  /** The flags a FETCH shows: \Recent too for IMAP4rev1 sessions (RFC 9051 removed it). */
  shownFlags(m: ViewMessage, rev2: boolean): string[] {
    if (rev2 || !this.isRecent(m.uid)) return m.flags;
    let f = this.withRecent.get(m.flags);
    if (!f) this.withRecent.set(m.flags, (f = ['\\Recent', ...m.flags]));
    return f;
  }

  /** Marks the UIDs in [first, next) as recent (merged with the last range when they touch). */
  markRecent(first: number, next: number): void {
    if (first >= next) return;
    const last = this.recentRanges[this.recentRanges.length - 1];
    if (last && first <= last[1] && next >= last[0]) {
      last[0] = Math.min(last[0], first);
      last[1] = Math.max(last[1], next);
    } else this.recentRanges.push([first, next]);
  }

  isRecent(uid: number): boolean {
    if (!this.messages.has(uid)) return false;
    for (const [first, next] of this.recentRanges) if (uid >= first && uid < next) return true;
    return false;
  }

  /** How many messages of the view are recent (the RECENT response). */
  get recentCount(): number {
    let n = 0;
    for (const [first, next] of this.recentRanges) n += this.indexAtOrAbove(next) - this.indexAtOrAbove(first);
    return n;
  }

  /** The index in `uids` of the first UID >= uid. */
  private indexAtOrAbove(uid: number): number {
    let lo = 0;
    let hi = this.uids.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.uids[mid]! < uid) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  get exists(): number {
    return this.uids.length;
  }

  /** Called by the change-feed listener: only changes of this mailbox are kept. */
  queue(changes: Change[]): void {
    for (const c of changes) if ('mailboxId' in c && c.mailboxId === this.mailbox.id) this.pending.push(c);
  }

  get hasPending(): boolean {
    return this.pending.length > 0;
  }

  /** Changes to report: queued ones, or this session's own that kept results must hear of. */
  get hasWork(): boolean {
    return this.pending.length > 0 || (this.observer?.dirty ?? false);
  }

  msn(uid: number): number {
    let lo = 0;
    let hi = this.uids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.uids[mid]!;
      if (v === uid) return mid + 1;
      if (v < uid) lo = mid + 1;
      else hi = mid - 1;
    }
    return 0;
  }

  /** The UIDs a sequence set names, in ascending order. Non-UID sets beyond EXISTS are an error. */
  resolve(set: SequenceSet, uid: boolean): number[] {
    if (set.kind === 'saved') return this.saved.filter((u) => this.messages.has(u));
    if (!uid) {
      const out: number[] = [];
      const n = this.uids.length;
      for (const r of set.ranges) {
        if ((r.start !== STAR && r.start > n) || (r.end !== STAR && r.end > n)) {
          throw bad(n === 0 ? 'mailbox is empty: no message sequence numbers' : `message sequence number out of range (EXISTS is ${n})`);
        }
      }
      if (coversAll(set.ranges, 1, n)) return this.uids.slice();
      for (let i = 1; i <= n; i++) if (inRanges(set.ranges, i, n)) out.push(this.uids[i - 1]!);
      return out;
    }
    const max = this.uids.length ? this.uids[this.uids.length - 1]! : 0;
    // 1:* and the like: every message, without testing each.
    if (coversAll(set.ranges, this.uids[0] ?? 0, max)) return this.uids.slice();
    // Fast path for small explicit sets in big mailboxes.
    const explicit = set.ranges.every((r) => r.start !== STAR && r.end !== STAR && Math.abs(r.end - r.start) < 1000);
    if (explicit) {
      const found = new Set<number>();
      for (const r of set.ranges) {
        for (let u = Math.min(r.start, r.end); u <= Math.max(r.start, r.end); u++) if (this.messages.has(u)) found.add(u);
      }
      return [...found].sort((a, b) => a - b);
    }
    return this.uids.filter((u) => inRanges(set.ranges, u, max));
  }

  /** Records a flag change this session made and reported itself. */
  applyFlags(uid: number, flags: string[], modseq: number): void {
    const m = this.messages.get(uid);
    if (!m) return;
    m.flags = flags;
    m.modseq = Math.max(m.modseq, modseq);
    this.highestModseq = Math.max(this.highestModseq, modseq);
    this.observer?.touched(uid);
  }

  /**
   * Applies queued changes and reports them: EXISTS for new messages, FETCH for flag changes,
   * EXPUNGE/VANISHED when `allowExpunge`. New messages' metadata comes from the store.
   */
  async sync(store: MessageLookup, out: ViewOutput, allowExpunge: boolean): Promise<void> {
    if (!this.hasWork) return;
    const changes = this.pending;
    this.pending = [];
    const keep: Change[] = [];
    let newUids: number[] = [];
    const expunged: number[] = [];
    const flagUpdates = new Map<number, { flags: string[]; modseq: number }>();
    for (const c of changes) {
      if (c.kind === 'append') {
        for (const u of c.uids) if (!this.messages.has(u) && !newUids.includes(u)) newUids.push(u);
        for (const u of c.uids) if (u >= this.uidNext) this.uidNext = u + 1;
        this.highestModseq = Math.max(this.highestModseq, c.modseq);
      } else if (c.kind === 'flags') {
        for (const u of c.updates) {
          const m = this.messages.get(u.uid);
          if (m && u.modseq > m.modseq) flagUpdates.set(u.uid, { flags: u.flags, modseq: u.modseq });
          // Already shown (a view loaded in pages read it with the row): the view is that recent.
          else if (m) this.highestModseq = Math.max(this.highestModseq, u.modseq);
        }
      } else if (c.kind === 'expunge') {
        if (allowExpunge) {
          expunged.push(...c.uids);
          this.highestModseq = Math.max(this.highestModseq, c.modseq);
        } else keep.push(c);
      } else if (c.kind === 'mailbox-delete') {
        this.deleted = true;
      }
    }
    this.pending = keep;

    // RFC 5267 4.3.4: REMOVEFROM before the EXPUNGE, while the numbers are valid; also for the
    // expunges held back (Appendix A.3: the result changes at once, the numbering later).
    if (this.observer) {
      const all: number[] = [];
      for (const c of changes) if (c.kind === 'expunge') all.push(...c.uids);
      if (all.length) await this.observer.expunging(all, out);
    }
    // Expunges first: a message appended and expunged in one batch must never be announced.
    if (expunged.length) {
      const goneSet = new Set(expunged);
      newUids = newUids.filter((u) => !goneSet.has(u));
      const gone = [...goneSet].filter((u) => this.messages.has(u)).sort((a, b) => a - b);
      if ((out.qresync || out.uidOnly) && gone.length) {
        // RFC 7162 3.2.10: VANISHED instead of EXPUNGE once QRESYNC is enabled; RFC 9586 3.4 with UIDONLY.
        this.removeMany(gone);
        await out.untagged(`VANISHED ${formatNumberSet(gone)}`);
      } else if (gone.length) {
        // Highest first, so that earlier sequence numbers stay valid as the client applies them:
        // each line's number is then its number in the view before any removal.
        const msns = this.msnsOf(gone);
        this.removeMany(gone);
        for (let i = gone.length - 1; i >= 0; i--) {
          await out.untagged(`${msns[i]} EXPUNGE`);
          if ((gone.length - i) % LOAD_PAGE === 0) await nextTurn();
        }
      }
    }
    // New keywords first, once for the whole batch (RFC 9051 7.3.5).
    const used: string[] = [];
    for (const f of flagUpdates.values()) for (const k of f.flags) used.push(k);
    for (const line of this.announceKeywords(used)) await out.untagged(line);
    for (const [uid, f] of flagUpdates) {
      const m = this.messages.get(uid);
      if (!m) continue;
      m.flags = f.flags;
      m.modseq = f.modseq;
      this.highestModseq = Math.max(this.highestModseq, f.modseq);
      const parts = [`FLAGS ${out.flagList(this.shownFlags(m, out.rev2))}`];
      if ((out.qresync || out.condstore) && !out.uidOnly) parts.unshift(`UID ${uid}`);
      if (out.condstore) parts.push(`MODSEQ (${f.modseq})`);
      await out.untagged(`${fetchHead(out.uidOnly ?? false, this.msn(uid), uid)} (${parts.join(' ')})`);
    }
    // RFC 5267 4.3.2: ADDTO/REMOVEFROM with the FETCH that caused them.
    if (this.observer) await this.observer.changed([...flagUpdates.keys()], out);
    if (newUids.length) {
      const metas = await store.getMessages(this.mailbox.id, newUids);
      const max = this.uids.length ? this.uids[this.uids.length - 1]! : 0;
      const announce: string[] = [];
      for (const m of metas.sort((a, b) => a.uid - b.uid)) {
        if (this.messages.has(m.uid)) continue;
        for (const k of m.flags) announce.push(k);
        this.messages.set(m.uid, toView(m));
        if (m.uid > max) this.uids.push(m.uid);
        else {
          this.uids.push(m.uid);
          this.uids.sort((a, b) => a - b);
        }
      }
      // RFC 3501 2.3.2: the first session told of a message sees it as recent. A read-write view
      // claims it in the store (another session may have been first); a read-only one just shows it.
      if (metas.length) {
        // metas is sorted by UID (above).
        const min = metas[0]!.uid;
        const max = metas[metas.length - 1]!.uid;
        if (this.claimRecent) {
          // Only what this view now shows: an older unclaimed UID is not among the new messages.
          let c = { first: min, next: max + 1 };
          try {
            c = await this.claimRecent(max + 1);
          } catch (err) {
            // Not written (disk full, mailbox deleted meanwhile): shown as recent, not taken.
            if (!(err instanceof StoreError)) throw err;
          }
          this.markRecent(Math.max(c.first, min), c.next);
        } else {
          this.markRecent(min, max + 1);
        }
      }
      for (const line of this.announceKeywords(announce)) await out.untagged(line);
      await out.untagged(`${this.uids.length} EXISTS`);
      // RFC 3501 7.3.2: IMAP4rev1 clients get RECENT with EXISTS.
      if (!out.rev2) await out.untagged(`${this.recentCount} RECENT`);
      // RFC 5267 4.3.3: ADDTO after the EXISTS that makes its numbers valid.
      if (this.observer) await this.observer.added(metas.map((m) => m.uid), out);
    }
  }

  /** The sequence numbers of `sorted` (ascending UIDs the view holds), in one walk. */
  msnsOf(sorted: readonly number[]): number[] {
    const out: number[] = [];
    let k = 0;
    for (const u of sorted) {
      while (k < this.uids.length && this.uids[k]! < u) k++;
      out.push(k + 1);
    }
    return out;
  }

  /** Removes many UIDs at once: one pass over `uids`, not a splice per message. */
  private removeMany(sorted: number[]): void {
    if (sorted.length < 64) {
      for (const u of sorted) this.remove(u);
      return;
    }
    for (const u of sorted) this.messages.delete(u);
    this.uids = this.uids.filter((u) => this.messages.has(u));
  }

  private remove(uid: number): void {
    const n = this.msn(uid);
    if (n) this.uids.splice(n - 1, 1);
    this.messages.delete(uid);
  }

  /** Removes expunged UIDs this session reported itself (EXPUNGE / MOVE handlers). */
  removeReported(uid: number): void {
    this.remove(uid);
  }
}
