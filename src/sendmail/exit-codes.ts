// sysexits(3) codes sendmail-compatible callers (cron, scripts, MTAs) look at (spec 1, 8).

export const EX_OK = 0;
/** Bad command line. */
export const EX_USAGE = 64;
/** Permanent failure: 5xx, bad configuration. The caller must not retry as is. */
export const EX_UNAVAILABLE = 69;
/** Temporary failure: connection refused, timeout, 4xx. Retrying later may work. */
export const EX_TEMPFAIL = 75;
