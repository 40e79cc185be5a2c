// SEARCH arguments (RFC 9051 6.4.4), ESEARCH RETURN (RFC 4731 3.1) with PARTIAL (RFC 5267 4.4),
// SEARCHRES SAVE (RFC 5182), MODSEQ (RFC 7162 3.1.5), OLDER/YOUNGER (RFC 5032), SAVEDBEFORE/ON/SINCE and SAVEDATESUPPORTED (RFC 8514).
import { TextDecoder } from 'node:util';
import type { Cursor } from './cursor.js';
import { parseDate } from './date-time.js';
import { parseSequenceSet } from './sequence-set.js';
import { ImapSyntaxError } from './syntax-error.js';
import { parseFetchItems } from './parse-fetch.js';
import type { FetchAtt, MailboxFilter, SearchKey, SearchReturnOption, SortReturn } from './types.js';

/** Nesting depth of parentheses, NOT and OR: keeps hostile input from exhausting the stack. */
const MAX_SEARCH_DEPTH = 64;
const RETURN_OPTIONS = new Set<SearchReturnOption>(['MIN', 'MAX', 'ALL', 'COUNT', 'SAVE', 'CONTEXT', 'UPDATE']);

export interface ParsedSearch {
  charset: string | null;
  returnOpts: SearchReturnOption[] | null;
  /** RETURN (PARTIAL first:last), RFC 5267 4.4. */
  partial: { first: number; last: number } | null;
  /** RETURN (UPDATE (fetch-att...)), RFC 5465 7. */
  updateAtts: FetchAtt[] | null;
  key: SearchKey;
}

/** Decodes a search string per CHARSET; throws a BADCHARSET syntax error for unknown charsets. */
function decoderFor(charset: string | null): (b: Buffer) => string {
  if (charset === null) return (b) => b.toString('utf8');
  let dec: TextDecoder;
  try {
    dec = new TextDecoder(charset.toLowerCase() === 'us-ascii' ? 'utf-8' : charset);
  } catch {
    throw new ImapSyntaxError(`unknown charset ${charset}`, 'BADCHARSET (UTF-8 US-ASCII)');
  }
  return (b) => dec.decode(b);
}

/** RFC 5267 4.4: partial-range = nz-number ":" nz-number (either order). */
function partialRange(c: Cursor): { first: number; last: number } {
  const a = c.nzNumber('a PARTIAL range start');
  c.expect(':', '":" in a PARTIAL range');
  const b = c.nzNumber('a PARTIAL range end');
  return { first: Math.min(a, b), last: Math.max(a, b) };
}

/** RETURN (...) of ESEARCH and ESORT, PARTIAL included: the RETURN word already taken. */
export function parseReturnOptions(c: Cursor): SortReturn {
  const ret: SortReturn = { opts: [], partial: null };
  c.list(() => {
    const o = c.atom('a RETURN option').toUpperCase();
    if (o === 'PARTIAL') {
      if (ret.partial) c.fail('PARTIAL given twice');
      c.sp();
      ret.partial = partialRange(c);
    } else if (o === 'UPDATE' && (c.peek() === 0x28 || c.peekWord(' ('))) {
      // RFC 5465 7, 8: modifier-update = "UPDATE" ["(" fetch-att *(SP fetch-att) ")"]; the RFC's
      // own example puts a space before "(": both are taken.
      if (ret.updateAtts) c.fail('UPDATE given twice');
      c.maybeSp();
      ret.opts.push('UPDATE');
      ret.updateAtts = parseFetchItems(c);
    } else if (RETURN_OPTIONS.has(o as SearchReturnOption)) ret.opts.push(o as SearchReturnOption);
    else c.fail(`unknown RETURN option ${o}`);
  });
  // RFC 5267 4.4: one PARTIAL or one ALL, not both.
  if (ret.partial && ret.opts.includes('ALL')) c.fail('PARTIAL conflicts with ALL');
  return ret;
}

/**
 * RFC 7377 4: esearch-source-opts after "IN (": filter-mailboxes (RFC 5465 6) separated by SP, up to
 * the closing parenthesis; "selected-delayed" is not valid here, and no scope options are defined.
 */
export function parseSearchSources(c: Cursor): MailboxFilter[] {
  const out: MailboxFilter[] = [];
  for (;;) {
    if (c.peek() === 0x28) c.fail('unknown scope option');
    const w = c.atom('a mailbox filter').toLowerCase();
    switch (w) {
      case 'selected':
      case 'inboxes':
      case 'personal':
      case 'subscribed':
        out.push({ kind: w });
        break;
      case 'subtree':
      case 'subtree-one':
      case 'mailboxes': {
        c.sp();
        // one-or-more-mailbox = mailbox / "(" mailbox *(SP mailbox) ")"
        const mailboxes = c.peek() === 0x28 ? c.list(() => c.astring('a mailbox name'), false) : [c.astring('a mailbox name')];
        out.push({ kind: w, mailboxes });
        break;
      }
      case 'selected-delayed':
        c.fail('selected-delayed is not valid in ESEARCH');
        break;
      default:
        c.fail(`unknown mailbox filter ${w}`);
    }
    if (c.take(')')) return out;
    c.sp();
  }
}

