// Runs every compiled *.test.js under dist/ with node:test. Files are listed explicitly because
// Node 20 takes directories and Node 22+ takes globs as `--test` arguments.
// Usage: node scripts/run-tests.mjs [substring-filter...]
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function find(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}
const filters = process.argv.slice(2);
let files = find('dist', []).sort();
if (filters.length) files = files.filter((f) => filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
// A test that hangs fails after 10 minutes instead of blocking CI, and a file whose tests are done
// exits even if a socket or timer was left open.
const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', '--test-timeout=600000', '--test-force-exit', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
