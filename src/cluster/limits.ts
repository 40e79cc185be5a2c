// Limits of the process layer: what one message may carry and how much may wait, so that a slow or
// stuck process costs bounded memory in the others.

/** Largest message on the bus (its JSON payload, in bytes); larger ones are refused (TOO_LARGE). */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

/** Bytes handed to one process channel and not yet written; past it, messages to it are dropped. */
export const MAX_CHANNEL_BACKLOG_BYTES = 64 * 1024 * 1024;

/** Requests of one process waiting for their answer; past it, new ones fail at once (BUSY). */
export const MAX_PENDING_REQUESTS = 10_000;

/** How long a request waits for the coordinator's answer. */
export const REQUEST_TIMEOUT_MS = 5_000;

/** Items (UIDs, flag updates) per change-feed message: a big EXPUNGE goes out in several. */
export const CHANGE_CHUNK_ITEMS = 10_000;

/** Worker restarts: the first waits this long, each further quick death doubles it... */
export const RESTART_BASE_DELAY_MS = 500;
/** ...up to this... */
export const RESTART_MAX_DELAY_MS = 30_000;
/** ...and a worker that lived this long resets the backoff. */
export const RESTART_STABLE_MS = 30_000;

/** A worker that has not exited this long after SIGTERM is killed. */
export const WORKER_STOP_TIMEOUT_MS = 30_000;

/** A new worker that has not reported its listeners this long after its fork is killed. */
export const WORKER_START_TIMEOUT_MS = 60_000;
