// Several "processes" in one: buses linked in memory, for tests of what crosses the bus. Messages
// go through JSON and arrive asynchronously (a later task), as over a real transport.

import { ClusterError, encodePayload, type BusHandler, type BusListener, type ClusterBus } from './bus.js';
import { TopicListeners } from './topic-listeners.js';

export class MemoryCluster {
  readonly buses: MemoryBus[] = [];
  readonly handlers = new Map<string, BusHandler>();

  /** Bus 0 is the coordinator. */
  constructor(count: number) {
    for (let i = 0; i < count; i++) this.buses.push(new MemoryBus(i, this));
  }
}

class MemoryBus implements ClusterBus {
  readonly listeners = new TopicListeners();
  closed = false;

  constructor(
    readonly id: number,
    private readonly cluster: MemoryCluster,
  ) {}

  /** Keys of keyed topics this bus wants, as `topic key`. */
  readonly wanted = new Set<string>();

  publish(topic: string, payload: unknown, key?: string): void {
    const j = encodePayload(topic, payload);
    for (const b of this.cluster.buses) {
      if (b === this || b.closed) continue;
      if (key !== undefined && !b.wanted.has(`${topic} ${key}`)) continue;
      setImmediate(() => {
        b.listeners.deliver(topic, j, this.id);
      });
    }
  }

  subscribe(topic: string, fn: BusListener): () => void {
    return this.listeners.subscribe(topic, fn);
  }

  async want(topic: string, key: string, on: boolean): Promise<void> {
    // Routed at once: publishes made after this call see it (a later task than any before).
    if (on) this.wanted.add(`${topic} ${key}`);
    else this.wanted.delete(`${topic} ${key}`);
    await new Promise((r) => setImmediate(r));
  }

  async request(topic: string, payload: unknown): Promise<unknown> {
    if (this.closed) throw new ClusterError('CLOSED', 'cluster bus closed');
    const j = encodePayload(topic, payload);
    await new Promise((r) => setImmediate(r));
    const h = this.cluster.handlers.get(topic);
    if (!h) throw new ClusterError('NO_HANDLER', `no handler for ${topic}`);
    return JSON.parse(encodePayload(topic, (await h(JSON.parse(j), this.id)) ?? null));
  }

  notify(topic: string, payload: unknown): void {
    void this.request(topic, payload).catch(() => {});
  }

  handle(topic: string, fn: BusHandler): () => void {
    if (this.id !== 0) throw new Error('only the coordinator answers');
    this.cluster.handlers.set(topic, fn);
    return () => void this.cluster.handlers.delete(topic);
  }

  close(): void {
    this.closed = true;
  }
}
