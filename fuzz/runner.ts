// The shared fuzz runner. A target runs in a worker thread so the main thread can watch it:
// - the worker publishes the index of the input it is on and how many it finished in a shared
//   counter; when that does not move for `hangMs`, the input is a hang: the worker is terminated
//   and restarted after it (sync code cannot be interrupted any other way);
// - the worker's V8 heap is capped (resourceLimits) and its RSS checked, so a memory blow-up is a
//   finding with an input index, not a dead machine;
// - anything a target throws is a finding, reported once per distinct signature.
// Inputs are generated from (seed, index) (mutate.ts), so every finding is reproducible with
// `node build/fuzz/run.js --target T --seed S --index I`.
//
// This module is also the worker's entry point (it re-runs itself with workerData).

import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { choiceRng, generateInput, type MutatorConfig } from './mutate.js';
import { targetByName, type FuzzTarget } from './targets.js';

export interface Finding {
  target: string;
  seed: number;
  index: number;
  kind: 'throw' | 'hang' | 'memory' | 'worker-died';
  message: string;
  stack?: string;
  /** The input, when small enough to be worth carrying (else reproduce it from seed and index). */
  inputBase64?: string;
  inputSize?: number;
  /** How many inputs had this signature. */
  count: number;
}

export interface RunOptions {
  target: string;
  seed: number;
  /** Stop after this many inputs (the short test counts executions, not time). */
  executions?: number;
  /** Or stop at this time (epoch ms): the long run. */
  deadline?: number;
  /** An input taking longer than this is a hang. Generous: a loaded CI machine is slow. */
  hangMs?: number;
  /** Worker heap cap and RSS ceiling. */
  memoryLimitMb?: number;
  /** Called about once a second with the executions so far. */
  onProgress?: (executions: number) => void;
}

export interface RunResult {
  target: string;
  seed: number;
  executions: number;
  findings: Finding[];
  ms: number;
  peakRssMb: number;
}

interface WorkerInput {
  postern_fuzz_worker: true;
  target: string;
  seed: number;
  start: number;
  end: number;
  deadline: number;
  memoryLimitMb: number;
  counter: SharedArrayBuffer;
}

type WorkerMessage =
  | { kind: 'finding'; finding: Omit<Finding, 'count'>; signature: string }
  | { kind: 'done'; peakRssMb: number };

/** Slots of the shared counter. */
const CURRENT = 0;
const DONE = 1;
const MAX_INPUT_IN_REPORT = 64 * 1024;

/** Mutator configuration of a target, with its seeds built. */
export async function mutatorFor(target: FuzzTarget): Promise<MutatorConfig> {
  return {
    seeds: await target.seeds(),
    dictionary: target.dictionary.map((d) => Buffer.from(d, 'latin1').toString('utf8') === d ? Buffer.from(d, 'utf8') : Buffer.from(d, 'latin1')),
    maxSize: target.maxSize,
    hugeSize: target.hugeSize,
  };
}

/** Same shape of error, same place: one finding. */
export function signatureOf(err: unknown): string {
  const e = err as Error;
  // The message up to its first colon: details after it (names, values) vary per input.
  const first = String(e?.message ?? err).split('\n')[0]!.split(':')[0]!.replace(/\d+/g, 'N').slice(0, 120);
  const frames = String(e?.stack ?? '')
    .split('\n')
    .filter((l) => l.trim().startsWith('at '))
    .slice(0, 3)
    .map((l) => l.trim().replace(/:\d+:\d+\)?$/, ''));
  return `${e?.name ?? 'Error'}: ${first} | ${frames.join(' < ')}`;
}

/** Runs one input in this thread: for reproducing a finding. Returns the error, if any. */
export async function runOne(targetName: string, seed: number, index: number): Promise<{ input: Buffer; error: unknown; ms: number }> {
  const target = targetByName(targetName);
  const cfg = await mutatorFor(target);
  const input = generateInput(cfg, seed, index);
  const t0 = performance.now();
  try {
    await target.run(input, choiceRng(seed, index));
    return { input, error: undefined, ms: performance.now() - t0 };
  } catch (error) {
    return { input, error, ms: performance.now() - t0 };
  }
}

async function workerMain(w: WorkerInput): Promise<void> {
  const counter = new Int32Array(w.counter);
  const target = targetByName(w.target);
  const cfg = await mutatorFor(target);
  const seen = new Set<string>();
  let peakRss = process.memoryUsage.rss();
  let done = Atomics.load(counter, DONE);
  for (let i = w.start; i < w.end; i++) {
    if ((i & 63) === 0) {
      if (Date.now() >= w.deadline) break;
      const rss = process.memoryUsage.rss();
      peakRss = Math.max(peakRss, rss);
      if (rss > w.memoryLimitMb * 1024 * 1024 * 1.5) {
        parentPort!.postMessage({ kind: 'finding', signature: 'rss', finding: { target: w.target, seed: w.seed, index: i - 1, kind: 'memory', message: `RSS ${Math.round(rss / 1048576)} MB after input ${i - 1}` } } satisfies WorkerMessage);
        break;
      }
    }
    Atomics.store(counter, CURRENT, i);
    const input = generateInput(cfg, w.seed, i);
    try {
      const r = target.run(input, choiceRng(w.seed, i));
      if (r) await r;
    } catch (err) {
      const signature = signatureOf(err);
      const first = !seen.has(signature);
      seen.add(signature);
      parentPort!.postMessage({
        kind: 'finding',
        signature,
        finding: {
          target: w.target,
          seed: w.seed,
          index: i,
          kind: 'throw',
          message: String((err as Error)?.message ?? err).slice(0, 2000),
          // Stack and input only the first time: the main thread counts the rest.
          stack: first ? String((err as Error)?.stack ?? '').slice(0, 4000) : undefined,
          inputBase64: first && input.length <= MAX_INPUT_IN_REPORT ? input.toString('base64') : undefined,
          inputSize: input.length,
        },
      } satisfies WorkerMessage);
    }
    Atomics.store(counter, DONE, ++done);
  }
  parentPort!.postMessage({ kind: 'done', peakRssMb: Math.round(peakRss / 1048576) } satisfies WorkerMessage);
}

