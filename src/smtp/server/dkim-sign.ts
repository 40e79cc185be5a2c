// DKIM signatures for submitted mail, made in worker threads. An RSA-2048 signature costs about
// half a millisecond of CPU, and the body must be canonicalized and hashed: on the event loop that
// held up every connection, and on libuv's thread pool a dozen concurrent signatures pushed the
// event loop itself off the cores. A small set of workers (one on a 2-core machine) signs instead;
// the event loop only copies the message's bytes over, in the chunks it reads anyway.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { DkimKeyConfig } from '../../config/types.js';
import type { MessageSource } from '../../delivery/message-source.js';
import type { SigningKey } from './dkim-signer.js';

export { DKIM_SIGNED_FIELDS } from './dkim-signer.js';

/** Messages from the event loop to a worker (dkim-worker.ts). */
export type ToWorker =
  | { t: 'sign'; id: number; keys: SigningKey[]; domain: string; data: Uint8Array }
  | { t: 'start'; id: number; keys: SigningKey[]; domain: string }
  | { t: 'chunk'; id: number; data: Uint8Array; ack: boolean }
  | { t: 'end'; id: number }
  | { t: 'abort'; id: number };

type FromWorker = { id: number; t: 'ack' } | { id: number; t: 'done'; fields: string } | { id: number; t: 'error'; error: string };

/** Bytes of one message sent but not yet hashed, past which the sender waits (a big message is
 * read from its file faster than it is hashed). */
const IN_FLIGHT_BYTES = 1024 * 1024;

interface Waiter {
  resolve(m: FromWorker): void;
  reject(err: Error): void;
}

class SignerThread {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, Waiter>();
  dead = false;

  constructor() {
    this.worker = new Worker(new URL('./dkim-worker.js', import.meta.url));
    // Idle workers do not keep the process alive; a pending job does (see `request`).
    this.worker.unref();
    this.worker.on('message', (m: FromWorker) => {
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      this.sync();
      w?.resolve(m);
    });
    const fail = (err: Error) => {
      this.dead = true;
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`DKIM worker exited with code ${code}`)));
  }

  get load(): number {
    return this.waiting.size;
  }

  send(m: ToWorker, transfer?: ArrayBuffer[]): void {
    if (this.dead) throw new Error('DKIM worker is gone');
    this.worker.postMessage(m, transfer);
  }

  /** Sends `m` and resolves with the worker's answer to it. */
  request({ m, transfer }: { m: ToWorker; transfer?: ArrayBuffer[] }): Promise<FromWorker> {
    return new Promise((resolve, reject) => {
      if (this.dead) return reject(new Error('DKIM worker is gone'));
      this.waiting.set(m.id, { resolve, reject });
      this.sync();
      this.worker.postMessage(m, transfer);
    });
  }

  /** Referenced while answers are awaited, so the process waits for them. */
  private sync(): void {
    if (this.waiting.size) this.worker.ref();
    else this.worker.unref();
  }
}

const threads: SignerThread[] = [];
/** Leave a core to the event loop; more than four signers would not be kept busy by one loop. */
const THREADS = Math.max(1, Math.min(4, availableParallelism() - 1));
let nextId = 1;

function thread(): SignerThread {
  for (let i = threads.length - 1; i >= 0; i--) if (threads[i]!.dead) threads.splice(i, 1);
  if (threads.length < THREADS) {
    const t = new SignerThread();
    threads.push(t);
    return t;
  }
  return threads.reduce((a, b) => (b.load < a.load ? b : a));
}

/**
 * DKIM-Signature fields (folded, ending in CRLF) for the message, one per configured key of
 * `domain`, in key order; '' when the domain has no keys. Rejects when signing fails (a missing or
 * bad key file, a message without From).
 */
export async function dkimSignatures(keys: readonly DkimKeyConfig[] | undefined, domain: string, message: MessageSource): Promise<string> {
  if (!keys || keys.length === 0) return '';
  const t = thread();
  const id = nextId++;
  const signingKeys = keys.map((k) => ({ selector: k.selector, keyFile: k.keyFile }));
  // A message held in memory (the usual case) goes over in one piece: one wake-up of the worker.
  const r = message.parts.every((p) => Buffer.isBuffer(p))
    ? await t.request(signRequest(id, signingKeys, domain, message.parts as Buffer[], message.size))
    : await streamed(t, id, signingKeys, domain, message);
  if (r.t === 'error') throw new Error(r.error);
  if (r.t !== 'done') throw new Error('DKIM worker: unexpected answer');
  return r.fields;
}

function signRequest(id: number, keys: SigningKey[], domain: string, parts: Buffer[], size: number): { m: ToWorker; transfer: ArrayBuffer[] } {
  const data = new Uint8Array(size);
  let o = 0;
  for (const p of parts) {
    data.set(p, o);
    o += p.length;
  }
  return { m: { t: 'sign', id, keys, domain, data }, transfer: [data.buffer] };
}

/** A message (partly) in files, sent as it is read. */
async function streamed(t: SignerThread, id: number, keys: SigningKey[], domain: string, message: MessageSource): Promise<FromWorker> {
  t.send({ t: 'start', id, keys, domain });
  let unacked = 0;
  try {
    for await (const chunk of message.chunks()) {
      // A copy of exactly the chunk (a Buffer may view a much larger pool), handed over whole.
      const data = new Uint8Array(chunk);
      unacked += data.length;
      const ack = unacked >= IN_FLIGHT_BYTES;
      const m: ToWorker = { t: 'chunk', id, data, ack };
      if (!ack) {
        t.send(m, [data.buffer]);
        continue;
      }
      await t.request({ m, transfer: [data.buffer] });
      unacked = 0;
    }
  } catch (err) {
    if (!t.dead) t.send({ t: 'abort', id });
    throw err;
  }
  return t.request({ m: { t: 'end', id } });
}
