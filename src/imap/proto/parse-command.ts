// Command parser: one complete command (text and literals from CommandReader) to a typed Command.
// RFC 9051 6 and 9, plus ENABLE (RFC 5161), ID (RFC 2971), LIST-EXTENDED (RFC 5258), LIST-STATUS
// (RFC 5819), SPECIAL-USE (RFC 6154), CONDSTORE/QRESYNC (RFC 7162), MULTIAPPEND (RFC 3502), UTF8=ACCEPT
// (RFC 6855), QUOTA (RFC 9208), UIDPLUS (RFC 4315), MOVE (RFC 6851), REPLACE (RFC 8508), MULTISEARCH (RFC 7377),
// COMPRESS (RFC 4978), METADATA (RFC 5464, parse-metadata.ts).
import type { CommandPart } from './command-reader.js';
import { Cursor } from './cursor.js';
import { parseDateTime } from './date-time.js';
import { parseFetchItems, parseFetchModifiers } from './parse-fetch.js';
import { parseGetMetadata, parseListMetadataReturn, parseSetMetadata } from './parse-metadata.js';
import { parseSearchArgs, parseSearchSources } from './parse-search.js';
import { parseSortArgs, parseThreadArgs } from './parse-sort.js';
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

/**
 * append-message (RFC 4466 2.3, RFC 3516 literal8, RFC 6855 4 UTF8):
 * [flag-list SP] [date-time SP] (literal / literal8 / "UTF8" SP "(" literal8 ")").
 * With `partial`, the command may stop right after the message literal (see parseMessagePrefix).
 */
function appendMessage(c: Cursor, partial: boolean): AppendMessage {
  let flags: string[] = [];
  let internalDate: Date | null = null;
  if (c.peek() === 0x28) {
    flags = c.list(() => c.flag());
    c.sp();
  }
  if (c.peek() === 0x22) {
    internalDate = parseDateTime(c);
    c.sp();
  }
  const utf8 = c.take('UTF8 (');
  const lit = c.messageLiteral();
  if (utf8 && !(partial && c.atEnd())) c.expect(')');
  return { flags, internalDate, size: lit.size, binary: lit.binary, utf8 };
}

/**
 * APPEND mailbox 1*(SP append-message) (RFC 3502 MULTIAPPEND).
 * With `partial`, the command may stop right after a message literal.
 */
function parseAppendBody(c: Cursor, partial: boolean): { name: 'APPEND'; mailbox: string; messages: AppendMessage[] } {
  c.sp();
  const mb = mailbox(c);
  const messages: AppendMessage[] = [];
  while (messages.length === 0 || !c.atEnd()) {
    c.sp();
    messages.push(appendMessage(c, partial));
    if (partial && c.atEnd()) break;
  }
  return { name: 'APPEND', mailbox: mb, messages };
}

/** RFC 8508 5: "REPLACE" SP seq-number SP mailbox append-message; the UID form takes a UID. */
function parseReplaceBody(c: Cursor, uid: boolean, partial: boolean): { name: 'REPLACE'; uid: boolean; id: number; mailbox: string; message: AppendMessage } {
  c.sp();
  const id = c.take('*') ? STAR : c.nzNumber(uid ? 'a UID' : 'a message sequence number');
  c.sp();
  const mb = mailbox(c);
  c.sp();
  return { name: 'REPLACE', uid, id, mailbox: mb, message: appendMessage(c, partial) };
}

/** The start of a command whose message literal the reader just announced (APPEND, REPLACE). */
export interface MessagePrefix {
  tag: string;
  mailbox: string;
  message: AppendMessage;
  /** REPLACE / UID REPLACE: the message it replaces (id may be STAR). */
  replace: { uid: boolean; id: number } | null;
}

/**
 * Parses the start of an APPEND or REPLACE up to the message literal the reader just announced: the
 * caller checks the mailbox and size (TRYCREATE, APPENDLIMIT) before the continuation.
 */
export function parseMessagePrefix(prefix: CommandPart[], size: number, binary: boolean): MessagePrefix {
  const last = prefix[prefix.length - 1]!;
  const parts: CommandPart[] = [...prefix.slice(0, -1), { text: last.text, literal: { kind: 'message', size, binary } }, { text: Buffer.alloc(0) }];
  const c = new Cursor(parts);
  const tag = c.tag();
  c.sp();
  if (c.take('APPEND')) {
    const body = parseAppendBody(c, true);
    return { tag, mailbox: body.mailbox, message: body.messages[body.messages.length - 1]!, replace: null };
  }
  const uid = c.take('UID ');
  c.expect('REPLACE');
  const body = parseReplaceBody(c, uid, true);
  return { tag, mailbox: body.mailbox, message: body.message, replace: { uid, id: body.id } };
}

/**
 * The next message of a MULTIAPPEND (RFC 3502), from the text between the previous message literal
 * and the one just announced (`afterUtf8`: the previous one was `UTF8 (~{n})`, whose ")" starts the
 * text). Parsing only that text keeps a command of n messages at O(n): re-parsing the whole prefix
 * at every literal made 1,000 messages with internal dates take seconds.
 */
export function parseAppendNext(text: Buffer, size: number, binary: boolean, afterUtf8: boolean): AppendMessage {
  const c = new Cursor([{ text, literal: { kind: 'message', size, binary } }, { text: Buffer.alloc(0) }]);
  if (afterUtf8) c.expect(')');
  c.sp();
  return appendMessage(c, true);
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
  APPEND: (c) => parseAppendBody(c, false),
  REPLACE: (c) => parseReplaceBody(c, false, false),
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
      case 'REPLACE':
        return parseReplaceBody(c, true, false);
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