/** Fuzzes one target for a number of executions or until a deadline. */
export async function runTarget(opts: RunOptions): Promise<RunResult> {
  const t0 = Date.now();
  const hangMs = opts.hangMs ?? 20_000;
  const memoryLimitMb = opts.memoryLimitMb ?? 1024;
  const end = opts.executions ?? Number.MAX_SAFE_INTEGER;
  const deadline = opts.deadline ?? Number.MAX_SAFE_INTEGER;
  const counter = new SharedArrayBuffer(8);
  const view = new Int32Array(counter);
  const findings = new Map<string, Finding>();
  let peakRssMb = 0;
  let start = 0;
  const add = (signature: string, f: Omit<Finding, 'count'>): void => {
    const old = findings.get(signature);
    if (old) old.count++;
    else findings.set(signature, { ...f, count: 1 });
  };
  // One worker per stretch of inputs: a hang or a crash ends a stretch, the next starts after it.
  while (start < end && Date.now() < deadline) {
    const stretch = await new Promise<{ next: number | null }>((resolve) => {
      Atomics.store(view, CURRENT, start);
      const worker = new Worker(new URL(import.meta.url), {
        workerData: { postern_fuzz_worker: true, target: opts.target, seed: opts.seed, start, end, deadline, memoryLimitMb, counter } satisfies WorkerInput,
        resourceLimits: { maxOldGenerationSizeMb: memoryLimitMb, maxYoungGenerationSizeMb: 64 },
        stdout: false,
        stderr: false,
      });
      let lastDone = Atomics.load(view, DONE);
      let lastMove = Date.now();
      let settled = false;
      const finish = (next: number | null): void => {
        if (settled) return;
        settled = true;
        clearInterval(watch);
        void worker.terminate();
        resolve({ next });
      };
      const watch = setInterval(() => {
        const d = Atomics.load(view, DONE);
        opts.onProgress?.(d);
        if (d !== lastDone) {
          lastDone = d;
          lastMove = Date.now();
        } else if (Date.now() - lastMove > hangMs) {
          const index = Atomics.load(view, CURRENT);
          add(`hang`, { target: opts.target, seed: opts.seed, index, kind: 'hang', message: `input ${index} ran for more than ${hangMs} ms` });
          Atomics.add(view, DONE, 1);
          finish(index + 1);
        }
      }, 250);
      worker.on('message', (m: WorkerMessage) => {
        if (m.kind === 'finding') add(m.signature, m.finding);
        else {
          peakRssMb = Math.max(peakRssMb, m.peakRssMb);
          finish(null);
        }
      });
      worker.on('error', (err) => {
        const index = Atomics.load(view, CURRENT);
        const oom = (err as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
        add(oom ? 'oom' : signatureOf(err), { target: opts.target, seed: opts.seed, index, kind: oom ? 'memory' : 'worker-died', message: String(err.message), stack: err.stack });
        Atomics.add(view, DONE, 1);
        finish(index + 1);
      });
      worker.on('exit', () => {
        if (settled) return;
        // Exited without 'done': an input left a promise that never settles and nothing else to
        // run (the event loop ran dry), which is a hang too.
        const index = Atomics.load(view, CURRENT);
        add('exit', { target: opts.target, seed: opts.seed, index, kind: 'hang', message: `input ${index} never settled (worker exited with an empty event loop)` });
        Atomics.add(view, DONE, 1);
        finish(index + 1);
      });
    });
    if (stretch.next === null) break;
    start = stretch.next;
  }
  return { target: opts.target, seed: opts.seed, executions: Atomics.load(view, DONE), findings: [...findings.values()], ms: Date.now() - t0, peakRssMb };
}

/** A finding as a short report (what the long run prints and the short test fails with). */
export function describeFinding(f: Finding): string {
  const repro = `node build/fuzz/run.js --target ${f.target} --seed ${f.seed} --index ${f.index}`;
  return `[${f.target}] ${f.kind} x${f.count} at input ${f.index} (${f.inputSize ?? '?'} bytes): ${f.message.split('\n')[0]}\n  reproduce: ${repro}${f.stack ? `\n  ${f.stack.split('\n').slice(0, 6).join('\n  ')}` : ''}`;
}

if (!isMainThread && (workerData as WorkerInput | undefined)?.postern_fuzz_worker) {
  await workerMain(workerData as WorkerInput);
}
