// The attempt policy of every protocol (spec 3.4), one copy for IMAP, SMTP and the web: delays and
// a maximum of failures per connection, the per-address budgets (rate-limit.ts, through the
// Authenticator), and where authentication may happen at all (no authentication before TLS, spec
// 3.1). Protocols differ only in how they say it on the wire.

import { isIPv4 } from 'node:net';
import type { AuthFailure } from './authenticator.js';
import type { AuthLimits } from './limits.js';

/** Whole seconds to wait, rounded up (HTTP Retry-After, and the messages). */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/** The text of a budget refusal, with the time to wait: the web shows it, IMAP and SMTP send it. */
export function refusedMessage(waitMs: number): string {
  const s = retryAfterSeconds(waitMs);
  const wait = s < 120 ? `${s} seconds` : `${Math.ceil(s / 60)} minutes`;
  return `too many failed logins from your network; try again in ${wait}`;
}

function isLoopback(ip: string): boolean {
  const v4 = ip.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
  return isIPv4(v4) ? v4.startsWith('127.') : ip === '::1';
}

/**
 * Whether a client may authenticate on this connection now: over TLS, or in the clear only from
 * loopback with the setting on (Postfix smtpd_tls_auth_only, Dovecot ssl=required).
 */
export function authAllowedWithoutTls(limits: AuthLimits, ip: string): boolean {
  return limits.cleartextFromLoopback && isLoopback(ip);
}

/** What a connection does after a failed attempt. */
export interface AfterFailure {
  /** Close the connection (IMAP `* BYE`, SMTP 421) after the reply. */
  close: boolean;
  /** Why, for the closing line. */
  closeText: string;
}

/** Failed attempts on one connection: the delay before each answer and the per-connection maximum. */
export class ConnectionAttempts {
  private failures = 0;

  constructor(
    private readonly limits: AuthLimits,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  get count(): number {
    return this.failures;
  }

  /** The delay before answering the current failure: a step more for each past failuresBeforeDelay. */
  delayMs(): number {
    const over = this.failures - this.limits.failuresBeforeDelay;
    return over > 0 ? Math.min(over * this.limits.delayStepMs, this.limits.maxDelayMs) : 0;
  }

  /**
   * Counts one failure, waits its delay (a refusal by the budget is answered at once: nothing was
   * checked), and says whether the connection must end: refused, over the per-connection maximum,
   * or the address went over its budget with this failure (`retryAfterMs` > 0).
   */
  async failed(result: Pick<AuthFailure, 'code' | 'message'>, retryAfterMs: number): Promise<AfterFailure> {
    this.failures++;
    if (result.code === 'LIMIT') return { close: true, closeText: result.message };
    const delay = this.delayMs();
    if (delay > 0) await this.sleep(delay);
    if (retryAfterMs > 0) return { close: true, closeText: refusedMessage(retryAfterMs) };
    if (this.failures >= this.limits.maxFailuresPerConnection) return { close: true, closeText: 'too many failed logins on this connection' };
    return { close: false, closeText: '' };
  }
}
