// One session-ticket secret for every worker (tls/ticket-keys.ts): the coordinator makes and
// rotates it, workers receive it, so a TLS session resumes on whichever worker the next
// connection lands on. The secret travels only over the process channel, never to a file or log.

import { RotatingTicketSecrets, type TicketSecretSource } from '../tls/ticket-keys.js';
import type { ClusterBus } from './bus.js';
import { TOPIC } from './topics.js';

function decode(p: unknown): Buffer {
  const s = (p as { secret?: unknown } | null)?.secret;
  const b = typeof s === 'string' ? Buffer.from(s, 'base64') : Buffer.alloc(0);
  if (b.length !== 32) throw new Error('malformed ticket secret');
  return b;
}

/** The coordinator's side: serves its rotating secret and publishes each new one. */
export function serveTicketSecrets(bus: ClusterBus, source: TicketSecretSource = new RotatingTicketSecrets()): () => void {
  const unhandle = bus.handle(TOPIC.ticketSecret, () => ({ secret: source.current().toString('base64') }));
  const unsubscribe = source.subscribe((secret) => bus.publish(TOPIC.ticketSecret, { secret: secret.toString('base64') }));
  return () => {
    unhandle();
    unsubscribe();
    source.close();
  };
}

/** A worker's side: the coordinator's secret, following its rotation. */
export class BusTicketSecrets implements TicketSecretSource {
  private readonly listeners = new Set<(secret: Buffer) => void>();
  private readonly unsubscribe: () => void;

  private constructor(bus: ClusterBus, private secret: Buffer) {
    this.unsubscribe = bus.subscribe(TOPIC.ticketSecret, (p) => {
      const next = decode(p);
      this.secret.fill(0);
      this.secret = next;
      for (const fn of this.listeners) fn(next);
    });
  }

  static async fetch(bus: ClusterBus): Promise<BusTicketSecrets> {
    return new BusTicketSecrets(bus, decode(await bus.request(TOPIC.ticketSecret, {})));
  }

  current(): Buffer {
    return this.secret;
  }

  subscribe(fn: (secret: Buffer) => void): () => void {
    this.listeners.add(fn);
    return () => void this.listeners.delete(fn);
  }

  close(): void {
    this.unsubscribe();
  }
}
