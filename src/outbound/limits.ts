// Named limits of outbound delivery (the one door for mail that leaves).

/** Connection attempts per delivery across MX hosts and their addresses (Postfix
 * smtp_mx_address_limit is 5). */
export const MAX_CONNECTION_ATTEMPTS = 5;

/** SMTP port for MX delivery. RFC 5321 4.5.4.2. */
export const SMTP_PORT = 25;

/** Largest MTA-STS policy body accepted (RFC 8461 3.3: senders may limit it; 64 KiB as there). */
export const MTA_STS_MAX_POLICY_BYTES = 64 * 1024;

/** Time for the whole MTA-STS policy fetch (RFC 8461 3.3 suggests at most a minute). */
export const MTA_STS_FETCH_TIMEOUT_MS = 60_000;

/** Largest max_age honoured (RFC 8461 3.2: up to 31557600 s, about a year). */
export const MTA_STS_MAX_AGE_S = 31_557_600;

/** A cached policy is fetched again in the background when it expires within this time, so an
 * active destination never runs without one (RFC 8461 10.2 proactive refresh). */
export const MTA_STS_REFRESH_AHEAD_MS = 24 * 3600_000;

/** A domain found without an _mta-sts record (a definite answer: no such name, no TXT there, or
 * no STSv1 record among them) is taken as without a policy for this long before its TXT record
 * is asked again, so that delivering to it does not cost a DNS query each time (Postfix's
 * resolver cache and mox's do the same for negative answers). Short, so that a newly published
 * policy is found soon. */
export const MTA_STS_NEGATIVE_TTL_MS = 5 * 60_000;

/** Domains remembered as without a policy; past this the oldest is forgotten (memory bounded
 * whatever the number of destinations). */
export const MTA_STS_NEGATIVE_MAX = 10_000;

/** How often the background refresh looks at the cache. */
export const MTA_STS_REFRESH_INTERVAL_MS = 3600_000;

/** Largest TLS-RPT report POST body answer read, and the time for the POST (RFC 8460 5.4). */
export const TLSRPT_POST_TIMEOUT_MS = 60_000;

/** rua destinations used per policy domain (a record naming hundreds is not honoured whole). */
export const TLSRPT_MAX_RUA = 4;

/** How often `serve` looks for finished days to send TLS-RPT reports for. */
export const TLSRPT_RUN_INTERVAL_MS = 3600_000;

/** Largest received TLS-RPT report kept, after gunzip (a day's report of a big sender is a few
 * KiB; this bounds what a forged one can make us hold). */
export const TLSRPT_MAX_REPORT_BYTES = 1024 * 1024;

/** How much of a message is searched for the end of its header section when the door looks for
 * a TLS-Required field (RFC 8689 3); a header section longer than this is taken as without one,
 * so the recipient's policies apply. */
export const TLS_REQUIRED_SCAN_BYTES = 256 * 1024;
