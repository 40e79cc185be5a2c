// IMAP protocol limits (spec 4). Defaults here; the server passes the values from config.limits.imap.
import type { ImapLimits } from '../../config/types.js';

/** Limits the command reader enforces before accepting any byte of a literal. */
export interface ReaderLimits {
  /** Bytes of one literal parsed as a string (not an APPEND message). */
  maxLiteralSize: number;
  /** Literals per command (APPEND messages excluded). */
  maxLiteralsPerCommand: number;
  /** Bytes of all string literals of one command together. */
  maxLiteralBytesPerCommand: number;
  /** The same before login (spec 4): a client that has not logged in needs no more (LOGIN,
   * AUTHENTICATE), and many unauthenticated connections must not each hold a megabyte. */
  maxLiteralBytesBeforeAuth: number;
  /** Bytes of one command line, without CRLF and without literal data. */
  maxLineLength: number;
}

export const DEFAULT_READER_LIMITS: ReaderLimits = {
  maxLiteralSize: 102400,
  maxLiteralsPerCommand: 1000,
  maxLiteralBytesPerCommand: 1024000,
  maxLiteralBytesBeforeAuth: 102400,
  // As Dovecot (imap_max_line_length): an ID with RFC 2971's maximum (30 pairs of 1024-octet
  // values) or a long UID set fits, and the line is still bounded.
  maxLineLength: 64 * 1024,
};

/**
 * Commands in a row that fail to parse (BAD) before the server says BYE and closes, as Dovecot does
 * (20): a client that sends only garbage, e.g. a megabyte of bare line ends, would otherwise cost a
 * BAD line of output and a parse per line ending, 36 times the bytes it sent.
 */
export const MAX_BAD_COMMANDS = 20;

/** Default APPENDLIMIT (spec 4: 100 MiB). */
export const DEFAULT_APPEND_LIMIT = 100 * 1024 * 1024;

/** Literal announcements longer than this many digits are over every limit. */
export const MAX_LITERAL_DIGITS = 12;

export function readerLimitsFrom(l: Partial<ImapLimits> | undefined): ReaderLimits {
  return {
    maxLiteralSize: l?.maxLiteralSize ?? DEFAULT_READER_LIMITS.maxLiteralSize,
    maxLiteralsPerCommand: l?.maxLiteralsPerCommand ?? DEFAULT_READER_LIMITS.maxLiteralsPerCommand,
    maxLiteralBytesPerCommand: l?.maxLiteralBytesPerCommand ?? DEFAULT_READER_LIMITS.maxLiteralBytesPerCommand,
    maxLiteralBytesBeforeAuth: l?.maxLiteralBytesBeforeAuth ?? DEFAULT_READER_LIMITS.maxLiteralBytesBeforeAuth,
    maxLineLength: l?.maxLineLength ?? DEFAULT_READER_LIMITS.maxLineLength,
  };
}

/** Mailboxes one ESEARCH (RFC 7377 2.4) may search; more is NO [LIMIT] before any is searched. */
export const DEFAULT_MAX_SEARCH_MAILBOXES = 1000;

/** Sort criteria in one SORT (RFC 5256 3): more than the nine keys twice over is not a real client. */
export const MAX_SORT_CRITERIA = 20;

// COMPRESS=DEFLATE (RFC 4978) zlib settings: the memory each compressed connection holds.
/** Inflate window: RFC 1951 lets the client use up to 32 KiB of history, so 15 bits accept any client. */
export const COMPRESS_INFLATE_WINDOW_BITS = 15;
/** Our own window and hash memory (zlib: 2^(windowBits+2) + 2^(memLevel+9) bytes): 4 KiB of history finds the repeats of IMAP responses (header names, FLAGS lists) at a fraction of the default 256 KiB. */
export const COMPRESS_DEFLATE_WINDOW_BITS = 12;
export const COMPRESS_DEFLATE_MEM_LEVEL = 5;
/** RFC 4978 4 suggests a middle level: most of the gain for text, little CPU. */
export const COMPRESS_DEFLATE_LEVEL = 5;
/** Bytes of deflate output per step (one TLS record). */
export const COMPRESS_CHUNK = 16 * 1024;
/** Bytes inflated per step: bounds what is inflated past the reader's high-water mark, and is kept per connection. */
export const COMPRESS_INFLATE_CHUNK = 8 * 1024;
/** The deflate state is freed after this long without output and made anew for the next response. */
export const COMPRESS_DEFLATE_RELEASE_MS = 2000;

/** Entry names in one GETMETADATA/SETMETADATA/LIST RETURN (METADATA): far above any client's use. */
export const MAX_METADATA_ENTRIES_PER_COMMAND = 1000;
/** Octets of one entry name (Dovecot's limit is of the same order). */
export const MAX_METADATA_ENTRY_NAME = 1024;

/** URLs in one GENURLAUTH or URLFETCH (RFC 4467): each URLFETCH URL is a part read and sent in
 * turn, so this bounds the work one command asks for; far above a client's use (one per draft). */
export const MAX_URLAUTH_URLS_PER_COMMAND = 100;

/** METADATA storage limits (RFC 5464 4.1 requires at least 1024 octets and 10 entries). */
export interface MetadataLimits {
  /** Octets of one value: more is NO [METADATA MAXSIZE n]. */
  maxValueSize: number;
  /** Entries on the server or on one mailbox: more is NO [METADATA TOOMANY]. */
  maxEntries: number;
  /** Octets of all the account's entries (names and values) together: more is NO [METADATA TOOMANY]. */
  maxAccountBytes: number;
}

export const DEFAULT_METADATA_LIMITS: MetadataLimits = {
  maxValueSize: 64 * 1024,
  maxEntries: 100,
  maxAccountBytes: 1024 * 1024,
};

export function metadataLimitsFrom(l: Partial<ImapLimits> | undefined): MetadataLimits {
  return {
    maxValueSize: l?.metadataMaxValueSize ?? DEFAULT_METADATA_LIMITS.maxValueSize,
    maxEntries: l?.metadataMaxEntries ?? DEFAULT_METADATA_LIMITS.maxEntries,
    maxAccountBytes: l?.metadataMaxAccountBytes ?? DEFAULT_METADATA_LIMITS.maxAccountBytes,
  };
}

/**
 * RFC 5267 4.3.1: searches (SEARCH/SORT RETURN (UPDATE)) one session keeps current at once; more
 * get `* NO [NOUPDATE "tag"]` (Dovecot's limit is the same). CANCELUPDATE or a new selection frees them.
 */
export const MAX_UPDATE_CONTEXTS = 10;
/** Messages one kept-current result may hold: a larger one is answered but gets NOUPDATE. */
export const MAX_UPDATE_RESULT = 100_000;

/** NOTIFY (RFC 5465) limits. */
export interface NotifyLimits {
  /** Notifications about other mailboxes waiting to be written: more is `* OK [NOTIFICATIONOVERFLOW]` and NOTIFY NONE (5.8). */
  queueLimit: number;
  /** Mailbox names in one NOTIFY SET: more is NO [NOTIFICATIONOVERFLOW] (3.1). */
  maxMailboxNames: number;
}

export const DEFAULT_NOTIFY_LIMITS: NotifyLimits = { queueLimit: 1000, maxMailboxNames: 1000 };

export function notifyLimitsFrom(l: Partial<ImapLimits> | undefined): NotifyLimits {
  return {
    queueLimit: l?.notifyQueueLimit ?? DEFAULT_NOTIFY_LIMITS.queueLimit,
    maxMailboxNames: DEFAULT_NOTIFY_LIMITS.maxMailboxNames,
  };
}
