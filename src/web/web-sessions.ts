// Web login sessions, kept in memory (a restart logs everyone out, which is harmless).
//
// The cookie carries a random token; the map is keyed by its SHA-256, so a memory dump or a timing
// side channel on the map lookup gives nothing usable as a cookie. Each session has its own random
// CSRF token, sent back by the page in X-CSRF-Token on every state change (csrf.ts).
//
// A session is valid while: not idle longer than SESSION_IDLE_MS, younger than SESSION_MAX_AGE_MS,
// and its account's auth generation is unchanged (a password change, login-disabled, or a change
// made with the CLI ends it; the session that changed the password is carried over explicitly).

import { createHash, randomBytes } from 'node:crypto';
import { MAX_SESSIONS, MAX_SESSIONS_PER_ACCOUNT, SESSION_IDLE_MS, SESSION_MAX_AGE_MS } from './limits.js';

export interface WebSession {
  accountId: number;
  accountName: string;
  /** The address the user logged in with. */
  address: string;
  csrfToken: string;
  /** Account auth generation at login (see Store.authGeneration). */
  generation: number;
  created: number;
  lastUsed: number;
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

export class WebSessions {
  private readonly byHash = new Map<string, WebSession>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Creates a session; returns the cookie token (never stored). */
  create(s: Omit<WebSession, 'csrfToken' | 'created' | 'lastUsed'>): { token: string; session: WebSession } {
    this.sweep();
    const own = [...this.byHash.entries()].filter(([, v]) => v.accountId === s.accountId).sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [h] of own.slice(0, Math.max(0, own.length - MAX_SESSIONS_PER_ACCOUNT + 1))) this.byHash.delete(h);
    if (this.byHash.size >= MAX_SESSIONS) {
      // Map order is insertion order: drop the oldest.
      const first = this.byHash.keys().next();
      if (!first.done) this.byHash.delete(first.value);
    }
    const token = randomBytes(32).toString('base64url');
    const t = this.now();
    const session: WebSession = { ...s, csrfToken: randomBytes(32).toString('base64url'), created: t, lastUsed: t };
    this.byHash.set(hashToken(token), session);
    return { token, session };
  }

  /** The live session for a cookie token (and marks it used), or null. */
  get(token: string | undefined): WebSession | null {
    if (!token || token.length > 100) return null;
    const h = hashToken(token);
    const s = this.byHash.get(h);
    if (!s) return null;
    const t = this.now();
    if (t - s.lastUsed > SESSION_IDLE_MS || t - s.created > SESSION_MAX_AGE_MS) {
      this.byHash.delete(h);
      return null;
    }
    s.lastUsed = t;
    return s;
  }

  destroy(token: string | undefined): void {
    if (token) this.byHash.delete(hashToken(token));
  }

  /** Milliseconds since the session's login, on this clock. */
  sinceLogin(s: WebSession): number {
    return this.now() - s.created;
  }

  /** Ends every session of the account except `keep`. */
  destroyAccount(accountId: number, keep?: WebSession): void {
    for (const [h, s] of this.byHash) if (s.accountId === accountId && s !== keep) this.byHash.delete(h);
  }

  /** Ends one session object (e.g. found invalid). */
  remove(session: WebSession): void {
    for (const [h, s] of this.byHash) if (s === session) this.byHash.delete(h);
  }

  get size(): number {
    return this.byHash.size;
  }

  private sweep(): void {
    const t = this.now();
    for (const [h, s] of this.byHash) {
      if (t - s.lastUsed > SESSION_IDLE_MS || t - s.created > SESSION_MAX_AGE_MS) this.byHash.delete(h);
    }
  }
}