export function parseSearchArgs(c: Cursor): ParsedSearch {
  let returnOpts: SearchReturnOption[] | null = null;
  let partial: ParsedSearch['partial'] = null;
  let updateAtts: FetchAtt[] | null = null;
  if (c.take('RETURN ')) {
    const r = parseReturnOptions(c);
    ({ opts: returnOpts, partial } = r);
    updateAtts = r.updateAtts ?? null;
    c.sp();
  }
  let charset: string | null = null;
  if (c.take('CHARSET ')) {
    charset = c.astring('a charset');
    c.sp();
  }
  return { charset, returnOpts, partial, updateAtts, key: parseSearchKeys(c, charset) };
}

/** 1*(SP search-key) after the charset (the leading SP taken): one key, or their AND. SORT and
 * THREAD (RFC 5256) use it after their own mandatory charset. */
export function parseSearchKeys(c: Cursor, charset: string | null): SearchKey {
  const decode = decoderFor(charset);
  const keys: SearchKey[] = [];
  for (;;) {
    keys.push(parseKey(c, decode, 0));
    if (c.atEnd()) break;
    c.sp();
  }
  return keys.length === 1 ? keys[0]! : { op: 'and', keys };
}

const FLAG_KEYS: Record<string, [string, boolean]> = {
  ANSWERED: ['\\Answered', true], DELETED: ['\\Deleted', true], DRAFT: ['\\Draft', true],
  FLAGGED: ['\\Flagged', true], SEEN: ['\\Seen', true],
  UNANSWERED: ['\\Answered', false], UNDELETED: ['\\Deleted', false], UNDRAFT: ['\\Draft', false],
  UNFLAGGED: ['\\Flagged', false], UNSEEN: ['\\Seen', false],
};
const ADDRESS_KEYS: Record<string, string> = { BCC: 'bcc', CC: 'cc', FROM: 'from', TO: 'to', SUBJECT: 'subject' };
const DATE_KEYS: Record<string, ['internal' | 'sent' | 'save', 'before' | 'on' | 'since']> = {
  BEFORE: ['internal', 'before'], ON: ['internal', 'on'], SINCE: ['internal', 'since'],
  SENTBEFORE: ['sent', 'before'], SENTON: ['sent', 'on'], SENTSINCE: ['sent', 'since'],
  SAVEDBEFORE: ['save', 'before'], SAVEDON: ['save', 'on'], SAVEDSINCE: ['save', 'since'],
};

function parseKey(c: Cursor, decode: (b: Buffer) => string, depth: number): SearchKey {
  if (depth > MAX_SEARCH_DEPTH) c.fail('search keys nested too deeply');
  if (c.take('(')) {
    const keys: SearchKey[] = [];
    for (;;) {
      keys.push(parseKey(c, decode, depth + 1));
      if (c.take(')')) break;
      c.sp();
    }
    return keys.length === 1 ? keys[0]! : { op: 'and', keys };
  }
  const p = c.peek();
  if ((p >= 0x30 && p <= 0x39) || p === 0x2a || p === 0x24) return { op: 'seq', set: parseSequenceSet(c) };
  const word = c.atom('a search key').toUpperCase();
  const str = (): string => {
    c.sp();
    return decode(c.astringBytes('a search string'));
  };
  if (word in FLAG_KEYS) {
    const [flag, present] = FLAG_KEYS[word]!;
    return { op: 'flag', flag, present };
  }
  if (word in ADDRESS_KEYS) return { op: 'header', field: ADDRESS_KEYS[word]!, value: str() };
  if (word in DATE_KEYS) {
    const [field, cmp] = DATE_KEYS[word]!;
    c.sp();
    return { op: 'date', field, cmp, date: parseDate(c) };
  }
  switch (word) {
    case 'ALL':
      return { op: 'all' };
    case 'NEW':
      return { op: 'new' };
    case 'OLD':
      return { op: 'old' };
    case 'RECENT':
      return { op: 'recent' };
    case 'KEYWORD':
    case 'UNKEYWORD': {
      c.sp();
      return { op: 'flag', flag: c.atom('a keyword'), present: word === 'KEYWORD' };
    }
    case 'BODY':
    case 'TEXT':
      return { op: word === 'BODY' ? 'body' : 'text', value: str() };
    case 'HEADER': {
      c.sp();
      const field = c.astring('a header field name').toLowerCase();
      return { op: 'header', field, value: str() };
    }
    case 'LARGER':
    case 'SMALLER':
      c.sp();
      return { op: 'size', cmp: word === 'LARGER' ? 'larger' : 'smaller', n: c.number('a size') };
    case 'NOT':
      c.sp();
      return { op: 'not', key: parseKey(c, decode, depth + 1) };
    case 'OR': {
      c.sp();
      const a = parseKey(c, decode, depth + 1);
      c.sp();
      const b = parseKey(c, decode, depth + 1);
      return { op: 'or', a, b };
    }
    case 'UID':
      c.sp();
      return { op: 'uid', set: parseSequenceSet(c) };
    case 'MODSEQ': {
      // RFC 7162 3.1.5: MODSEQ [entry-name entry-type-req] mod-sequence-valzer
      c.sp();
      if (c.peek() === 0x22) {
        c.string('an entry name');
        c.sp();
        const t = c.atom('an entry type').toLowerCase();
        if (t !== 'priv' && t !== 'shared' && t !== 'all') c.fail('expected priv, shared or all');
        c.sp();
      }
      return { op: 'modseq', modseq: c.number64() };
    }
    case 'OLDER':
    case 'YOUNGER':
      c.sp();
      return { op: word === 'OLDER' ? 'older' : 'younger', seconds: c.nzNumber('a number of seconds') };
    case 'SAVEDATESUPPORTED':
      return { op: 'savedatesupported' };
    default:
      c.fail(`unknown search key ${word}`);
  }
}
