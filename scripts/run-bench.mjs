// Runs every workload in bench/ one after the other (each starts its own Postern and Dovecot) and
// prints the machine first. `npm run bench` builds into dist/ first; BENCH_BUILD_DIR picks another
// build (e.g. build-bench). Usage: node scripts/run-bench.mjs [substring-filter...], or the filters
// comma-separated in BENCH_ONLY (e.g. `BENCH_ONLY=loadgen npm run bench`).
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';

const build = process.env.BENCH_BUILD_DIR ?? 'dist';
// Order: short ones first; idle (10,000 connections) last.
const SCRIPTS = ['outbound-encode', 'store-shared', 'outbound-policies', 'imap-logins', 'login-flood', 'imap-append', 'imap-multiappend', 'imap-catenate', 'imap-mixed', 'imap-loadgen', 'imap-compress', 'smtp-submission', 'smtp-incoming-policy', 'imap-big-mailbox', 'imap-context', 'imap-latency-isolation', 'imap-idle', 'imap-notify'];
// Longer than the others: the latency-isolation workload fills a 1,000,000-message mailbox for
// each server (BENCH_ISOLATION_MESSAGES sets fewer).
const TIMEOUT_MIN = { 'imap-latency-isolation': 60 };
const filters = [...process.argv.slice(2), ...(process.env.BENCH_ONLY ?? '').split(',').filter(Boolean)];
const run = filters.length ? SCRIPTS.filter((s) => filters.some((f) => s.includes(f))) : SCRIPTS;

const model = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
let dovecot = 'not installed';
try {
  dovecot = execFileSync('dovecot', ['--version']).toString().trim();
} catch {
  // Reported as not installed; the scripts will fail to start it.
}
console.log(`# machine: ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ${model}`);
console.log(`# node ${process.version}, dovecot ${dovecot}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
const t0 = Date.now();
let failed = 0;
for (const name of run) {
  const t = Date.now();
  console.log(`## ${name}`);
  const r = spawnSync(process.execPath, [join(build, 'bench', `${name}.js`)], { stdio: 'inherit', timeout: (TIMEOUT_MIN[name] ?? 30) * 60_000 });
  if (r.status !== 0) {
    failed++;
    console.log(`# ${name} failed (${r.status ?? r.signal})`);
  }
  console.log(`# ${name} took ${((Date.now() - t) / 1000).toFixed(0)} s; load average ${loadavg()[0].toFixed(2)}`);
}
console.log(`# all took ${((Date.now() - t0) / 1000).toFixed(0)} s`);
process.exit(failed ? 1 : 0);
