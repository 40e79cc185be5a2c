// SEARCH criteria (RFC 9051 6.4.4) as a typed object, compiled to command parts. Keys in one
// object are ANDed; `or` and `not` combine sub-queries.

import { astring, sequenceSetArg, stringArg, type CommandPart, type SequenceSet } from './command-args.js';

export interface SearchQuery {
  all?: boolean;
  seq?: SequenceSet;
  uid?: SequenceSet;
  answered?: boolean;
  deleted?: boolean;
  draft?: boolean;
  flagged?: boolean;
  seen?: boolean;
  keyword?: string;
  unkeyword?: string;
  from?: string;
  to?: string;
  cc?: string;
  bcc?: string;
  subject?: string;
  body?: string;
  text?: string;
  /** Header field name and a substring of its value (`''` matches any message with the field). */
  header?: [string, string][];
  /** Internal date, day granularity (the date part in the server's time zone). */
  before?: Date;
  on?: Date;
  since?: Date;
  /** Date header, day granularity. */
  sentBefore?: Date;
  sentOn?: Date;
  sentSince?: Date;
  larger?: number;
  smaller?: number;
  /** RFC 7162 3.1.5 MODSEQ: messages changed after this mod-sequence. */
  modseq?: bigint;
  not?: SearchQuery;
  or?: [SearchQuery, SearchQuery];
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** RFC 9051 9 date: `1-Feb-1994` (the Date's UTC day). */
export function searchDate(d: Date): string {
  return `${d.getUTCDate()}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()}`;
}

/** Compiles to parts; `nonAscii` is set when a string is not ASCII (CHARSET UTF-8 for IMAP4rev1). */
export function compileSearch(q: SearchQuery, utf8: boolean): { parts: CommandPart[]; nonAscii: boolean } {
  const parts: CommandPart[] = [];
  let nonAscii = false;
  const str = (s: string): CommandPart => {
    if (/[^\x00-\x7f]/.test(s)) nonAscii = true;
    return stringArg(s, utf8);
  };
  const flag = (v: boolean | undefined, on: string, off: string) => {
    if (v === true) parts.push(on);
    if (v === false) parts.push(off);
  };
  const walk = (x: SearchQuery): void => {
    const before = parts.length;
    if (x.all) parts.push('ALL');
    if (x.seq !== undefined) parts.push(sequenceSetArg(x.seq));
    if (x.uid !== undefined) parts.push('UID', sequenceSetArg(x.uid));
    flag(x.answered, 'ANSWERED', 'UNANSWERED');
    flag(x.deleted, 'DELETED', 'UNDELETED');
    flag(x.draft, 'DRAFT', 'UNDRAFT');
    flag(x.flagged, 'FLAGGED', 'UNFLAGGED');
    flag(x.seen, 'SEEN', 'UNSEEN');
    if (x.keyword !== undefined) parts.push('KEYWORD', astring(x.keyword, false));
    if (x.unkeyword !== undefined) parts.push('UNKEYWORD', astring(x.unkeyword, false));
    for (const k of ['from', 'to', 'cc', 'bcc', 'subject', 'body', 'text'] as const) {
      const v = x[k];
      if (v !== undefined) parts.push(k.toUpperCase(), str(v));
    }
    for (const [name, value] of x.header ?? []) parts.push('HEADER', astring(name, false), str(value));
    if (x.before) parts.push('BEFORE', searchDate(x.before));
    if (x.on) parts.push('ON', searchDate(x.on));
    if (x.since) parts.push('SINCE', searchDate(x.since));
    if (x.sentBefore) parts.push('SENTBEFORE', searchDate(x.sentBefore));
    if (x.sentOn) parts.push('SENTON', searchDate(x.sentOn));
    if (x.sentSince) parts.push('SENTSINCE', searchDate(x.sentSince));
    if (x.larger !== undefined) parts.push('LARGER', String(x.larger));
    if (x.smaller !== undefined) parts.push('SMALLER', String(x.smaller));
    if (x.modseq !== undefined) parts.push('MODSEQ', String(x.modseq));
    if (x.not) {
      parts.push('NOT');
      group(x.not);
    }
    if (x.or) {
      parts.push('OR');
      group(x.or[0]);
      group(x.or[1]);
    }
    if (parts.length === before) parts.push('ALL');
  };
  // A sub-query with several parts must be parenthesised to act as one key.
  const group = (x: SearchQuery): void => {
    const start = parts.length;
    walk(x);
    if (parts.length - start > 1) {
      parts[start] = '(' + (parts[start] as string); // the first part is always a keyword
      parts.push(')'); // the connection attaches a lone ")" without a space
    }
  };
  walk(q);
  return { parts, nonAscii };
}
