// The long fuzz run: `node build/fuzz/run.js --minutes N` (what `npm run fuzz` runs from dist/).
// Splits the time between the targets by weight, runs two targets at a time (one per core), prints
// executions per target and every finding with the command that reproduces it. Exit status 1 when
// something was found.
//
//   --minutes N        total time (default 10)
//   --target NAME      only this target (repeatable)
//   --seed S           run seed (default: random; printed)
//   --index I          with --target and --seed: run input I alone and print the outcome
//   --dump FILE        with --index: write that input to FILE
//   --parallel P       targets at a time (default 2)

import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { describeFinding, runOne, runTarget, type RunResult } from './runner.js';
import { TARGETS, targetByName } from './targets.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    target: { type: 'string', multiple: true },
    seed: { type: 'string' },
    index: { type: 'string' },
    dump: { type: 'string' },
    parallel: { type: 'string', default: '2' },
  },
});

const seed = values.seed !== undefined ? Number(values.seed) >>> 0 : (Math.random() * 0x1_0000_0000) >>> 0;

if (values.index !== undefined) {
  const [name] = values.target ?? [];
  if (!name || values.seed === undefined) throw new Error('--index needs --target and --seed');
  const r = await runOne(name, seed, Number(values.index));
  if (values.dump) writeFileSync(values.dump, r.input);
  console.log(`input ${values.index}: ${r.input.length} bytes, ${r.ms.toFixed(1)} ms`);
  if (r.error) {
    console.log((r.error as Error)?.stack ?? String(r.error));
    process.exit(1);
  }
  console.log('no error');
  process.exit(0);
}

const targets = (values.target ?? TARGETS.map((t) => t.name)).map(targetByName);
const totalMs = Number(values.minutes) * 60_000;
const parallel = Math.max(1, Number(values.parallel));
const weightSum = targets.reduce((s, t) => s + t.weight, 0);
console.log(`fuzzing ${targets.map((t) => t.name).join(', ')} for ${values.minutes} min, seed ${seed}`);

// Each target gets a share of the time proportional to its weight; `parallel` of them run at once.
const queue = targets.map((t) => ({ t, ms: (totalMs * parallel * t.weight) / weightSum }));
const results: RunResult[] = [];
const started = Date.now();
async function lane(): Promise<void> {
  for (let job = queue.shift(); job; job = queue.shift()) {
    const deadline = Math.min(Date.now() + job.ms, started + totalMs + 5_000);
    const r = await runTarget({ target: job.t.name, seed, deadline });
    results.push(r);
    console.log(`${r.target}: ${r.executions} executions in ${(r.ms / 1000).toFixed(0)} s (${Math.round(r.executions / (r.ms / 1000))}/s), peak RSS ${r.peakRssMb} MB, ${r.findings.length} finding(s)`);
    for (const f of r.findings) console.log(describeFinding(f));
  }
}
await Promise.all(Array.from({ length: parallel }, lane));

console.log('\nexecutions per target:');
for (const r of results) console.log(`  ${r.target.padEnd(14)} ${String(r.executions).padStart(10)}`);
const total = results.reduce((s, r) => s + r.executions, 0);
const findings = results.flatMap((r) => r.findings);
console.log(`  ${'total'.padEnd(14)} ${String(total).padStart(10)}\nseed ${seed}; ${findings.length} finding(s)`);
process.exit(findings.length ? 1 : 0);
