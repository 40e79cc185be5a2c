// Named queue limits and timings; QueueOptions overrides them (tests set tiny values).

/** First retry delay after a temporary failure; each further one doubles (Postfix-like). */
export const FIRST_RETRY_DELAY_MS = 7.5 * 60_000;

/** Retry delays stop growing here. */
export const MAX_RETRY_DELAY_MS = 16 * 3600_000;

/** A message still undelivered this long after it was queued is returned to its sender
 * (RFC 5321 4.5.4.1: give up after at least 4-5 days). */
export const QUEUE_EXPIRY_MS = 5 * 24 * 3600_000;

/** Deliveries (SMTP connections) at once, overall. */
export const MAX_CONCURRENT_DELIVERIES = 20;

/** Deliveries at once to one destination domain, so one slow site cannot use every slot and
 * we do not hammer a receiver (Postfix default_destination_concurrency_limit is 20; we are small). */
export const MAX_CONCURRENT_PER_DOMAIN = 4;

/** The loop looks at the queue at least this often, also without kick(): picks up retries
 * that became due and changes made by `postern queue retry` in another process. */
export const POLL_INTERVAL_MS = 30_000;

/** On stop(), in-flight deliveries get this long to finish before their connections are closed. */
export const STOP_GRACE_MS = 30_000;

/** A runner holds the recipients it delivers for this long, renewing the lease every third of it
 * while the attempt runs; a runner that died leaves them to the others once it ran out. */
export const QUEUE_LEASE_MS = 2 * 60_000;
