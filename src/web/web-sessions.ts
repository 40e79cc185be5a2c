// Web login sessions, kept in the store: every process serving the web interface sees the same
// sessions, and a restart does not log anyone out.
//
// The cookie carries a random token; the store keeps only its SHA-256, so a copy of the database
// or a timing side channel on the lookup gives nothing usable as a cookie. Each session has its
// own random CSRF token, sent back by the page in X-CSRF-Token on every state change (csrf.ts).
//
// A session is valid while: not idle longer than SESSION_IDLE_MS, younger than SESSION_MAX_AGE_MS,
// and its account's auth generation is unchanged (a password change, login-disabled, or a change
// made with the CLI ends it; the session that changed the password is carried over explicitly).
// Its last use is written at most once per SESSION_TOUCH_MS, not on every request, so the idle
// time counts from a moment up to that much before the last request.

import { createHash, randomBytes } from 'node:crypto';
import type { Store, WebSessionLimits, WebSessionRecord } from '../store/types.js';
import { MAX_SESSIONS, MAX_SESSIONS_PER_ACCOUNT, SESSION_IDLE_MS, SESSION_MAX_AGE_MS, SESSION_TOUCH_MS } from './limits.js';

/** A stored session (store/types.ts) and its key. */
export interface WebSession extends WebSessionRecord {
  readonly tokenHash: Buffer;
}

export const WEB_SESSION_LIMITS: WebSessionLimits = {
  maxSessions: MAX_SESSIONS,
  maxPerAccount: MAX_SESSIONS_PER_ACCOUNT,
  idleMs: SESSION_IDLE_MS,
  maxAgeMs: SESSION_MAX_AGE_MS,
  touchAfterMs: SESSION_TOUCH_MS,
};

/** The longest cookie token looked up (ours are 43 characters). */
const MAX_TOKEN_LENGTH = 100;

function hashToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

export class WebSessions {
  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
    private readonly limits: WebSessionLimits = WEB_SESSION_LIMITS,
  ) {}

  /** Creates a session; returns the cookie token (never stored). */
  async create(s: Pick<WebSession, 'accountId' | 'accountName' | 'address' | 'generation'>): Promise<{ token: string; session: WebSession }> {
    const token = randomBytes(32).toString('base64url');
    const t = this.now();
    const session: WebSession = { ...s, csrfToken: randomBytes(32).toString('base64url'), created: t, lastUsed: t, tokenHash: hashToken(token) };
    await this.store.createWebSession(session.tokenHash, { accountId: s.accountId, address: s.address, csrfToken: session.csrfToken, generation: s.generation, created: t }, this.limits);
    return { token, session };
  }

  /** The live session for a cookie token (and marks it used), or null. */
  async get(token: string | undefined): Promise<WebSession | null> {
    if (!token || token.length > MAX_TOKEN_LENGTH) return null;
    const tokenHash = hashToken(token);
    const r = await this.store.getWebSession(tokenHash, this.now(), this.limits);
    return r ? { ...r, tokenHash } : null;
  }

  async destroy(token: string | undefined): Promise<void> {
    if (token && token.length <= MAX_TOKEN_LENGTH) await this.store.deleteWebSession(hashToken(token));
  }

  /** Milliseconds since the session's login, on this clock. */
  sinceLogin(s: WebSession): number {
    return this.now() - s.created;
  }

  /** Ends every session of the account except `keep`, which moves to the account's auth
   * generation `generation` (it made the change that ended the others). */
  async destroyAccount(accountId: number, keep?: WebSession, generation?: number): Promise<void> {
    await this.store.endOtherWebSessions(accountId, keep?.tokenHash ?? null, keep && generation !== undefined ? generation : null);
    if (keep && generation !== undefined) keep.generation = generation;
  }

  /** Ends one session found invalid under the auth generation it has (not one carried over meanwhile). */
  async remove(session: WebSession): Promise<void> {
    await this.store.deleteWebSession(session.tokenHash, session.generation);
  }

  size(): Promise<number> {
    return this.store.countWebSessions();
  }
}
