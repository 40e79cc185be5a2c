// Soak: `postern serve` as a child under steady mixed load (IMAP APPEND/STORE/EXPUNGE/MOVE sessions
// and SMTP submission to the local user) for N minutes, printing the server's RSS, throughput and
// errors every interval, and at the end the RSS growth after warm-up. A benchmark: it prints,
// it asserts nothing.
//
//   node build/bench/soak.js [--minutes 30] [--warmup 8] [--interval 30] [--sessions 2] [--pause-ms 20] [--breakdown]
//
// The warm-up is 8 minutes because the server's RSS reaches its plateau only then (docs/benchmarks.md,
// "Soak (issue 9)"): V8's memory reducer shrinks the young generation at about 2 minutes and it grows
// back to 2 x 16 MB by 3.5-4 minutes, and glibc keeps the high-water mark of the freed message buffers
// (a content SEARCH over INBOX reads every file), which steps up until 4-8 minutes and then stays.
//
// --breakdown adds, per interval, the server's anonymous and file-backed RSS (/proc/PID/smaps_rollup),
// its V8 heap and external memory (the server's POSTERN_MEMORY_LOG_MS log line) and the database
// and WAL file sizes, to tell a filling cache from a leak.
//
// A janitor session empties Archive and the SMTP-delivered messages every interval, so the mailbox
// (and the disk) stay about the same size and growth means memory, not data.

import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ImapClient } from '../src/imap/client/index.js';
import { ARCHIVE, Model, startLoad } from '../test/reliability/mail-load.js';
import { ADDRESS, PASSWORD, quickstartDir, rssOf, smapsOf, startServe } from '../test/reliability/serve-child.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '8' },
    interval: { type: 'string', default: '30' },
    sessions: { type: 'string', default: '2' },
    'pause-ms': { type: 'string', default: '20' },
    breakdown: { type: 'boolean', default: false },
  },
});
const minutes = Number(values.minutes);
const warmupMs = Math.min(Number(values.warmup) * 60_000, (minutes * 60_000) / 3);
const intervalMs = Number(values.interval) * 1000;
const MB = 1024 * 1024;

const dir = quickstartDir(['submission', 'imap']);
const breakdown = values.breakdown;
const server = await startServe(dir, ['submission', 'imap'], 60_000, breakdown ? { POSTERN_MEMORY_LOG_MS: String(Math.max(1000, intervalMs / 3)) } : {});
console.log(`soak: ${minutes} min, warm-up ${(warmupMs / 60_000).toFixed(1)} min, server pid ${server.pid}, data ${dir}`);

const model = new Model();
const load = startLoad(model, {
  imapPort: server.ports.imap!,
  submissionPort: server.ports.submission!,
  imapSessions: Number(values.sessions),
  tag: `soak-${Date.now().toString(36)}`,
  pauseMs: Number(values['pause-ms']),
  size: (rand) => (rand() < 0.9 ? 500 + Math.floor(rand() * 4000) : 20_000 + Math.floor(rand() * 80_000)),
  maxOwned: 300,
  reconnect: true,
});

/** Expunges Archive and the SMTP-delivered messages in INBOX (no session owns those). */
async function janitor(): Promise<number> {
  const c = await ImapClient.connect({ host: '127.0.0.1', port: server.ports.imap!, tls: 'starttls', insecure: true, auth: { username: ADDRESS, password: PASSWORD } });
  let removed = 0;
  try {
    for (const [box, query] of [[ARCHIVE, 'ALL'], ['INBOX', 'HEADER Message-ID "-s-"']] as const) {
      const sel = await c.select(box).catch(() => null);
      if (!sel || sel.exists === 0) continue;
      // A SEARCH that reads content can hit a message another session just expunged
      // (test/reliability/expunge-race.test.ts): sync with NOOP and try again.
      let numbers: number[] = [];
      for (let attempt = 0; ; attempt++) {
        try {
          numbers = (await c.search(query, { uid: true })).numbers;
          break;
        } catch (err) {
          if (attempt >= 4) throw err;
          await c.noop();
        }
      }
      if (!numbers.length) continue;
      await c.store(numbers.join(','), { add: ['\\Deleted'] }, { uid: true, silent: true });
      await c.expunge({ uids: numbers.join(',') });
      removed += numbers.length;
    }
    await c.logout();
  } finally {
    c.close();
  }
  for (const m of [...model.messages.values()]) if (m.id.includes('-s-') || m.possible.has(ARCHIVE)) model.messages.delete(m.id);
  return removed;
}

