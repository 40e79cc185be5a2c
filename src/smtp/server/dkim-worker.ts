// Worker thread entry: signs the messages sent by dkim-sign.ts. A message in memory comes whole
// (`sign`); one read from files is streamed as a job: `start` (keys, domain), `chunk`s in order,
// then `end` (or `abort`). The answer is the signature fields or an error message. Jobs interleave
// freely.

import { parentPort } from 'node:worker_threads';
import { DkimSigning } from './dkim-signer.js';
import type { ToWorker } from './dkim-sign.js';

const jobs = new Map<number, { signing: DkimSigning | null; error: string | null }>();
const port = parentPort!;

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

port.on('message', (m: ToWorker) => {
  switch (m.t) {
    case 'sign':
      try {
        const signing = new DkimSigning(m.keys, m.domain);
        signing.push(m.data);
        port.postMessage({ id: m.id, t: 'done', fields: signing.finish() });
      } catch (err) {
        port.postMessage({ id: m.id, t: 'error', error: errorText(err) });
      }
      return;
    case 'start':
      try {
        jobs.set(m.id, { signing: new DkimSigning(m.keys, m.domain), error: null });
      } catch (err) {
        // Reported at `end`: the sender streams the message regardless.
        jobs.set(m.id, { signing: null, error: errorText(err) });
      }
      return;
    case 'chunk': {
      const job = jobs.get(m.id);
      if (job?.signing && !job.error) {
        try {
          job.signing.push(m.data);
        } catch (err) {
          job.error = errorText(err);
        }
      }
      if (m.ack) port.postMessage({ id: m.id, t: 'ack' });
      return;
    }
    case 'abort':
      jobs.delete(m.id);
      return;
    case 'end': {
      const job = jobs.get(m.id);
      jobs.delete(m.id);
      if (!job) return port.postMessage({ id: m.id, t: 'error', error: 'unknown DKIM job' });
      try {
        if (job.error !== null || !job.signing) throw new Error(job.error ?? 'no signer');
        port.postMessage({ id: m.id, t: 'done', fields: job.signing.finish() });
      } catch (err) {
        port.postMessage({ id: m.id, t: 'error', error: errorText(err) });
      }
    }
  }
});
