// Evaluation of SEARCH keys against one message (RFC 9051 6.4.4). Cheap keys (flags, sizes, dates,
// sets) use the view; text keys load the content once per message and match case-insensitively on
// decoded text (mime searchableText: encoded words, transfer encodings and charsets decoded).
import { decodeEncodedWords, getHeaderValues, parseAddressList, rawCannotContain, searchableText, isGroup, type MimePart } from '../../mime/index.js';
import { inRanges } from '../proto/sequence-set.js';
import type { DateOnly, SearchKey, SequenceSet } from '../proto/types.js';
import type { MailboxView, ViewMessage } from './mailbox-view.js';
import type { MessageLoader } from './message-loader.js';

export interface SearchTarget {
  msg: ViewMessage;
  msn: number;
  /** The message file as stored, read on first use (no parsing). */
  raw(): Promise<Buffer>;
  /** Content and parse tree, loaded on first use. */
  content(): Promise<{ buf: Buffer; part: MimePart }>;
  text(): Promise<{ header: string; body: string }>;
}

/** Whether `leaf` holds for a key of the tree (AND, OR and NOT are looked through). */
export function anyKey(k: SearchKey, leaf: (k: SearchKey) => boolean): boolean {
  switch (k.op) {
    case 'and':
      return k.keys.some((x) => anyKey(x, leaf));
    case 'or':
      return anyKey(k.a, leaf) || anyKey(k.b, leaf);
    case 'not':
      return anyKey(k.key, leaf);
    default:
      return leaf(k);
  }
}

export function needsContent(k: SearchKey): boolean {
  return anyKey(k, (l) => l.op === 'header' || l.op === 'text' || l.op === 'body' || (l.op === 'date' && l.field === 'sent'));
}

/** Whether the key needs the parse tree of every message it looks at (BODY and TEXT get it only when needed). */
export function needsParsed(k: SearchKey): boolean {
  return anyKey(k, (l) => l.op === 'header' || (l.op === 'date' && l.field === 'sent'));
}

function fold(s: string): string {
  return s.normalize('NFC').toLowerCase();
}

/** fold(k.value) of a BODY/TEXT key, computed once per SEARCH rather than once per message. */
const foldedNeedles = new WeakMap<SearchKey, string>();
function needleOf(k: SearchKey & { value: string }): string {
  let n = foldedNeedles.get(k);
  if (n === undefined) foldedNeedles.set(k, (n = fold(k.value)));
  return n;
}

function dayNumber(d: DateOnly): number {
  return Date.UTC(d.year, d.month - 1, d.day) / 86400000;
}

function dayOf(date: Date): number {
  return Math.floor(date.getTime() / 86400000);
}

function compareDay(day: number, cmp: 'before' | 'on' | 'since', d: DateOnly): boolean {
  const ref = dayNumber(d);
  return cmp === 'before' ? day < ref : cmp === 'on' ? day === ref : day >= ref;
}

function inSet(view: MailboxView, set: SequenceSet, n: number, isUid: boolean, max: number): boolean {
  if (set.kind === 'saved') return isUid ? view.saved.includes(n) : view.saved.includes(view.uids[n - 1]!);
  return inRanges(set.ranges, n, max);
}

/** Address headers are matched on their decoded display form too. */
function headerMatches(buf: Buffer, part: MimePart, field: string, needle: string): boolean {
  const values = getHeaderValues(part, buf, field);
  if (needle === '') return values.length > 0;
  for (const v of values) {
    let text = decodeEncodedWords(v);
    if (['from', 'to', 'cc', 'bcc', 'reply-to', 'sender'].includes(field)) {
      try {
        for (const e of parseAddressList(v)) {
          const list = isGroup(e) ? e.members : [e];
          for (const a of list) text += ` ${a.name ?? ''} ${a.local}@${a.domain}`;
        }
      } catch {
        // the raw text is searched anyway
      }
    }
    if (fold(text).includes(needle)) return true;
  }
  return false;
}

/**
 * A leaf key decided from the view alone (flags, sizes, dates, sets), or null for a key that needs
 * the message's content. `msn` is asked only by a sequence-set key.
 */
