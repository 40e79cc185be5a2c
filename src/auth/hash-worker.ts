// Worker thread of the password hash pool (hash-pool.ts): runs one scrypt at a time, synchronously,
// on its own thread. scrypt here never takes a slot of libuv's thread pool, which fs (message
// writes, fsyncs, reads) needs; see hash-pool.ts for why.

import { scryptSync } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { HashJob, HashReply, HashWorkerData } from './hash-pool.js';

if (!parentPort) throw new Error('hash-worker.js runs only as a worker thread');
const port = parentPort;

// Linux keeps a nice value per thread, and setpriority() with a thread id sets that thread's alone:
// hashing then yields the CPU to the event loop and the fs threads when they want it. Elsewhere (no
// /proc/thread-self) the thread runs at the process's priority.
try {
  const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  if (Number.isInteger(tid) && tid > 0) setPriority(tid, (workerData as HashWorkerData).nice);
} catch {
  // not Linux, or not allowed: same priority as the event loop
}

port.on('message', (job: HashJob) => {
  let reply: HashReply;
  try {
    const key = scryptSync(job.password, job.salt, job.keyLength, { N: job.N, r: job.r, p: job.p, maxmem: job.maxmem });
    reply = { id: job.id, key: new Uint8Array(key) };
  } catch (err) {
    // Bad parameters from a damaged stored verifier; the message never holds the password.
    reply = { id: job.id, error: (err as { code?: string }).code ?? 'ERR_CRYPTO_SCRYPT' };
  } finally {
    // The copy of the password sent to us: not left in this heap longer than needed.
    job.password.fill(0);
  }
  port.postMessage(reply);
});
