// Named limits of the SMTP server. Message size, recipients and the command line length come from
// config.limits.smtp; these are the fixed ones.

/** Time allowed for a whole command line, from starting to wait for it to its CRLF, and for each
 * DATA_PROGRESS_BLOCK of message data (RFC 5321 4.5.3.2.7: at least 5 minutes). A deadline, not an
 * idle timer: a client sending a byte now and then must not hold the connection forever. */
export const COMMAND_TIMEOUT_MS = 5 * 60_000;

/** Message data that restarts the data deadline: 64 KiB per 5 minutes (about 220 B/s) keeps a
 * slow but real upload going, a dribble of bytes does not. */
export const DATA_PROGRESS_BLOCK = 64 * 1024;

/** Time from the greeting to EHLO/HELO. A client that says nothing is not a mail client. */
export const GREETING_TIMEOUT_MS = 30_000;

/** Protocol errors on one connection before it is dropped: Postfix smtpd_hard_error_limit. */
export const MAX_ERRORS = 20;

/** Unprocessed input held per connection before the socket is paused. */
export const INPUT_HIGH_WATER = 256 * 1024;

/** Largest header section we read to check From and add trace fields (Postfix header_size_limit
 * is 100 KiB; we are more generous before refusing). */
export const MAX_HEADER_SECTION = 1024 * 1024;

/** Spool files older than this are leftovers of a crash and removed at start. */
export const STALE_SPOOL_MS = 24 * 3600_000;

/** Messages up to this size are spooled in memory while received; bigger ones go to a file. */
export const MEMORY_SPOOL_MAX = 256 * 1024;

/** In-memory spools of all sessions together: past it, new message data goes to files. Bounds the
 * memory that many concurrent DATA transfers can take (1000 sessions would need 256 MiB). */
export const MEMORY_SPOOL_BUDGET = 32 * 1024 * 1024;

/** Received fields a message may carry; more is a mail loop (RFC 5321 6.3: a limit of at least
 * 100 hops). Postfix hopcount_limit is 50; we follow the RFC's figure. Submission and incoming. */
export const MAX_RECEIVED_FIELDS = 100;
