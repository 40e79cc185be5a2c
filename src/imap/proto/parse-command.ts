// Command parser: one complete command (text and literals from CommandReader) to a typed Command.
// RFC 9051 6 and 9, plus ENABLE (RFC 5161), ID (RFC 2971), LIST-EXTENDED (RFC 5258), LIST-STATUS
// (RFC 5819), SPECIAL-USE (RFC 6154), CONDSTORE/QRESYNC (RFC 7162), MULTIAPPEND (RFC 3502), UTF8=ACCEPT
// (RFC 6855), QUOTA (RFC 9208), UIDPLUS (RFC 4315), MOVE (RFC 6851), REPLACE (RFC 8508), MULTISEARCH (RFC 7377),
// COMPRESS (RFC 4978), METADATA (RFC 5464, parse-metadata.ts), NOTIFY (RFC 5465, parse-notify.ts).
import type { CommandPart } from './command-reader.js';
import { Cursor } from './cursor.js';
import { parseDateTime } from './date-time.js';
import { parseFetchItems, parseFetchModifiers } from './parse-fetch.js';
import { parseNotify } from './parse-notify.js';
import { parseGetMetadata, parseListMetadataReturn, parseSetMetadata } from './parse-metadata.js';
import { parseSearchArgs, parseSearchSources } from './parse-search.js';
import { parseSortArgs, parseThreadArgs } from './parse-sort.js';
import { parseGenUrlauth, parseResetKey, parseUrlFetch } from './parse-urlauth.js';
import { parseSequenceSet } from './sequence-set.js';
import { ImapSyntaxError, UnknownCommandError } from './syntax-error.js';
import { STAR } from './types.js';
import type { AppendMessage, Command, CommandBody, ListReturn, ListSelection, QresyncParams, StatusItem } from './types.js';