const t0 = Date.now();
const samples: { t: number; rss: number }[] = [];
let lastOps = 0;
let lastErrors = 0;
let peak = 0;
console.log('   min   RSS MB   ops/s   ops total   errors   janitor' + (breakdown ? ['anon', 'file', 'rss@log', 'heap', 'new', 'old', 'used', 'extern', 'native', 'db', 'wal'].map((h) => h.padStart(8)).join('') : ''));
const fileMb = (name: string): string => {
  try {
    return (statSync(join(dir, name)).size / MB).toFixed(1);
  } catch {
    return '-';
  }
};
/** The memory columns of --breakdown: smaps_rollup now, the server's last memory log line, file sizes. */
function breakdownColumns(): string {
  const sm = smapsOf(server.pid);
  const line = [...server.output().matchAll(/^memory (.*)$/gm)].at(-1)?.[1] ?? '';
  const v = (k: string): string => new RegExp(`(?:^| )${k}=(\\S+)`).exec(line)?.[1] ?? '-';
  // The log line's own rss minus its V8 heap and the file-backed part: malloc (SQLite, OpenSSL, buffers).
  const native = sm && line ? (Number(v('rss')) - Number(v('heapTotal')) - sm.file / MB).toFixed(1) : '-';
  const cols = [sm ? (sm.anon / MB).toFixed(1) : '-', sm ? (sm.file / MB).toFixed(1) : '-', v('rss'), v('heapTotal'), v('newSpace'), v('oldSpace'), v('heapUsed'), v('external'), native, fileMb('postern.db'), fileMb('postern.db-wal')];
  return cols.map((c) => c.padStart(8)).join('');
}
while (Date.now() - t0 < minutes * 60_000) {
  await new Promise((r) => setTimeout(r, Math.min(intervalMs, minutes * 60_000 - (Date.now() - t0))));
  let removed = 0;
  try {
    removed = await janitor();
  } catch (err) {
    console.log(`janitor failed: ${(err as Error).message}`);
  }
  const rss = rssOf(server.pid);
  if (rss === null) {
    console.log('the server is gone:\n' + server.output().slice(-3000));
    process.exit(1);
  }
  peak = Math.max(peak, rss);
  const t = Date.now() - t0;
  samples.push({ t, rss });
  const ops = load.ops();
  const errs = load.errors();
  console.log(`${(t / 60_000).toFixed(1).padStart(6)} ${(rss / MB).toFixed(1).padStart(8)} ${((ops - lastOps) / (intervalMs / 1000)).toFixed(0).padStart(7)} ${String(ops).padStart(11)} ${String(errs.length).padStart(8)} ${String(removed).padStart(9)}${breakdown ? breakdownColumns() : ''}`);
  for (const e of errs.slice(lastErrors)) console.log(`  error: ${e}`);
  lastOps = ops;
  lastErrors = errs.length;
}
load.stop();
await load.done;

const after = samples.filter((s) => s.t >= warmupMs);
if (after.length >= 2) {
  const first = after[0]!;
  const last = after.at(-1)!;
  const hours = (last.t - first.t) / 3_600_000;
  // Least-squares slope over the samples after warm-up: one noisy sample does not decide it.
  const n = after.length;
  const mt = after.reduce((s, x) => s + x.t, 0) / n;
  const mr = after.reduce((s, x) => s + x.rss, 0) / n;
  const slope = after.reduce((s, x) => s + (x.t - mt) * (x.rss - mr), 0) / after.reduce((s, x) => s + (x.t - mt) ** 2, 0);
  console.log(`RSS after warm-up: ${(first.rss / MB).toFixed(1)} MB -> ${(last.rss / MB).toFixed(1)} MB (${((last.rss - first.rss) / MB).toFixed(1)} MB, ${(((last.rss - first.rss) / first.rss) * 100).toFixed(1)}%, in ${(hours * 60).toFixed(1)} min; range ${(Math.min(...after.map((x) => x.rss)) / MB).toFixed(1)}-${(Math.max(...after.map((x) => x.rss)) / MB).toFixed(1)} MB); trend ${((slope * 3_600_000) / MB).toFixed(1)} MB/hour; peak ${(peak / MB).toFixed(1)} MB`);
} else {
  console.log('run too short for a growth figure after warm-up');
}
console.log(`${load.ops()} operations, ${load.errors().length} errors`);
const stopped = await server.kill('SIGTERM');
console.log(`server stopped: ${stopped.code ?? stopped.signal}`);
rmSync(dir, { recursive: true, force: true });
