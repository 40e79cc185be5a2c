// The typed AST of IMAP commands (RFC 9051 6 and the extensions listed in spec 5).

/** Sequence numbers or UIDs; `*` is STAR (the largest number in use). */
export const STAR = -1;

export interface SeqRange {
  start: number; // may be STAR
  end: number; // may be STAR; start > end is allowed (RFC 9051 9 seq-range: "2:4" equals "4:2")
}

/** A sequence set, or `$`: the saved search result (RFC 5182). */
export type SequenceSet = { kind: 'saved' } | { kind: 'ranges'; ranges: SeqRange[] };

export type SearchKey =
  | { op: 'all' }
  | { op: 'and'; keys: SearchKey[] }
  | { op: 'or'; a: SearchKey; b: SearchKey }
  | { op: 'not'; key: SearchKey }
  | { op: 'seq'; set: SequenceSet }
  | { op: 'uid'; set: SequenceSet }
  /** ANSWERED/DELETED/DRAFT/FLAGGED/SEEN/KEYWORD and their UN- forms. */
  | { op: 'flag'; flag: string; present: boolean }
  | { op: 'new' }
  | { op: 'old' }
  | { op: 'recent' }
  | { op: 'header'; field: string; value: string }
  | { op: 'text' | 'body'; value: string }
  | { op: 'date'; field: 'internal' | 'sent' | 'save'; cmp: 'before' | 'on' | 'since'; date: DateOnly }
  | { op: 'size'; cmp: 'larger' | 'smaller'; n: number }
  /** RFC 7162 3.1.5; the entry name and type are parsed and ignored (we keep no per-flag modseq). */
  | { op: 'modseq'; modseq: number }
  /** RFC 5032 WITHIN: messages whose internal date is older/younger than `seconds`. */
  | { op: 'older' | 'younger'; seconds: number }
  /** RFC 8514 SAVEDATESUPPORTED */
  | { op: 'savedatesupported' };

export interface DateOnly {
  year: number;
  month: number; // 1-12
  day: number;
}

/** CONTEXT (a hint) and UPDATE (keep the result current): RFC 5267 4.2, 4.3. */
export type SearchReturnOption = 'MIN' | 'MAX' | 'ALL' | 'COUNT' | 'SAVE' | 'CONTEXT' | 'UPDATE';

/** The mailboxes ESEARCH IN searches (RFC 7377 2.2: RFC 5465 6 filter-mailboxes, plus subtree-one). */
export type MailboxFilter =
  | { kind: 'selected' | 'inboxes' | 'personal' | 'subscribed' }
  | { kind: 'subtree' | 'subtree-one' | 'mailboxes'; mailboxes: string[] };

/** SORT keys (RFC 5256 3, DISPLAYFROM/DISPLAYTO RFC 5957). */
/** One URLFETCH argument; `modifiers` for the parenthesized form of RFC 5524 (null: plain URL). */
export interface UrlFetchArg {
  url: string;
  modifiers: { body: boolean; binary: boolean; bodyPartStructure: boolean } | null;
}

export type SortKeyName = 'ARRIVAL' | 'CC' | 'DATE' | 'FROM' | 'SIZE' | 'SUBJECT' | 'TO' | 'DISPLAYFROM' | 'DISPLAYTO';

export interface SortCriterion {
  key: SortKeyName;
  reverse: boolean;
}

/** ESORT (RFC 5267 3) RETURN options; PARTIAL (RFC 5267 4.4) is a range of result positions. */
export interface SortReturn {
  opts: SearchReturnOption[];
  partial: { first: number; last: number } | null;
  /** RFC 5465 7: UPDATE (fetch-att...): what to FETCH of a new message that joins the result. */
  updateAtts?: FetchAtt[] | null;
}

export type ThreadAlgorithm = 'ORDEREDSUBJECT' | 'REFERENCES';

export interface SectionSpec {
  /** Part numbers; empty for the whole message. */
  part: number[];
  text?: 'HEADER' | 'TEXT' | 'MIME' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT';
  fields?: string[];
}

export interface Partial {
  start: number;
  /** null: to the end (`<n>` without a length, as Dovecot takes it). */
  count: number | null;
}

