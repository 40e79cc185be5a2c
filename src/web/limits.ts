// Limits of the account web interface. Requests are small JSON documents or one certificate, so
// bodies are capped well below anything that could hurt; sessions are in the store.

/** Largest request body accepted on any route (a certificate in PEM with a long chain fits). */
export const MAX_BODY_BYTES = 64 * 1024;
/** A web session ends after this long without a request. */
export const SESSION_IDLE_MS = 24 * 3600_000;
/** And after this long in any case: a stolen cookie is not good forever. */
export const SESSION_MAX_AGE_MS = 7 * 24 * 3600_000;
/**
 * Adding a TLS key makes a permanent credential: the session must have logged in this recently,
 * else the request carries the current password (step-up, like a password change).
 */
export const STEP_UP_WINDOW_MS = 5 * 60_000;
/** Sessions kept at most per account; the oldest goes first. */
export const MAX_SESSIONS_PER_ACCOUNT = 50;
/** Sessions kept at most in total (in the store), bounding its table. */
export const MAX_SESSIONS = 10_000;
/** A session's last use is written at most this often (not a database write per request); the
 * idle time counts from the last write. */
export const SESSION_TOUCH_MS = 60_000;
/** Login attempts shown on the account page. */
export const LOGIN_ATTEMPTS_SHOWN = 50;
/** Received DMARC aggregate reports shown on the account page (the newest; each holds its rows). */
export const DMARC_REPORTS_SHOWN = 100;
/** Minimum password length (Unicode code points, after normalisation), as the CLI demands. */
export const MIN_PASSWORD_LENGTH = 8;
/** Idle HTTP connections and slow request headers are cut off after this. */
export const REQUEST_TIMEOUT_MS = 30_000;
export const HEADERS_TIMEOUT_MS = 15_000;
/** Longest key name, as the store allows. */
export const MAX_KEY_NAME_LENGTH = 256;
