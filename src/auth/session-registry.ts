// Live authenticated sessions, so that removing a key, disabling an account or changing its password
// ends them within a second (spec 2.5), also when the change comes from another process (the CLI).
// The store's authChangeVersion is polled; when it moves, every session is checked again.

import type { Logger } from '../log/logger.js';
import type { AuthIdentity, Authenticator } from './authenticator.js';
import type { Store } from '../store/types.js';

export interface LiveSession {
  identity: AuthIdentity;
  /** Ends the session (IMAP: `* BYE` with the reason; SMTP: 421). */
  revoke(reason: string): void;
}

export class SessionRegistry {
  private readonly sessions = new Set<LiveSession>();
  private timer: NodeJS.Timeout | null = null;
  private lastVersion: string | null = null;
  private checking = false;

  constructor(
    private readonly store: Store,
    private readonly auth: Authenticator,
    private readonly log: Logger,
    private readonly intervalMs = 250,
  ) {}

  /** Returns the function that unregisters the session. */
  add(session: LiveSession): () => void {
    this.sessions.add(session);
    this.start();
    return () => {
      this.sessions.delete(session);
    };
  }

  private start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async poll(): Promise<void> {
    if (this.checking || this.sessions.size === 0) return;
    this.checking = true;
    try {
      const version = await this.store.authChangeVersion();
      if (version === this.lastVersion) return;
      this.lastVersion = version;
      for (const s of [...this.sessions]) {
        if (!(await this.auth.stillValid(s.identity))) {
          this.sessions.delete(s);
          this.log.info('session revoked', { account: s.identity.accountName, key: s.identity.keyFingerprint ?? undefined });
          s.revoke(s.identity.keyFingerprint ? 'credentials revoked: TLS key removed or account changed' : 'credentials changed or account disabled');
        }
      }
    } catch (err) {
      this.log.error('session revocation check failed', { err });
    } finally {
      this.checking = false;
    }
  }
}
