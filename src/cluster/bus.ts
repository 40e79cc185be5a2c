// The process layer's interface. Several processes serve one data directory; what one of them does
// that the others must know (a mailbox changed, a secret rotated, a connection counted) crosses
// between them as messages on this bus. One process is the coordinator: it answers requests and
// holds the state that must be counted once (connection counts, session-ticket secrets). Today
// the transport is node:cluster's IPC channel, relayed by the primary process (ipc-*.ts); a
// transport between hosts (PostgreSQL LISTEN/NOTIFY) implements the same interface. Payloads are
// JSON values; callers never learn which transport carried them.

import { MAX_MESSAGE_BYTES } from './limits.js';

export type BusHandler = (payload: unknown, from: number) => unknown;
export type BusListener = (payload: unknown, from: number) => void;

export interface ClusterBus {
  /** This process on the bus: 0 for the coordinator (and a process on its own), else a worker id. */
  readonly id: number;
  /**
   * Delivers `payload` to the subscribers of `topic` in every OTHER process (never back to this
   * one: the caller has already acted locally). Fire and forget: it never throws for delivery;
   * a message over the size cap or to a backed-up channel is dropped and logged.
   */
  publish(topic: string, payload: unknown, key?: string): void;
  /**
   * Keyed publishes (`publish(topic, payload, key)`) reach only the processes that want that key
   * of the topic (a worker wants the changes of the accounts it has sessions of), so a process is
   * not woken for traffic it would drop. `on`: resolves once the coordinator routes the key here,
   * i.e. every keyed publish made after it resolves reaches this process; `off` when the last use
   * ends. Unkeyed publishes reach every process as before.
   */
  want(topic: string, key: string, on: boolean): Promise<void>;
  /** Listens to other processes' publishes on `topic`; returns the unsubscribe function. */
  subscribe(topic: string, fn: BusListener): () => void;
  /** Asks the coordinator's handler of `topic`; rejects with a ClusterError (no handler, timeout, busy, too large). */
  request(topic: string, payload: unknown): Promise<unknown>;
  /** A one-way message to the coordinator's handler of `topic` (its answer is dropped). */
  notify(topic: string, payload: unknown): void;
  /** Coordinator only: answers request() and notify() for `topic` (one handler per topic). */
  handle(topic: string, fn: BusHandler): () => void;
  close(): void;
}

export type ClusterErrorCode = 'TOO_LARGE' | 'BUSY' | 'TIMEOUT' | 'NO_HANDLER' | 'CLOSED' | 'REMOTE';

export class ClusterError extends Error {
  constructor(readonly code: ClusterErrorCode, message: string) {
    super(message);
    this.name = 'ClusterError';
  }
}

/** The payload as JSON, or a TOO_LARGE error when it is over the cap. */
export function encodePayload(topic: string, payload: unknown): string {
  const json = JSON.stringify(payload ?? null);
  // UTF-16 length is a lower bound of the UTF-8 size: only a long string needs the exact count.
  if (json.length > MAX_MESSAGE_BYTES / 3 && Buffer.byteLength(json) > MAX_MESSAGE_BYTES) {
    throw new ClusterError('TOO_LARGE', `cluster message on ${topic} is larger than ${MAX_MESSAGE_BYTES} bytes`);
  }
  return json;
}

/**
 * A process on its own (`--workers 1`, tests, the CLI): it is the coordinator, and there is nobody
 * to publish to. Requests reach this process's own handlers, so code written for the cluster works
 * unchanged; payloads still go through JSON so that what works here works over a real transport.
 */
export class LocalBus implements ClusterBus {
  readonly id = 0;
  private readonly handlers = new Map<string, BusHandler>();
  private closed = false;

  publish(_topic: string, _payload: unknown, _key?: string): void {}

  subscribe(_topic: string, _fn: BusListener): () => void {
    return () => {};
  }

  /** Nobody else to route to. */
  async want(_topic: string, _key: string, _on: boolean): Promise<void> {}

  async request(topic: string, payload: unknown): Promise<unknown> {
    if (this.closed) throw new ClusterError('CLOSED', 'cluster bus closed');
    const h = this.handlers.get(topic);
    if (!h) throw new ClusterError('NO_HANDLER', `no handler for ${topic}`);
    const answer = await h(JSON.parse(encodePayload(topic, payload)), this.id);
    return answer === undefined ? null : JSON.parse(encodePayload(topic, answer));
  }

  notify(topic: string, payload: unknown): void {
    void this.request(topic, payload).catch(() => {});
  }

  handle(topic: string, fn: BusHandler): () => void {
    if (this.handlers.has(topic)) throw new Error(`two handlers for ${topic}`);
    this.handlers.set(topic, fn);
    return () => void this.handlers.delete(topic);
  }

  close(): void {
    this.closed = true;
  }
}
