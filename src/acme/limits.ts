// Timing and size limits of certificate management by ACME (RFC 8555).

/** Renew when this fraction of the certificate's lifetime has passed (60 of 90 days at Let's Encrypt). */
export const RENEW_AT_FRACTION = 2 / 3;
/** After a failed order: first retry delay, doubled per further failure up to the maximum. */
export const RETRY_MIN_MS = 10 * 60_000;
export const RETRY_MAX_MS = 24 * 3600_000;
/** Timers are re-armed at least this often (setTimeout cannot wait 60 days; the clock may jump). */
export const MAX_TIMER_MS = 12 * 3600_000;
/** How often the set of names (domains from the store) is looked at again. */
export const NAMES_REFRESH_MS = 10 * 60_000;
/** RFC 9773 4.3: poll renewal information this often when the CA sends no Retry-After... */
export const ARI_DEFAULT_POLL_MS = 6 * 3600_000;
/** ...and never more often than this, nor less often than the maximum, whatever Retry-After says. */
export const ARI_MIN_POLL_MS = 60_000;
export const ARI_MAX_POLL_MS = 24 * 3600_000;
/** Polling an order, authorization or challenge for its final status (RFC 8555 7.5.1). */
export const POLL_ATTEMPTS = 12;
export const POLL_MIN_MS = 1000;
export const POLL_MAX_MS = 10_000;
/** A certificate file (key and chain) larger than this is not ours. */
export const MAX_CERT_FILE_SIZE = 64 * 1024;
/** Several file events in a row (write then rename) cause one reload. */
export const RELOAD_DEBOUNCE_MS = 100;
/** Shutdown waits this long for an order in flight. */
export const STOP_WAIT_MS = 2000;
