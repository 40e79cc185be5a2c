// The bus of a worker process: everything goes to the primary over the IPC channel; the primary
// relays publishes to the other workers and answers requests (ipc-hub.ts).

import type { Logger } from '../log/logger.js';
import { ClusterError, encodePayload, type BusHandler, type BusListener, type ClusterBus } from './bus.js';
import { BoundedSender, isEnvelope, pubEnvelope, type Envelope } from './ipc-channel.js';
import { MAX_PENDING_REQUESTS, REQUEST_TIMEOUT_MS } from './limits.js';
import { TopicListeners } from './topic-listeners.js';

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

export class IpcWorkerBus implements ClusterBus {
  private readonly listeners: TopicListeners;
  private readonly pending = new Map<number, Pending>();
  private readonly sender: BoundedSender;
  private nextId = 1;
  private closed = false;
  private readonly onMessage = (m: unknown): void => {
    if (isEnvelope(m)) this.receive(m);
  };
  private readonly detach: () => void;

  constructor(
    readonly id: number,
    private readonly log: Logger,
    proc: NodeJS.Process = process,
  ) {
    if (!proc.send) throw new Error('not a child process with an IPC channel');
    this.listeners = new TopicListeners(log);
    const send = proc.send.bind(proc);
    this.sender = new BoundedSender((msg, cb) => send(msg, undefined, {}, cb));
    proc.on('message', this.onMessage);
    this.detach = () => void proc.off('message', this.onMessage);
  }

  publish(topic: string, payload: unknown, key?: string): void {
    const j = this.encode(topic, payload);
    if (j !== null) this.send(pubEnvelope(topic, j, undefined, key), topic);
  }

  async want(topic: string, key: string, on: boolean): Promise<void> {
    await this.ask(topic, (i) => ({ pb: 'want', t: topic, k: key, on, i }));
  }

  subscribe(topic: string, fn: BusListener): () => void {
    return this.listeners.subscribe(topic, fn);
  }

  request(topic: string, payload: unknown): Promise<unknown> {
    let j: string;
    try {
      j = encodePayload(topic, payload);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.ask(topic, (i) => ({ pb: 'req', t: topic, j, i }));
  }

  /** Sends the message made for a new request id and resolves with the coordinator's reply. */
  private ask(topic: string, message: (id: number) => Envelope): Promise<unknown> {
    if (this.closed) return Promise.reject(new ClusterError('CLOSED', 'cluster bus closed'));
    if (this.pending.size >= MAX_PENDING_REQUESTS) return Promise.reject(new ClusterError('BUSY', `more than ${MAX_PENDING_REQUESTS} cluster requests waiting`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ClusterError('TIMEOUT', `no answer to ${topic} in ${REQUEST_TIMEOUT_MS} ms`));
      }, REQUEST_TIMEOUT_MS);
      timer.unref();
      this.pending.set(id, { resolve, reject, timer });
      if (!this.sender.send(message(id))) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new ClusterError('BUSY', 'cluster channel backed up'));
      }
    });
  }

  notify(topic: string, payload: unknown): void {
    const j = this.encode(topic, payload);
    if (j !== null) this.send({ pb: 'note', t: topic, j }, topic);
  }

  handle(_topic: string, _fn: BusHandler): () => void {
    throw new Error('a worker does not answer cluster requests: the primary does');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.detach();
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new ClusterError('CLOSED', 'cluster bus closed'));
    }
    this.pending.clear();
  }

  private encode(topic: string, payload: unknown): string | null {
    try {
      return encodePayload(topic, payload);
    } catch (err) {
      this.log.error('cluster message dropped', { topic, err });
      return null;
    }
  }

  private send(msg: Envelope, topic: string): void {
    if (this.closed) return;
    if (!this.sender.send(msg)) this.log.warn('cluster message dropped: channel to the primary backed up or closed', { topic, dropped: this.sender.dropped });
  }

  private receive(m: Envelope): void {
    if (m.pb === 'rep') {
      const p = this.pending.get(m.i);
      if (!p) return;
      this.pending.delete(m.i);
      clearTimeout(p.timer);
      if (m.e) p.reject(new ClusterError(m.e.code, m.e.message));
      else p.resolve(m.j === undefined ? null : JSON.parse(m.j));
      return;
    }
    if (m.pb !== 'pub') return;
    this.listeners.deliver(m.t, m.j, m.f ?? 0);
  }
}
