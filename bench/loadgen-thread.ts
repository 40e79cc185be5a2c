// A worker thread of bench/imap-loadgen.ts: runs its share of the clients (loadgen-session.ts) on its
// own event loop, so that the generator can use more than one core when one is not enough, and the
// main thread, which reads the servers' CPU counters, is never busy with load.
// Messages: in {job}; out 'ready'; in 'start'; out {result} or {error}.
import { parentPort, workerData } from 'node:worker_threads';
import { runJob, type LoadgenJob } from './loadgen-session.js';

const port = parentPort!;
const job = workerData as LoadgenJob;
let go!: () => void;
const start = new Promise<void>((resolve) => (go = resolve));
port.on('message', (m) => {
  if (m === 'start') go();
});
runJob(job, () => port.postMessage('ready'), start).then(
  (result) => port.postMessage({ result }),
  (err: unknown) => port.postMessage({ error: String((err as Error)?.stack ?? err) }),
);