export type FetchAtt =
  | {
      kind: 'simple';
      name:
        | 'FLAGS' | 'INTERNALDATE' | 'RFC822.SIZE' | 'ENVELOPE' | 'BODY' | 'BODYSTRUCTURE' | 'UID' | 'MODSEQ'
        | 'SAVEDATE' | 'RFC822' | 'RFC822.HEADER' | 'RFC822.TEXT';
    }
  | { kind: 'body'; peek: boolean; section: SectionSpec; partial: Partial | null }
  /**
   * `section`: set when the section names a text after the part numbers (HEADER, HEADER.FIELDS,
   * MIME, TEXT), which RFC 3516's grammar leaves out and Dovecot (and imaptest) take.
   */
  | { kind: 'binary'; peek: boolean; part: number[]; section: SectionSpec | null; partial: Partial | null }
  | { kind: 'binary.size'; part: number[]; section: SectionSpec | null }
  | { kind: 'preview'; lazy: boolean };

export type StatusItem =
  | 'MESSAGES' | 'UIDNEXT' | 'UIDVALIDITY' | 'UNSEEN' | 'DELETED' | 'SIZE' | 'RECENT' | 'HIGHESTMODSEQ' | 'APPENDLIMIT';

export interface ListSelection {
  subscribed: boolean;
  remote: boolean;
  recursiveMatch: boolean;
  specialUse: boolean;
}

export interface ListReturn {
  subscribed: boolean;
  children: boolean;
  specialUse: boolean;
  /** LIST-STATUS (RFC 5819) */
  status: StatusItem[] | null;
  /** LIST-METADATA (RFC 9590) */
  metadata?: ListMetadataReturn | null;
}

/** GETMETADATA DEPTH (RFC 5464 4.2.2). */
export type MetadataDepth = 0 | 1 | 'infinity';

/** LIST RETURN (METADATA ...) (RFC 9590 2): the entries to return and their MAXSIZE. */
export interface ListMetadataReturn {
  entries: string[];
  maxSize: number | null;
}

export interface AppendMessage {
  flags: string[];
  internalDate: Date | null;
  size: number;
  /** literal8 (`~{n}`, RFC 3516) or UTF8 (~{n}) (RFC 6855). */
  binary: boolean;
  utf8: boolean;
  /** CATENATE (RFC 4469 5): the parts the message is made of, in order; size is then 0. */
  catenate: CatPart[] | null;
}

/** A CATENATE part: a TEXT literal (streamed like a message literal) or a URL (RFC 4469 5). */
export type CatPart = { kind: 'text'; size: number; binary: boolean } | { kind: 'url'; url: string };

export interface QresyncParams {
  uidValidity: number;
  modseq: number;
  knownUids: SequenceSet | null;
  /** seq-match-data: known sequence numbers and their UIDs. */
  seqMatch: { seqs: SequenceSet; uids: SequenceSet } | null;
}

export type Command = { tag: string } & CommandBody;

