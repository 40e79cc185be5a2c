// The primary's side of the IPC transport: it is the coordinator (bus id 0). A worker's publish is
// delivered to the primary's own subscribers and relayed, unparsed, to every other worker; a
// worker's request or notify goes to the handler registered here.

import type { Worker } from 'node:cluster';
import type { Logger } from '../log/logger.js';
import { ClusterError, encodePayload, type BusHandler, type BusListener, type ClusterBus } from './bus.js';
import { BoundedSender, isEnvelope, pubEnvelope, type Envelope } from './ipc-channel.js';
import { TopicListeners } from './topic-listeners.js';

interface Attached {
  worker: Worker;
  sender: BoundedSender;
  detach(): void;
  /** The keys of keyed topics this worker wants, as `topic key` (bus.ts want). */
  wanted: Set<string>;
}

export class IpcHub implements ClusterBus {
  readonly id = 0;
  private readonly workers = new Map<number, Attached>();
  private readonly listeners: TopicListeners;
  private readonly handlers = new Map<string, BusHandler>();
  private closed = false;

  constructor(private readonly log: Logger) {
    this.listeners = new TopicListeners(log);
  }

  /** Starts carrying a forked worker's messages. */
  attach(worker: Worker): void {
    const send = worker.send.bind(worker);
    const sender = new BoundedSender((msg, cb) => send(msg, undefined, {}, cb));
    const onMessage = (m: unknown): void => {
      if (isEnvelope(m)) this.receive(worker.id, m);
    };
    worker.on('message', onMessage);
    this.workers.set(worker.id, { worker, sender, detach: () => void worker.off('message', onMessage), wanted: new Set() });
  }

  /** The worker exited: nothing more goes to it. */
  detach(workerId: number): void {
    this.workers.get(workerId)?.detach();
    this.workers.delete(workerId);
  }

  publish(topic: string, payload: unknown, key?: string): void {
    let j: string;
    try {
      j = encodePayload(topic, payload);
    } catch (err) {
      this.log.error('cluster message dropped', { topic, err });
      return;
    }
    this.relay(pubEnvelope(topic, j, 0, key), 0);
  }

  /** The coordinator itself takes every keyed publish (it has no sessions to want them for). */
  async want(_topic: string, _key: string, _on: boolean): Promise<void> {}

  subscribe(topic: string, fn: BusListener): () => void {
    return this.listeners.subscribe(topic, fn);
  }

  async request(topic: string, payload: unknown): Promise<unknown> {
    if (this.closed) throw new ClusterError('CLOSED', 'cluster bus closed');
    const h = this.handlers.get(topic);
    if (!h) throw new ClusterError('NO_HANDLER', `no handler for ${topic}`);
    return (await h(JSON.parse(encodePayload(topic, payload)), 0)) ?? null;
  }

  notify(topic: string, payload: unknown): void {
    void this.request(topic, payload).catch((err) => this.log.error('cluster notify failed', { topic, err }));
  }

  handle(topic: string, fn: BusHandler): () => void {
    if (this.handlers.has(topic)) throw new Error(`two handlers for ${topic}`);
    this.handlers.set(topic, fn);
    return () => void this.handlers.delete(topic);
  }

  close(): void {
    this.closed = true;
    for (const id of [...this.workers.keys()]) this.detach(id);
  }

  private relay(msg: Envelope, except: number): void {
    const wantedAs = msg.pb === 'pub' && msg.k !== undefined ? `${msg.t} ${msg.k}` : null;
    for (const [id, w] of this.workers) {
      if (id === except || !w.worker.isConnected()) continue;
      if (wantedAs !== null && !w.wanted.has(wantedAs)) continue;
      if (!w.sender.send(msg)) this.log.warn('cluster message dropped: channel to a worker backed up', { worker: id, pid: w.worker.process.pid, dropped: w.sender.dropped });
    }
  }

  private receive(from: number, m: Envelope): void {
    if (this.closed) return;
    if (m.pb === 'pub') {
      this.relay(pubEnvelope(m.t, m.j, from, m.k), from);
      this.listeners.deliver(m.t, m.j, from);
      return;
    }
    if (m.pb === 'want') {
      // Routed before the reply is sent: a keyed publish this process handles after this one
      // reaches the worker, and the worker reads the store only once it has the reply (so it
      // misses nothing committed before, and is sent everything committed after).
      const w = this.workers.get(from);
      if (w) {
        if (m.on) w.wanted.add(`${m.t} ${m.k}`);
        else w.wanted.delete(`${m.t} ${m.k}`);
      }
      this.reply(from, { pb: 'rep', i: m.i });
      return;
    }
    if (m.pb !== 'req' && m.pb !== 'note') return;
    const h = this.handlers.get(m.t);
    const answer = async (): Promise<string> => {
      if (!h) throw new ClusterError('NO_HANDLER', `no handler for ${m.t}`);
      const v = await h(JSON.parse(m.j), from);
      return m.pb === 'req' ? encodePayload(m.t, v ?? null) : '';
    };
    void answer().then(
      (j) => {
        if (m.pb === 'req') this.reply(from, { pb: 'rep', i: m.i, j });
      },
      (err: unknown) => {
        if (m.pb === 'req') {
          const code = err instanceof ClusterError ? err.code : 'REMOTE';
          this.reply(from, { pb: 'rep', i: m.i, e: { code, message: err instanceof Error ? err.message : String(err) } });
        } else {
          this.log.error('cluster notify failed', { topic: m.t, worker: from, err });
        }
      },
    );
  }

  private reply(to: number, msg: Envelope): void {
    const w = this.workers.get(to);
    if (w && w.worker.isConnected()) w.sender.send(msg);
  }
}
