// The password hash pool: scrypt for PLAIN, LOGIN and web logins on its own worker threads, with a
// bounded queue.
//
// Why not crypto.scrypt: it runs on libuv's thread pool, the same threads that do every fs call
// (message file writes, fsyncs, reads). A login flood of 32 MiB, ~100 ms scrypt runs would fill
// that pool and queue each APPEND's fsync behind it. Here hashing gets `workers` threads of its own
// (one by default on two cores, so a core stays for the event loop and fs; at a lower CPU priority,
// HASH_THREAD_NICE), and at most
// `maxQueued` verifications wait; beyond that a new one is refused at once with HashPoolBusyError,
// which the protocols answer with a temporary failure (IMAP NO [UNAVAILABLE], SMTP 454 4.7.0,
// web 503), as Dovecot's auth process refuses when its worker queue is full.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/** One scrypt run, as sent to a worker. `password` is a private copy the worker wipes. */
export interface HashJob {
  id: number;
  password: Uint8Array;
  salt: Uint8Array;
  keyLength: number;
  N: number;
  r: number;
  p: number;
  maxmem: number;
}

export type HashReply = { id: number; key: Uint8Array } | { id: number; error: string };

export interface HashWorkerData {
  /** Nice value of the hashing thread (Linux). */
  nice: number;
}

/**
 * Hashing threads run at this nice value (Linux: per thread), so that on a busy machine the event
 * loop and the fs threads, which acknowledge mail, get the CPU first; with an idle core, hashing
 * still gets all of it.
 */
export const HASH_THREAD_NICE = 10;

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
  keyLength: number;
}

/** Threads for hashing: all cores but one for the event loop and fs, at least one, at most four. */
export const DEFAULT_HASH_WORKERS = Math.max(1, Math.min(4, availableParallelism() - 1));
/**
 * Verifications that may wait per worker. At ~100 ms each, 16 per worker bound the wait of a
 * queued login to about two seconds (a few mail clients starting at once all get through); more
 * would only keep clients waiting for an answer that a retry gets as fast.
 */
export const HASH_QUEUE_PER_WORKER = 16;

/** Thrown when the queue is full: answer a temporary failure, do not count a failed login. */
export class HashPoolBusyError extends Error {
  override name = 'HashPoolBusyError';
  readonly code = 'HASH_POOL_BUSY';
  constructor() {
    super('password hashing is busy');
  }
}

export interface HashPoolOptions {
  workers?: number;
  /** Verifications waiting for a worker (not counting the running ones). */
  maxQueued?: number;
}

interface Pending {
  job: HashJob;
  resolve(key: Buffer): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  current: Pending | null;
}

export class HashPool {
  readonly workers: number;
  readonly maxQueued: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;

  constructor(opts: HashPoolOptions = {}) {
    this.workers = Math.max(1, opts.workers ?? DEFAULT_HASH_WORKERS);
    this.maxQueued = Math.max(0, opts.maxQueued ?? this.workers * HASH_QUEUE_PER_WORKER);
  }

  /** Running and waiting verifications. */
  get load(): { running: number; queued: number } {
    return { running: this.slots.filter((s) => s.current !== null).length, queued: this.queue.length };
  }

  /** scrypt on a pool thread. Throws HashPoolBusyError at once when the queue is full. */
  scrypt(password: Uint8Array, salt: Uint8Array, params: ScryptParams): Promise<Buffer> {
    if (this.closed) return Promise.reject(new Error('hash pool closed'));
    const idle = this.idleSlot();
    if (!idle && this.queue.length >= this.maxQueued) return Promise.reject(new HashPoolBusyError());
    const job: HashJob = {
      id: this.nextId++,
      // A copy: the caller's buffer stays the caller's, and the worker wipes its own.
      password: Uint8Array.from(password),
      salt: Uint8Array.from(salt),
      keyLength: params.keyLength,
      N: params.N,
      r: params.r,
      p: params.p,
      // The memory the parameters need (128*N*r) with headroom; Node's default cap is 32 MiB.
      maxmem: 256 * params.N * params.r + 1024 * 1024,
    };
    return new Promise<Buffer>((resolve, reject) => {
      const pending: Pending = { job, resolve, reject };
      if (idle) this.run(idle, pending);
      else this.queue.push(pending);
    });
  }

  /** Ends the worker threads; waiting and running verifications are refused. */
  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.reject(new Error('hash pool closed'));
    await Promise.all(this.slots.splice(0).map((s) => {
      s.current?.reject(new Error('hash pool closed'));
      return s.worker.terminate();
    }));
  }

  /** An idle worker, started on first need (a process that never verifies a password has none). */
  private idleSlot(): Slot | null {
    const idle = this.slots.find((s) => s.current === null);
    if (idle) return idle;
    if (this.slots.length < this.workers) {
      const slot = this.spawn();
      this.slots.push(slot);
      return slot;
    }
    return null;
  }

  private spawn(): Slot {
    const data: HashWorkerData = { nice: HASH_THREAD_NICE };
    const worker = new Worker(new URL('./hash-worker.js', import.meta.url), { workerData: data });
    const slot: Slot = { worker, current: null };
    worker.unref(); // an idle pool never keeps the process alive; run() refs it while busy
    worker.on('message', (reply: HashReply) => {
      const p = slot.current;
      if (!p || p.job.id !== reply.id) return;
      slot.current = null;
      if ('key' in reply) p.resolve(Buffer.from(reply.key));
      else p.reject(Object.assign(new Error('scrypt failed'), { code: reply.error }));
      this.next(slot);
    });
    const lost = (err: Error) => {
      // A worker that died (out of memory, terminated) is replaced on the next job.
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      slot.current?.reject(err);
      slot.current = null;
      const p = this.queue.shift();
      if (p && !this.closed) {
        const s = this.idleSlot();
        if (s) this.run(s, p);
        else this.queue.unshift(p);
      }
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`hash worker exited with code ${code}`)));
    return slot;
  }

  private run(slot: Slot, p: Pending): void {
    slot.current = p;
    slot.worker.ref();
    slot.worker.postMessage(p.job);
    p.job.password.fill(0); // postMessage cloned it; our copy is not needed any more
  }

  private next(slot: Slot): void {
    const p = this.queue.shift();
    if (p) this.run(slot, p);
    else slot.worker.unref();
  }
}
