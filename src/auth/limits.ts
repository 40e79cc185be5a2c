// The attempt policy's limits, one place for IMAP, SMTP and the web (spec 3.4). Defaults follow
// Dovecot's auth penalty and mox's failed-login budgets; postern.conf `auth:` overrides them, and the
// delay step comes from `authFailureDelayMs` (zero under test).

import type { Config } from '../config/types.js';

/** A failure budget over a time window, for [single address, middle subnet, large subnet]. */
export interface FailureWindow {
  ms: number;
  limits: [number, number, number];
}

export interface AuthLimits {
  /** Failed attempts on one connection answered at once; each further one waits a step longer. */
  failuresBeforeDelay: number;
  /** The step added per failure past failuresBeforeDelay (ms). */
  delayStepMs: number;
  /** No single failure is answered later than this (ms). */
  maxDelayMs: number;
  /** Failed attempts on one connection before it is closed (IMAP BYE, SMTP 421). */
  maxFailuresPerConnection: number;
  /** Password-failure budgets per IPv4 address / IPv6 /64, and the subnets around it. */
  windows: FailureWindow[];
  /**
   * Whether loopback clients may authenticate without TLS (Postfix smtpd_tls_auth_only and Dovecot
   * ssl=required turned off for 127.0.0.0/8 and ::1 only). Off by default.
   */
  cleartextFromLoopback: boolean;
}

export const FAILURES_BEFORE_DELAY = 3;
export const FAILURE_DELAY_STEP_MS = 1000;
export const MAX_FAILURE_DELAY_MS = 15_000;
export const MAX_FAILURES_PER_CONNECTION = 10;

/** A refusal by the budget is recorded in Login attempts once per address and account in this time. */
export const REFUSAL_RECORD_MS = 60_000;
/** Address/account pairs remembered for that (bounded memory under a flood from many addresses). */
export const MAX_REFUSALS_TRACKED = 10_000;

/** Budgets: an address, then IPv4 /26 and /21 (IPv6 /48 and /32); a minute and a day. */
export const DEFAULT_FAILURE_WINDOWS: FailureWindow[] = [
  { ms: 60_000, limits: [10, 100, 300] },
  { ms: 24 * 3600_000, limits: [50, 500, 1000] },
];

export const DEFAULT_AUTH_LIMITS: AuthLimits = Object.freeze({
  failuresBeforeDelay: FAILURES_BEFORE_DELAY,
  delayStepMs: FAILURE_DELAY_STEP_MS,
  maxDelayMs: MAX_FAILURE_DELAY_MS,
  maxFailuresPerConnection: MAX_FAILURES_PER_CONNECTION,
  windows: DEFAULT_FAILURE_WINDOWS,
  cleartextFromLoopback: false,
});

/** The limits in force for a configuration (tests build Config objects without an `auth` section). */
export function authLimitsOf(config: Pick<Config, 'authFailureDelayMs' | 'auth'>): AuthLimits {
  return { ...DEFAULT_AUTH_LIMITS, ...(config.auth ?? {}), delayStepMs: config.authFailureDelayMs ?? FAILURE_DELAY_STEP_MS };
}