export type CommandBody =
  | { name: 'CAPABILITY' | 'NOOP' | 'LOGOUT' | 'STARTTLS' | 'CHECK' | 'CLOSE' | 'UNSELECT' | 'IDLE' | 'NAMESPACE' }
  | { name: 'ID'; params: [string, string | null][] | null }
  | { name: 'LOGIN'; username: string; password: string }
  | { name: 'AUTHENTICATE'; mechanism: string; initialResponse: string | null }
  | { name: 'ENABLE'; capabilities: string[] }
  | { name: 'COMPRESS'; mechanism: string }
  /** RFC 4467 7, GENURLAUTH; mechanisms upper case. */
  | { name: 'GENURLAUTH'; urls: { url: string; mechanism: string }[] }
  /** RFC 4467 7, RESETKEY; no mailbox: every key of the user. */
  | { name: 'RESETKEY'; mailbox: string | null; mechanisms: string[] }
  /** RFC 4467 7, URLFETCH; RFC 5524. */
  | { name: 'URLFETCH'; urls: UrlFetchArg[] }
  | { name: 'SELECT' | 'EXAMINE'; mailbox: string; condstore: boolean; qresync: QresyncParams | null }
  | { name: 'CREATE'; mailbox: string; specialUse: string[] }
  | { name: 'DELETE' | 'SUBSCRIBE' | 'UNSUBSCRIBE'; mailbox: string }
  | { name: 'RENAME'; from: string; to: string }
  | {
      name: 'LIST';
      reference: string;
      patterns: string[];
      selection: ListSelection;
      returnOpts: ListReturn;
      /** Whether any LIST-EXTENDED syntax was used (changes some responses, RFC 5258 3). */
      extended: boolean;
    }
  | { name: 'LSUB'; reference: string; pattern: string }
  | { name: 'STATUS'; mailbox: string; items: StatusItem[] }
  | { name: 'APPEND'; mailbox: string; messages: AppendMessage[] }
  /** RFC 8508: id is a sequence number (or a UID with `uid`), possibly STAR. */
  | { name: 'REPLACE'; uid: boolean; id: number; mailbox: string; message: AppendMessage }
  | {
      name: 'SEARCH';
      uid: boolean;
      charset: string | null;
      /** null: plain SEARCH; otherwise ESEARCH RETURN options (empty list means ALL, RFC 4731 3.1). */
      returnOpts: SearchReturnOption[] | null;
      /** RETURN (PARTIAL first:last), RFC 5267 4.4. */
      partial: { first: number; last: number } | null;
      /** RFC 5465 7: RETURN (UPDATE (fetch-att...)). */
      updateAtts?: FetchAtt[] | null;
      key: SearchKey;
    }
  | {
      /** MULTISEARCH (RFC 7377): sources null means the selected mailbox. */
      name: 'ESEARCH';
      sources: MailboxFilter[] | null;
      charset: string | null;
      returnOpts: SearchReturnOption[] | null;
      partial: { first: number; last: number } | null;
      updateAtts?: FetchAtt[] | null;
      key: SearchKey;
    }
  | {
      name: 'SORT';
      uid: boolean;
      /** null: plain SORT; otherwise ESORT RETURN options (empty means ALL, RFC 5267 3.2). */
      returnOpts: SortReturn | null;
      criteria: SortCriterion[];
      charset: string;
      key: SearchKey;
    }
  /** RFC 5267 4.3.5: the tags of the searching commands whose updates end. */
  | { name: 'CANCELUPDATE'; tags: string[] }
  | { name: 'THREAD'; uid: boolean; algorithm: ThreadAlgorithm; charset: string; key: SearchKey }
  | {
      name: 'FETCH';
      uid: boolean;
      set: SequenceSet;
      items: FetchAtt[];
      changedSince: number | null;
      vanished: boolean;
    }
  | {
      name: 'STORE';
      uid: boolean;
      set: SequenceSet;
      unchangedSince: number | null;
      op: 'set' | 'add' | 'remove';
      silent: boolean;
      flags: string[];
    }
  | { name: 'COPY' | 'MOVE'; uid: boolean; set: SequenceSet; mailbox: string }
  | { name: 'EXPUNGE'; uids: SequenceSet | null }
  | { name: 'GETQUOTA'; root: string }
  | { name: 'GETQUOTAROOT'; mailbox: string }
  | { name: 'SETQUOTA'; root: string; limits: [string, number][] }
  /** RFC 5464 4.2; entry names are validated and lower-cased by the parser. */
  | { name: 'GETMETADATA'; mailbox: string; entries: string[]; maxSize: number | null; depth: MetadataDepth }
  /** RFC 5464 4.3; a null value removes the entry. */
  | { name: 'SETMETADATA'; mailbox: string; entries: { name: string; value: Buffer | null }[] }
  /** RFC 5465 3.1: NOTIFY SET (set) or NOTIFY NONE (null). */
  | { name: 'NOTIFY'; set: NotifySet | null };

/** RFC 5465 5: the event names as the RFC spells them; an unknown name is kept as sent (BADEVENT). */
export interface NotifyEvent {
  name: string;
  /** MessageNew's fetch-att list (RFC 5465 5.2), for the selected mailbox. */
  fetchAtts: FetchAtt[] | null;
}

/** RFC 5465 6: filter-mailboxes; subtree-one is RFC 7377's addition. */
export type NotifyFilter = MailboxFilter | { kind: 'selected-delayed' };

export interface NotifyGroup {
  filter: NotifyFilter;
  /** null: NONE (nothing from these mailboxes). */
  events: NotifyEvent[] | null;
}

export interface NotifySet {
  /** The STATUS indicator: initial STATUS responses (RFC 5465 3.1). */
  status: boolean;
  groups: NotifyGroup[];
}

export type CommandName = CommandBody['name'];

/** The command type for one name (works for bodies shared by several names). */
export type CommandOf<N extends CommandName> = Command & { name: N };
