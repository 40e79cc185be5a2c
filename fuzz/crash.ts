// Long crash-consistency run: `node build/fuzz/crash.js [--rounds 50] [--min-ms 300] [--max-ms 2500]`.
// Same checks as test/reliability/crash-consistency.test.ts, more rounds; prints each round and
// every problem, exit status 1 when there was one. The data directory is kept when something failed.

import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { crashConsistency } from '../test/reliability/crash-consistency.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '50' }, 'min-ms': { type: 'string', default: '300' }, 'max-ms': { type: 'string', default: '2500' } } });
const t0 = Date.now();
const r = await crashConsistency({ rounds: Number(values.rounds), minLoadMs: Number(values['min-ms']), maxLoadMs: Number(values['max-ms']), log: (l) => console.log(l) });
console.log(`${r.rounds} kills in ${((Date.now() - t0) / 1000).toFixed(0)} s; ${r.acknowledged} operations acknowledged; ${r.messages} messages at the end`);
for (const p of r.problems) console.log(`PROBLEM ${p}`);
if (r.problems.length) console.log(`data directory kept: ${r.dir}`);
else rmSync(r.dir, { recursive: true, force: true });
process.exit(r.problems.length ? 1 : 0);
