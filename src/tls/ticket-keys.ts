// Session-ticket secrets. Tickets (RFC 5077, RFC 8446 4.6.1) carry the session state encrypted
// under a server key; whoever holds the key can decrypt every session resumed with it, so the key
// is rotated and lives only in memory.
//
// A source hands out one 32-byte secret at a time and says when it changes. Each TLS context
// derives its own 48-byte ticket key from the secret and its session id context (HKDF, RFC 5869),
// so listeners with different client-certificate settings never accept each other's tickets,
// while listeners with the same settings (and, later, worker processes fed by one shared source)
// resume each other's sessions. Today's source makes its secrets itself; a shared one (IPC from
// a coordinator, the store) only needs to implement TicketSecretSource.

import { hkdfSync, randomBytes } from 'node:crypto';
import { TICKET_KEY_ROTATION_MS } from './limits.js';

export interface TicketSecretSource {
  /** The secret new tickets are made with. */
  current(): Buffer;
  /** Calls `fn` with each new secret; returns the unsubscribe function. */
  subscribe(fn: (secret: Buffer) => void): () => void;
  /** Stops rotating (server shutdown). */
  close(): void;
}

/** node:tls ticket key (16 bytes name, 16 HMAC, 16 AES) of one context. */
export function ticketKeyFor(secret: Buffer, sessionIdContext: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'postern session tickets', sessionIdContext, 48));
}

/** Secrets made in this process, replaced every `rotationMs`. */
export class RotatingTicketSecrets implements TicketSecretSource {
  private secret = randomBytes(32);
  private readonly listeners = new Set<(secret: Buffer) => void>();
  private readonly timer: NodeJS.Timeout;

  constructor(rotationMs = TICKET_KEY_ROTATION_MS) {
    this.timer = setInterval(() => this.rotate(), rotationMs);
    this.timer.unref();
  }

  current(): Buffer {
    return this.secret;
  }

  subscribe(fn: (secret: Buffer) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Replaces the secret now (the timer calls this; tests may too). */
  rotate(): void {
    this.secret.fill(0);
    this.secret = randomBytes(32);
    for (const fn of this.listeners) fn(this.secret);
  }

  close(): void {
    clearInterval(this.timer);
  }
}
