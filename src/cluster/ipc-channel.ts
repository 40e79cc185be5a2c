// What the IPC transport puts on node:cluster's process channel, and a sender that bounds the bytes
// waiting on one channel. Payloads travel as JSON text (`j`), so the primary relays a publish
// without parsing it.

import { MAX_CHANNEL_BACKLOG_BYTES } from './limits.js';
import type { ClusterErrorCode } from './bus.js';

export type Envelope =
  | { pb: 'pub'; t: string; j: string; f?: number; k?: string }
  /** A worker wants (on) or no longer wants the keyed publishes of topic t with key k; answered
   * with an empty reply once routed (ipc-hub.ts). */
  | { pb: 'want'; t: string; k: string; on: boolean; i: number }
  | { pb: 'req'; t: string; j: string; i: number }
  | { pb: 'note'; t: string; j: string }
  | { pb: 'rep'; i: number; j?: string; e?: { code: ClusterErrorCode; message: string } };

/** A publish envelope; the key only when there is one (an absent key is an unkeyed publish). */
export function pubEnvelope(t: string, j: string, f: number | undefined, k: string | undefined): Envelope {
  const m: Envelope & { pb: 'pub' } = f === undefined ? { pb: 'pub', t, j } : { pb: 'pub', t, j, f };
  if (k !== undefined) m.k = k;
  return m;
}

export function isEnvelope(m: unknown): m is Envelope {
  return typeof m === 'object' && m !== null && typeof (m as { pb?: unknown }).pb === 'string';
}

type RawSend = (msg: Envelope, cb: (err: Error | null) => void) => boolean;

/** One process channel: refuses a message when the bytes not yet written would pass the cap. */
export class BoundedSender {
  private backlog = 0;
  /** Messages refused since the last report (for one log line, not one per message). */
  dropped = 0;

  constructor(private readonly raw: RawSend) {}

  send(msg: Envelope): boolean {
    const size = ('j' in msg && msg.j ? msg.j.length : 0) + 64;
    if (this.backlog + size > MAX_CHANNEL_BACKLOG_BYTES) {
      this.dropped++;
      return false;
    }
    this.backlog += size;
    try {
      this.raw(msg, () => {
        this.backlog -= size;
      });
    } catch {
      // The channel is closed (the other process exited): nobody is left to tell.
      this.backlog -= size;
      return false;
    }
    return true;
  }

  get pendingBytes(): number {
    return this.backlog;
  }
}