const STATUS_ITEMS = new Set<StatusItem>(['MESSAGES', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN', 'DELETED', 'SIZE', 'RECENT', 'HIGHESTMODSEQ', 'APPENDLIMIT']);

export function parseCommand(parts: CommandPart[]): Command {
  const c = new Cursor(parts);
  const tag = c.maybeTag();
  if (tag === null || !c.maybeSp()) throw new UnknownCommandError('expected a tag and a command', null);
  const name = c.takeWhile((ch) => (ch >= 0x41 && ch <= 0x5a) || (ch >= 0x61 && ch <= 0x7a)).toUpperCase();
  const parse = COMMANDS[name];
  if (!parse) throw new UnknownCommandError(`unknown command ${name.slice(0, 30) || '(none)'}`, tag);
  const body = parse(c);
  c.end();
  return { tag, ...body } as Command;
}

/** The tag of a command that failed to parse, when one can be found (for the BAD reply). */
export function commandTag(parts: CommandPart[]): string | null {
  return new Cursor(parts).maybeTag();
}

type Parser = (c: Cursor) => CommandBody;

function mailbox(c: Cursor): string {
  return c.astring('a mailbox name');
}

function noArgs(name: CommandBody['name']): Parser {
  return () => ({ name }) as CommandBody;
}

function statusItems(c: Cursor): StatusItem[] {
  return c.list(() => {
    const w = c.atom('a status item').toUpperCase() as StatusItem;
    if (!STATUS_ITEMS.has(w)) c.fail(`unknown status item ${w}`);
    return w;
  }, false);
}

function parseSelect(name: 'SELECT' | 'EXAMINE'): Parser {
  return (c) => {
    c.sp();
    const mb = mailbox(c);
    let condstore = false;
    let qresync: QresyncParams | null = null;
    if (c.maybeSp()) {
      c.list(() => {
        const w = c.atom('a select parameter').toUpperCase();
        if (w === 'CONDSTORE') condstore = true;
        else if (w === 'QRESYNC') {
          // RFC 7162 3.2.5: QRESYNC (uidvalidity mod-sequence-value [SP known-uids] [SP seq-match-data])
          c.sp();
          c.expect('(');
          const uidValidity = c.nzNumber('a UIDVALIDITY');
          c.sp();
          const modseq = c.number64();
          let knownUids = null;
          let seqMatch = null;
          if (c.maybeSp() && c.peek() !== 0x28) {
            knownUids = parseSequenceSet(c, false);
            c.maybeSp();
          }
          if (c.take('(')) {
            const seqs = parseSequenceSet(c, false);
            c.sp();
            const uids = parseSequenceSet(c, false);
            c.expect(')');
            seqMatch = { seqs, uids };
          }
          c.expect(')');
          qresync = { uidValidity, modseq, knownUids, seqMatch };
        } else c.fail(`unknown select parameter ${w}`);
      }, false);
    }
    return { name, mailbox: mb, condstore, qresync };
  };
}

function parseList(c: Cursor): CommandBody {
  c.sp();
  const selection: ListSelection = { subscribed: false, remote: false, recursiveMatch: false, specialUse: false };
  const returnOpts: ListReturn = { subscribed: false, children: false, specialUse: false, status: null };
  let extended = false;
  if (c.peek() === 0x28) {
    extended = true;
    c.list(() => {
      const w = c.atom('a selection option').toUpperCase();
      if (w === 'SUBSCRIBED') selection.subscribed = true;
      else if (w === 'REMOTE') selection.remote = true;
      else if (w === 'RECURSIVEMATCH') selection.recursiveMatch = true;
      else if (w === 'SPECIAL-USE') selection.specialUse = true;
      else c.fail(`unknown selection option ${w}`);
    });
    c.sp();
    // RFC 5258 3: RECURSIVEMATCH alone is an error.
    if (selection.recursiveMatch && !selection.subscribed && !selection.specialUse) c.fail('RECURSIVEMATCH needs another selection option');
  }
  const reference = mailbox(c);
  c.sp();
  let patterns: string[];
  if (c.peek() === 0x28) {
    extended = true;
    patterns = c.list(() => c.listMailbox(), false);
  } else patterns = [c.listMailbox()];
  if (c.maybeSp()) {
    extended = true;
    c.expect('RETURN ');
    c.list(() => {
      const w = c.atom('a return option').toUpperCase();
      if (w === 'SUBSCRIBED') returnOpts.subscribed = true;
      else if (w === 'CHILDREN') returnOpts.children = true;
      else if (w === 'SPECIAL-USE') returnOpts.specialUse = true;
      else if (w === 'STATUS') {
        c.sp();
        returnOpts.status = statusItems(c);
      } else if (w === 'METADATA') returnOpts.metadata = parseListMetadataReturn(c);
      else c.fail(`unknown return option ${w}`);
    });
  }
  return { name: 'LIST', reference, patterns, selection, returnOpts, extended };
}

function parseStore(uid: boolean): Parser {
  return (c) => {
    c.sp();
    const set = parseSequenceSet(c);
    c.sp();
    let unchangedSince: number | null = null;
    if (c.peek() === 0x28) {
      c.list(() => {
        c.expect('UNCHANGEDSINCE ', 'UNCHANGEDSINCE');
        unchangedSince = c.number64();
      }, false);
      c.sp();
    }
    const op = c.take('+') ? 'add' : c.take('-') ? 'remove' : 'set';
    c.expect('FLAGS');
    const silent = c.take('.SILENT');
    c.sp();
    const flags = c.peek() === 0x28 ? c.list(() => c.flag()) : [c.flag()];
    while (c.maybeSp()) flags.push(c.flag());
    return { name: 'STORE', uid, set, unchangedSince, op, silent, flags };
  };
}

function parseCopyMove(name: 'COPY' | 'MOVE', uid: boolean): Parser {
  return (c) => {
    c.sp();
    const set = parseSequenceSet(c);
    c.sp();
    return { name, uid, set, mailbox: mailbox(c) };
  };
}

function parseFetch(uid: boolean): Parser {
  return (c) => {
    c.sp();
    const set = parseSequenceSet(c);
    c.sp();
    const items = parseFetchItems(c);
    let changedSince: number | null = null;
    let vanished = false;
    if (c.maybeSp()) ({ changedSince, vanished } = parseFetchModifiers(c));
    if (vanished && (!uid || changedSince === null)) throw new ImapSyntaxError('VANISHED needs UID FETCH and CHANGEDSINCE');
    return { name: 'FETCH', uid, set, items, changedSince, vanished };
  };
}

function parseSearch(uid: boolean): Parser {
  return (c) => {
    c.sp();
    const s = parseSearchArgs(c);
    return { name: 'SEARCH', uid, ...s };
  };
}

/** Where the text after a message literal of APPEND/REPLACE resumes: before the next append-message
 * (or the end), inside a CATENATE list (RFC 4469 5), or before the ")" of UTF8 (~{n}) (RFC 6855 4),
 * that of a whole message or of a CATENATE part. */
export type AppendResume = 'message' | 'catenate' | 'utf8' | 'catenate-utf8';

/** What walking an APPEND finds, in order: a message begins (its flags, date and form), a CATENATE
 * URL, a literal (a whole message, or a CATENATE TEXT part). */
export type AppendStep =
  | { kind: 'message'; message: AppendMessage }
  | { kind: 'url'; url: string }
  | { kind: 'literal'; size: number; binary: boolean };

/**
 * cat-part = "TEXT" SP literal / "URL" SP astring (RFC 4469 5; literal8 with BINARY, RFC 3516), or
 * "UTF8" SP "(" literal8 ")" (RFC 6855 4). Returns the state after it: 'catenate-utf8' when it ended
 * at a UTF8 literal, whose ")" is still to come.
 */
function catPart(c: Cursor, m: AppendMessage | null, steps: AppendStep[]): AppendResume {
  if (c.take('URL ')) {
    const url = c.astring('a URL');
    m?.catenate!.push({ kind: 'url', url });
    steps.push({ kind: 'url', url });
    return 'catenate';
  }
  const utf8 = c.take('UTF8 (');
  if (!utf8 && !c.take('TEXT ')) c.fail('expected TEXT, URL or UTF8 in CATENATE');
  const lit = c.messageLiteral();
  m?.catenate!.push({ kind: 'text', size: lit.size, binary: lit.binary });
  steps.push({ kind: 'literal', size: lit.size, binary: lit.binary });
  return utf8 ? 'catenate-utf8' : 'catenate';
}

/**
 * append-message (RFC 4466 2.3, RFC 3516 literal8, RFC 6855 4 UTF8, RFC 4469 5 CATENATE), one after
 * the other (RFC 3502 MULTIAPPEND): [flag-list SP] [date-time SP] (literal / literal8 / "UTF8" SP "("
 * literal8 ")" / "CATENATE" SP "(" cat-part *(SP cat-part) ")"). Walks from `resume` (`first`: right
 * after the mailbox, where one message is required) to the end of the command, or with `partial` to
 * a literal that ends the text (the one the reader just announced). Returns where it stopped.
 */
function walkAppend(c: Cursor, resume: AppendResume, first: boolean, partial: boolean, steps: AppendStep[]): AppendResume {
  let state = resume;
  let current: AppendMessage | null = null;
  for (;;) {
    if (state === 'utf8' || state === 'catenate-utf8') {
      c.expect(')');
      state = state === 'utf8' ? 'message' : 'catenate';
    } else if (state === 'catenate') {
      if (c.take(')')) {
        state = 'message';
        continue;
      }
      c.sp();
      state = catPart(c, current, steps);
      if (steps[steps.length - 1]!.kind === 'literal' && partial && c.atEnd()) return state;
    } else {
      if (!first && c.atEnd()) return 'message';
      first = false;
      c.sp();
      const m: AppendMessage = { flags: [], internalDate: null, size: 0, binary: false, utf8: false, catenate: null };
      if (c.peek() === 0x28) {
        m.flags = c.list(() => c.flag());
        c.sp();
      }
      if (c.peek() === 0x22) {
        m.internalDate = parseDateTime(c);
        c.sp();
      }
      steps.push({ kind: 'message', message: m });
      if (c.take('CATENATE (')) {
        m.catenate = [];
        current = m;
        state = catPart(c, m, steps);
        if (steps[steps.length - 1]!.kind === 'literal' && partial && c.atEnd()) return state;
        continue;
      }
      m.utf8 = c.take('UTF8 (');
      const lit = c.messageLiteral();
      m.size = lit.size;
      m.binary = lit.binary;
      steps.push({ kind: 'literal', size: lit.size, binary: lit.binary });
      state = m.utf8 ? 'utf8' : 'message';
      if (partial && c.atEnd()) return state;
    }
  }
}

const messagesOf = (steps: AppendStep[]): AppendMessage[] => steps.flatMap((s) => (s.kind === 'message' ? [s.message] : []));

/**
 * APPEND mailbox 1*(SP append-message) (RFC 3502 MULTIAPPEND).
 * With `partial`, the command may stop right after a message literal.
 */
function parseAppendBody(c: Cursor, partial: boolean, steps: AppendStep[] = []): { name: 'APPEND'; mailbox: string; messages: AppendMessage[]; resume: AppendResume } {
  c.sp();
  const mb = mailbox(c);
  const resume = walkAppend(c, 'message', true, partial, steps);
  return { name: 'APPEND', mailbox: mb, messages: messagesOf(steps), resume };
}

/** RFC 8508 5: "REPLACE" SP seq-number SP mailbox append-message; the UID form takes a UID. */
function parseReplaceBody(c: Cursor, uid: boolean, partial: boolean, steps: AppendStep[] = []): { name: 'REPLACE'; uid: boolean; id: number; mailbox: string; message: AppendMessage; resume: AppendResume } {
  c.sp();
  const id = c.take('*') ? STAR : c.nzNumber(uid ? 'a UID' : 'a message sequence number');
  c.sp();
  const mb = mailbox(c);
  const resume = walkAppend(c, 'message', true, partial, steps);
  const messages = messagesOf(steps);
  if (messages.length !== 1) c.fail('REPLACE takes one message');
  return { name: 'REPLACE', uid, id, mailbox: mb, message: messages[0]!, resume };
}

/** The start of a command whose message literal the reader just announced (APPEND, REPLACE). */
export interface MessagePrefix {
  tag: string;
  mailbox: string;
  /** What the text holds up to the literal, which ends it. */
  steps: AppendStep[];
  resume: AppendResume;
  /** REPLACE / UID REPLACE: the message it replaces (id may be STAR). */
  replace: { uid: boolean; id: number } | null;
}

/** `parts` with the literal just announced at the end of its last text. */
function withAnnounced(parts: CommandPart[], size: number, binary: boolean): CommandPart[] {
  const last = parts[parts.length - 1]!;
  return [...parts.slice(0, -1), { text: last.text, literal: { kind: 'message', size, binary } }, { text: Buffer.alloc(0) }];
}

/**
 * Parses the start of an APPEND or REPLACE up to the message literal the reader just announced: the
 * caller checks the mailbox and size (TRYCREATE, APPENDLIMIT) before the continuation.
 */
export function parseMessagePrefix(prefix: CommandPart[], size: number, binary: boolean): MessagePrefix {
  const c = new Cursor(withAnnounced(prefix, size, binary));
  const tag = c.tag();
  c.sp();
  const steps: AppendStep[] = [];
  if (c.take('APPEND')) {
    const body = parseAppendBody(c, true, steps);
    return { tag, mailbox: body.mailbox, steps, resume: body.resume, replace: null };
  }
  const uid = c.take('UID ');
  c.expect('REPLACE');
  const body = parseReplaceBody(c, uid, true, steps);
  return { tag, mailbox: body.mailbox, steps, resume: body.resume, replace: { uid, id: body.id } };
}

/**
 * The steps between the previous message literal and the one just announced (`parts`: what came
 * after the previous one; more than one when a CATENATE URL was itself a literal), resuming where
 * that one left off. Parsing only the new text keeps a command of n messages at O(n): re-parsing
 * the whole prefix at every literal made 1,000 messages with internal dates take seconds.
 */
export function parseAppendNext(parts: CommandPart[], size: number, binary: boolean, resume: AppendResume): { steps: AppendStep[]; resume: AppendResume } {
  const steps: AppendStep[] = [];
  const c = new Cursor(withAnnounced(parts, size, binary));
  return { steps, resume: walkAppend(c, resume, false, true, steps) };
}

/** The steps after the last message literal, to the end of the command (CATENATE URLs, closing ")"). */
export function parseAppendEnd(parts: CommandPart[], resume: AppendResume): AppendStep[] {
  const steps: AppendStep[] = [];
  walkAppend(new Cursor(parts), resume, false, false, steps);
  return steps;
}

const COMMANDS: Record<string, Parser> = {
  CAPABILITY: noArgs('CAPABILITY'),
  NOOP: noArgs('NOOP'),
  LOGOUT: noArgs('LOGOUT'),
  STARTTLS: noArgs('STARTTLS'),
  CHECK: noArgs('CHECK'),
  CLOSE: noArgs('CLOSE'),
  UNSELECT: noArgs('UNSELECT'),
  IDLE: noArgs('IDLE'),
  NAMESPACE: noArgs('NAMESPACE'),
  EXPUNGE: () => ({ name: 'EXPUNGE', uids: null }),
  ID: (c) => {
    // RFC 2971 3.1: "ID" SP ( "(" [string SP nstring *(SP string SP nstring)] ")" / nil )
    c.sp();
    if (c.take('NIL')) return { name: 'ID', params: null };
    const params: [string, string | null][] = [];
    c.expect('(');
    if (!c.take(')')) {
      for (;;) {
        const k = c.string('a field name');
        c.sp();
        params.push([k, c.nstring('a field value')]);
        if (params.length > 30) c.fail('too many ID fields');
        if (c.take(')')) break;
        c.sp();
      }
    }
    return { name: 'ID', params };
  },
  LOGIN: (c) => {
    c.sp();
    const username = c.astring('a user name');
    c.sp();
    return { name: 'LOGIN', username, password: c.astring('a password') };
  },
  // RFC 4978 5: "COMPRESS" SP algorithm; the handler refuses unknown algorithms.
  COMPRESS: (c) => {
    c.sp();
    return { name: 'COMPRESS', mechanism: c.atom('a compression algorithm').toUpperCase() };
  },
  // URLAUTH (RFC 4467), parse-urlauth.ts.
  GENURLAUTH: parseGenUrlauth,
  RESETKEY: parseResetKey,
  URLFETCH: parseUrlFetch,
  AUTHENTICATE: (c) => {
    c.sp();
    const mechanism = c.atom('a SASL mechanism').toUpperCase();
    let initialResponse: string | null = null;
    if (c.maybeSp()) {
      // RFC 4959 SASL-IR: base64 or "=" for an empty response.
      initialResponse = c.takeWhile((ch) => (ch >= 0x41 && ch <= 0x5a) || (ch >= 0x61 && ch <= 0x7a) || (ch >= 0x30 && ch <= 0x39) || ch === 0x2b || ch === 0x2f || ch === 0x3d);
      if (!initialResponse) c.fail('expected a base64 initial response');
    }
    return { name: 'AUTHENTICATE', mechanism, initialResponse };
  },
  ENABLE: (c) => {
    const capabilities: string[] = [];
    do {
      c.sp();
      capabilities.push(c.atom('a capability').toUpperCase());
    } while (!c.atEnd());
    return { name: 'ENABLE', capabilities };
  },
  SELECT: parseSelect('SELECT'),
  EXAMINE: parseSelect('EXAMINE'),
  CREATE: (c) => {
    c.sp();
    const mb = mailbox(c);
    const specialUse: string[] = [];
    if (c.maybeSp()) {
      // RFC 6154 3: create-param = "USE" SP "(" [use-attr *(SP use-attr)] ")"
      c.list(() => {
        c.expect('USE ', 'USE');
        specialUse.push(...c.list(() => c.flag()));
      }, false);
    }
    return { name: 'CREATE', mailbox: mb, specialUse };
  },
  DELETE: (c) => (c.sp(), { name: 'DELETE', mailbox: mailbox(c) }),
  SUBSCRIBE: (c) => (c.sp(), { name: 'SUBSCRIBE', mailbox: mailbox(c) }),
  UNSUBSCRIBE: (c) => (c.sp(), { name: 'UNSUBSCRIBE', mailbox: mailbox(c) }),
  RENAME: (c) => {
    c.sp();
    const from = mailbox(c);
    c.sp();
    return { name: 'RENAME', from, to: mailbox(c) };
  },
  LIST: parseList,
  LSUB: (c) => {
    c.sp();
    const reference = mailbox(c);
    c.sp();
    return { name: 'LSUB', reference, pattern: c.listMailbox() };
  },
  STATUS: (c) => {
    c.sp();
    const mb = mailbox(c);
    c.sp();
    return { name: 'STATUS', mailbox: mb, items: statusItems(c) };
  },
  APPEND: (c) => {
    const { resume: _, ...body } = parseAppendBody(c, false);
    return body;
  },
  REPLACE: (c) => {
    const { resume: _, ...body } = parseReplaceBody(c, false, false);
    return body;
  },
  SEARCH: parseSearch(false),
  // RFC 7377 4: "ESEARCH" [SP esearch-source-opts] [SP search-return-opts] SP search-program
  ESEARCH: (c) => {
    c.sp();
    let sources = null;
    if (c.take('IN (')) {
      sources = parseSearchSources(c);
      c.sp();
    }
    return { name: 'ESEARCH', sources, ...parseSearchArgs(c) };
  },
  SORT: (c) => ({ name: 'SORT', uid: false, ...parseSortArgs(c) }),
  // RFC 5267 5: "CANCELUPDATE" 1*(SP quoted)
  CANCELUPDATE: (c) => {
    const tags: string[] = [];
    do {
      c.sp();
      tags.push(c.string('a search tag'));
    } while (!c.atEnd());
    return { name: 'CANCELUPDATE', tags };
  },
  THREAD: (c) => ({ name: 'THREAD', uid: false, ...parseThreadArgs(c) }),
  FETCH: parseFetch(false),
  STORE: parseStore(false),
  COPY: parseCopyMove('COPY', false),
  MOVE: parseCopyMove('MOVE', false),
  UID: (c) => {
    c.sp();
    const sub = c.atom('a UID command').toUpperCase();
    switch (sub) {
      case 'FETCH':
        return parseFetch(true)(c);
      case 'SEARCH':
        return parseSearch(true)(c);
      case 'SORT':
        return { name: 'SORT', uid: true, ...parseSortArgs(c) };
      case 'THREAD':
        return { name: 'THREAD', uid: true, ...parseThreadArgs(c) };
      case 'STORE':
        return parseStore(true)(c);
      case 'COPY':
        return parseCopyMove('COPY', true)(c);
      case 'MOVE':
        return parseCopyMove('MOVE', true)(c);
      case 'REPLACE': {
        const { resume: _, ...body } = parseReplaceBody(c, true, false);
        return body;
      }
      case 'EXPUNGE':
        // RFC 4315 2.1
        c.sp();
        return { name: 'EXPUNGE', uids: parseSequenceSet(c) };
      default:
        return c.fail(`unknown UID command ${sub}`);
    }
  },
  GETMETADATA: parseGetMetadata,
  SETMETADATA: parseSetMetadata,
  NOTIFY: parseNotify,
  GETQUOTA: (c) => (c.sp(), { name: 'GETQUOTA', root: c.astring('a quota root') }),
  GETQUOTAROOT: (c) => (c.sp(), { name: 'GETQUOTAROOT', mailbox: mailbox(c) }),
  SETQUOTA: (c) => {
    c.sp();
    const root = c.astring('a quota root');
    c.sp();
    const limits = c.list(() => {
      const r = c.atom('a resource name').toUpperCase();
      c.sp();
      return [r, c.number64('a limit')] as [string, number];
    });
    return { name: 'SETQUOTA', root, limits };
  },
};

/** Names of the commands the parser knows. */
export const KNOWN_COMMANDS: ReadonlySet<string> = new Set(Object.keys(COMMANDS));
