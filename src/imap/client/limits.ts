// Limits of the IMAP client: a server must not make us buffer without bound.

/** Largest response we buffer (including literals), 256 MiB: big enough for any message body. */
export const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

/** Default timeouts, ms. */
export const DEFAULT_CONNECT_TIMEOUT = 30_000;
export const DEFAULT_GREETING_TIMEOUT = 30_000;
/** A command with no response at all for this long fails (not IDLE, which waits by design). */
export const DEFAULT_COMMAND_TIMEOUT = 5 * 60_000;

/** RFC 7888 5: LITERAL- allows non-synchronizing literals up to 4096 bytes. */
export const LITERAL_MINUS_MAX = 4096;