function cheapLeaf(k: SearchKey, m: ViewMessage, msn: () => number, view: MailboxView, now: number): boolean | null {
  switch (k.op) {
    case 'all':
      return true;
    case 'seq':
      return inSet(view, k.set, msn(), false, view.exists);
    case 'uid': {
      const max = view.uids.length ? view.uids[view.uids.length - 1]! : 0;
      return inSet(view, k.set, m.uid, true, max);
    }
    case 'flag': {
      // Flags compare without case; the exact spelling, the usual case, is checked first.
      const want = k.flag;
      const has = m.flags.some((f) => f === want || (f.length === want.length && f.toLowerCase() === want.toLowerCase()));
      return has === k.present;
    }
    // RFC 3501 6.4.4: NEW is RECENT UNSEEN, OLD is NOT RECENT (\Recent is per session, mailbox-view.ts).
    case 'recent':
      return view.isRecent(m.uid);
    case 'new':
      return view.isRecent(m.uid) && !m.flags.includes('\\Seen');
    case 'old':
      return !view.isRecent(m.uid);
    case 'size':
      return k.cmp === 'larger' ? m.size > k.n : m.size < k.n;
    case 'modseq':
      return m.modseq >= k.modseq;
    case 'older':
      return now - m.internalDate.getTime() >= k.seconds * 1000;
    case 'younger':
      return now - m.internalDate.getTime() <= k.seconds * 1000;
    case 'savedatesupported':
      return true;
    case 'date':
      if (k.field === 'internal') return compareDay(dayOf(m.internalDate), k.cmp, k.date);
      if (k.field === 'save') return compareDay(dayOf(m.saveDate), k.cmp, k.date);
      return null;
    default:
      return null;
  }
}

/**
 * A key without content keys (needsContent false), evaluated without a promise per message: flag,
 * size and date searches of big mailboxes run at the speed of the view.
 */
export function matchesCheap(k: SearchKey, m: ViewMessage, msn: () => number, view: MailboxView, now: number): boolean {
  switch (k.op) {
    case 'and':
      for (const s of k.keys) if (!matchesCheap(s, m, msn, view, now)) return false;
      return true;
    case 'or':
      return matchesCheap(k.a, m, msn, view, now) || matchesCheap(k.b, m, msn, view, now);
    case 'not':
      return !matchesCheap(k.key, m, msn, view, now);
    default: {
      const r = cheapLeaf(k, m, msn, view, now);
      if (r === null) throw new Error(`search key ${k.op} needs content`);
      return r;
    }
  }
}

export async function matches(k: SearchKey, t: SearchTarget, view: MailboxView, now: number): Promise<boolean> {
  switch (k.op) {
    case 'and':
      for (const s of k.keys) if (!(await matches(s, t, view, now))) return false;
      return true;
    case 'or':
      return (await matches(k.a, t, view, now)) || (await matches(k.b, t, view, now));
    case 'not':
      return !(await matches(k.key, t, view, now));
  }
  const cheap = cheapLeaf(k, t.msg, () => t.msn, view, now);
  if (cheap !== null) return cheap;
  switch (k.op) {
    case 'date': {
      const { buf, part } = await t.content();
      const v = getHeaderValues(part, buf, 'date')[0];
      const d = v ? new Date(v.replace(/\([^)]*\)/g, '').trim()) : null;
      if (!d || isNaN(d.getTime())) return false;
      // RFC 9051 6.4.4: the date of the Date header, disregarding time and time zone.
      const local = new Date(d.getTime());
      const tz = /([+-])(\d{2})(\d{2})\s*$/.exec(v!.replace(/\([^)]*\)/g, '').trim());
      if (tz) local.setTime(d.getTime() + (tz[1] === '-' ? -1 : 1) * (Number(tz[2]) * 60 + Number(tz[3])) * 60000);
      return compareDay(dayOf(local), k.cmp, k.date);
    }
    case 'header': {
      const { buf, part } = await t.content();
      return headerMatches(buf, part, k.field, fold(k.value));
    }
    case 'body':
    case 'text': {
      const needle = needleOf(k);
      // First pass on the raw bytes: most messages are decided without parsing or decoding.
      if (rawCannotContain(await t.raw(), needle, k.op === 'text')) return false;
      const txt = await t.text();
      if (k.op === 'text' && fold(txt.header).includes(needle)) return true;
      return fold(txt.body).includes(needle);
    }
    default:
      // Every other key is one cheapLeaf decides.
      throw new Error(`search key ${k.op} not evaluated`);
  }
}

/** A SearchTarget whose content comes from the loader, parsed once. */
export function target(view: MailboxView, loader: MessageLoader, uid: number): SearchTarget {
  const msg = view.messages.get(uid)!;
  let raw: Promise<Buffer> | null = null;
  let content: Promise<{ buf: Buffer; part: MimePart }> | null = null;
  let text: Promise<{ header: string; body: string }> | null = null;
  const getRaw = (): Promise<Buffer> => (raw ??= loader.content(msg));
  const getContent = (): Promise<{ buf: Buffer; part: MimePart }> =>
    (content ??= (async () => {
      const buf = await getRaw();
      // The stored cache when there is one (only now: most messages never need it).
      await loader.prefetch([msg]);
      const c = await loader.cache(msg, buf);
      return { buf, part: c.part };
    })());
  return {
    msg,
    msn: view.msn(uid),
    raw: getRaw,
    content: getContent,
    text: () =>
      (text ??= (async () => {
        const { buf, part } = await getContent();
        return searchableText(buf, part);
      })()),
  };
}
