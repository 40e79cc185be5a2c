// Every topic on the cluster bus, in one place (docs/scaling.md lists what each carries).

export const TOPIC = {
  /** publish: {a: accountId, c: Change[]} after a commit in another process (change-feed.ts). */
  changes: 'store.changes',
  /** publish: {ip, at} one failed password attempt (failure-limiter.ts). */
  authFailure: 'auth.failure',
  /** request: {} -> [key, timestamps][] the coordinator's copy of recent failures, for a new worker. */
  authFailures: 'auth.failures',
  /** request: {l, ip, perIp, perSubnet} -> {ok, lease} | {ok: false, over} (connection-counts.ts). */
  connAdmit: 'conn.admit',
  /** notify: {lease} the connection closed. */
  connRelease: 'conn.release',
  /** request: {} -> {secret} the current session-ticket secret; publish: {secret} a new one. */
  ticketSecret: 'tls.ticket-secret',
  /** publish: {} mail was queued: the queue runner delivers now. */
  queueKick: 'queue.kick',
  /** publish: {token, keyAuthorization} | {token, remove: true}: an ACME http-01 answer. */
  acmeHttp: 'acme.http-01',
  /** notify: {listeners} a worker is serving (supervisor). */
  ready: 'cluster.ready',
  /** notify: {message} a worker could not start (supervisor). */
  fatal: 'cluster.fatal',
} as const;

/** The environment variable that tells a forked worker its slot (slot 0 runs the singletons). */
export const WORKER_SLOT_ENV = 'POSTERN_WORKER_SLOT';
