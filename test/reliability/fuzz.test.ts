// The short fuzz run (issue 9): every target of fuzz/targets.ts for a fixed number of executions
// (about two minutes in all on a 2-core machine), from a fixed seed so that a failure is the same on
// every run. A finding fails its target's test and prints the command that reproduces it; the long
// run is `node build/fuzz/run.js --minutes N` (`npm run fuzz`).
//   POSTERN_FUZZ_SEED   another seed (the long run prints the one it used)
//   POSTERN_FUZZ_SCALE  multiply the execution counts (e.g. 0.1 for a smoke run, 10 for a soak)

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeFinding, runTarget } from '../../fuzz/runner.js';
import { TARGETS } from '../../fuzz/targets.js';

const SEED = Number(process.env.POSTERN_FUZZ_SEED ?? 20240601) >>> 0;
const SCALE = Number(process.env.POSTERN_FUZZ_SCALE ?? 1);

/** Executions per target: roughly 15 s each, the slow targets (scrypt, openssl, files) fewer. */
const EXECUTIONS: Record<string, number> = {
  'imap-command': 4000,
  'smtp-command': 4000,
  'smtp-data': 6000,
  mime: 5000,
  sasl: 2000,
  certificate: 2500,
  config: 1000,
  'dns-tlsa': 20000,
};

describe(`fuzz targets (seed ${SEED})`, () => {
  for (const target of TARGETS) {
    const executions = Math.max(1, Math.round((EXECUTIONS[target.name] ?? 1000) * SCALE));
    it(`${target.name}: ${executions} inputs, no undocumented error, no hang, bounded memory`, { timeout: 600_000 }, async (t) => {
      const r = await runTarget({ target: target.name, seed: SEED, executions, hangMs: 20_000, memoryLimitMb: 1024 });
      t.diagnostic(`${r.target}: ${r.executions} executions in ${(r.ms / 1000).toFixed(1)} s, peak RSS ${r.peakRssMb} MB`);
      assert.equal(r.executions, executions, 'every input ran');
      assert.deepEqual(r.findings.map(describeFinding), [], 'findings');
    });
  }
});
