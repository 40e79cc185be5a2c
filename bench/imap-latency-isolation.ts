// Workload: latency isolation. One client works on a very big mailbox (1,000,000 messages by
// default) while 100 other sessions send NOOP in a loop: what the other sessions wait meanwhile is
// the figure (p50/p99/max of their NOOPs), with the big client's command times next to it.
// The big client runs, per round: SELECT INBOX, UID SEARCH ALL, SEARCH UNSEEN (a flag criterion, no
// index), SEARCH HEADER SUBJECT (parsed headers), SEARCH BODY <rare word> (contents), FETCH 1:*
// (FLAGS), UNSELECT (so that the next SELECT loads the mailbox again).
// Postern runs as `postern serve` (a quickstart data directory) with `workers: 1` and `workers: 2`
// in its config; a build whose config does not know `workers` runs the first only and says so.
// The mailbox is put into the database directly through the store API before the server starts
// (small messages kept in the database, their MIME caches built as delivery does), Dovecot's by
// writing maildir files; both get the same bytes (bench-messages.ts).
// Environment: BENCH_ISOLATION_MESSAGES (default 1,000,000), BENCH_ISOLATION_SESSIONS (100),
// BENCH_ISOLATION_ROUNDS (1), BENCH_ISOLATION_GAP_MS (pause between one session's NOOPs, 20),
// BENCH_ISOLATION_DOVECOT=0 (Postern only, while developing).
import { rmSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { deriveCredentials } from '../src/auth/password.js';
import { parseConfig } from '../src/config/load.js';
import { buildMessageCache } from '../src/mime/message-cache.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { NewMessage } from '../src/store/types.js';
import { ADDRESS, PASSWORD, quickstartDir, startServe, type ChildService } from '../test/reliability/serve-child.js';
import { BENCH_PASSWORD, bigMailboxFlags, bigMailboxMessage, RARE_WORD } from './bench-messages.js';
import { startDovecotBench } from './dovecot-bench.js';
import { figure, fmt, note, now, processTree, sleep } from './figures.js';
import { ImapBenchClient, loopbackSource } from './imap-bench-client.js';

const COUNT = Number(process.env.BENCH_ISOLATION_MESSAGES ?? 1_000_000);
const SESSIONS = Number(process.env.BENCH_ISOLATION_SESSIONS ?? 100);
const ROUNDS = Number(process.env.BENCH_ISOLATION_ROUNDS ?? 1);
const GAP_MS = Number(process.env.BENCH_ISOLATION_GAP_MS ?? 20);
/** NOOPs measured before the big client starts: what the sessions see without it. */
const BASELINE_MS = 3000;
/** Subject of one message in the mailbox (bigMailboxMessage: "message N" for every fourth). */
const RARE_SUBJECT = `message ${Math.max(0, COUNT - 8 - ((COUNT - 8) % 4))}`;

const STEPS: [string, string][] = [
  ['SELECT INBOX', 'SELECT INBOX'],
  ['UID SEARCH ALL', 'UID SEARCH ALL'],
  ['SEARCH UNSEEN', 'SEARCH UNSEEN'],
  ['SEARCH HEADER SUBJECT', `SEARCH HEADER SUBJECT "${RARE_SUBJECT}"`],
  [`SEARCH BODY ${RARE_WORD}`, `SEARCH BODY ${RARE_WORD}`],
  ['FETCH 1:* (FLAGS)', 'FETCH 1:* (FLAGS)'],
  ['UNSELECT', 'UNSELECT'],
];

interface Login { user: string; password: string }
interface RunResult {
  /** NOOP latencies (ms) without, and while, the big client works. */
  baseline: number[];
  during: number[];
  /** Per step: the time of each round, ms. */
  steps: number[][];
  answers: number[];
  processes: number;
}

function pct(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function stats(xs: number[]): { p50: number; p99: number; max: number; n: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: pct(s, 50), p99: pct(s, 99), max: s[s.length - 1] ?? NaN, n: s.length };
}

/** The NOOP sessions and the big client against one server; `pid` for counting its processes. */
async function run(port: number, big: Login, idle: Login, pid: number): Promise<RunResult> {
  const idlers: ImapBenchClient[] = [];
  for (let i = 0; i < SESSIONS; i += 10) {
    // Ten logins at a time: the login storm is not what is measured.
    idlers.push(...(await Promise.all(Array.from({ length: Math.min(10, SESSIONS - i) }, async (_, k) => {
      const c = await ImapBenchClient.connect({ port, localAddress: loopbackSource(i + k) });
      await c.cmd(`LOGIN ${idle.user} ${idle.password}`, { timeoutMs: 120_000 });
      await c.cmd('SELECT INBOX');
      return c;
    }))));
  }
  const bigClient = await ImapBenchClient.connect({ port, localAddress: loopbackSource(SESSIONS + 25) });
  await bigClient.cmd(`LOGIN ${big.user} ${big.password}`, { timeoutMs: 120_000 });
  let phase: 'baseline' | 'during' | 'stop' = 'baseline';
  const baseline: number[] = [];
  const during: number[] = [];
  const loops = idlers.map(async (c) => {
    while (phase !== 'stop') {
      const t = now();
      await c.cmd('NOOP', { timeoutMs: 600_000 });
      const ms = now() - t;
      if (phase === 'baseline') baseline.push(ms);
      else if (phase === 'during') during.push(ms);
      if (GAP_MS > 0) await sleep(GAP_MS);
    }
  });
  await sleep(BASELINE_MS);
  phase = 'during';
  const steps: number[][] = STEPS.map(() => []);
  const answers: number[] = STEPS.map(() => 0);
  let processes = 0;
  try {
    for (let r = 0; r < ROUNDS; r++) {
      for (let s = 0; s < STEPS.length; s++) {
        const t = now();
        const reply = await bigClient.cmd(STEPS[s]![1], { timeoutMs: 1_800_000 });
        steps[s]!.push(now() - t);
        answers[s] = reply.untagged;
        if (s === 0) processes = processTree(pid).length;
      }
    }
  } finally {
    phase = 'stop';
    await Promise.allSettled(loops);
    bigClient.close();
    for (const c of idlers) c.close();
  }
  return { baseline, during, steps, answers, processes };
}

/** Puts COUNT messages into the account's INBOX through the store, with the server stopped. */
async function seedPostern(dir: string): Promise<void> {
  const store = await SqliteStore.open({ dir });
  try {
    const owner = (await store.lookupAddress(ADDRESS))!;
    const idle = await store.createAccount('idle', 'idle@example.test');
    await store.setCredentials(idle.id, await deriveCredentials(PASSWORD));
    const inbox = (await store.getMailbox(owner.accountId, 'INBOX'))!;
    const BATCH = 2000;
    let last = now();
    for (let i = 0; i < COUNT; i += BATCH) {
      const batch: NewMessage[] = [];
      for (let j = i; j < Math.min(COUNT, i + BATCH); j++) {
        const buf = bigMailboxMessage(j, COUNT);
        batch.push({ blob: await store.stageBlob(buf), flags: bigMailboxFlags(j), internalDate: new Date(), cache: JSON.stringify(buildMessageCache(buf)) });
      }
      await store.appendMessages(owner.accountId, inbox.id, batch);
      if (now() - last > 30_000) {
        note(`postern: ${i + BATCH} messages so far`);
        last = now();
      }
    }
  } finally {
    await store.close();
  }
}

/** Writes the server's config with `workers` set; false when this build's config refuses the key. */
function setWorkers(dir: string, workers: number): boolean {
  const file = join(dir, 'postern.conf');
  const doc = YAML.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  try {
    parseConfig({ ...doc, workers }, dir);
  } catch {
    delete doc.workers;
    writeFileSync(file, YAML.stringify(doc));
    return false;
  }
  writeFileSync(file, YAML.stringify({ ...doc, workers }));
  return true;
}

function report(label: string, r: RunResult): void {
  const b = stats(r.baseline);
  const d = stats(r.during);
  note(`${label}: NOOP without the big client: p50 ${fmt(b.p50)} ms, p99 ${fmt(b.p99)} ms, max ${fmt(b.max)} ms (${b.n} NOOPs)`);
  note(`${label}: NOOP while it works: p50 ${fmt(d.p50)} ms, p99 ${fmt(d.p99)} ms, max ${fmt(d.max)} ms (${d.n} NOOPs)`);
  STEPS.forEach(([name], i) => note(`${label}: ${name}: ${r.steps[i]!.map((ms) => fmt(ms)).join(', ')} ms (${r.answers[i]} untagged)`));
}

async function main(): Promise<void> {
  note(`imap latency isolation: ${COUNT} messages, ${SESSIONS} NOOP sessions (${GAP_MS} ms between one's NOOPs), ${ROUNDS} round(s)`);
  const dir = quickstartDir(['imaps' as ChildService], { limits: { imap: { maxConnectionsPerIp: 1000 } } });
  const results = new Map<number, RunResult>();
  try {
    let t = now();
    await seedPostern(dir);
    note(`postern seeded in ${((now() - t) / 1000).toFixed(1)} s (store API, messages kept in the database)`);
    for (const workers of [1, 2]) {
      if (!setWorkers(dir, workers) && workers > 1) {
        note(`workers: ${workers}: this build's config does not know "workers" (one process only); run skipped`);
        continue;
      }
      const srv = await startServe(dir, ['imaps' as ChildService], 300_000);
      try {
        const r = await run(srv.ports['imaps' as ChildService]!, { user: ADDRESS, password: PASSWORD }, { user: 'idle@example.test', password: PASSWORD }, srv.pid);
        note(`workers: ${workers}: the server ran as ${r.processes} process(es)${workers > 1 && r.processes < 2 ? ' (the config key was accepted, but no worker processes: not in effect)' : ''}`);
        report(`postern workers=${workers}`, r);
        results.set(workers, r);
      } finally {
        await srv.kill('SIGTERM');
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (process.env.BENCH_ISOLATION_DOVECOT === '0') {
    for (const [workers, p] of results) note(`postern workers=${workers}: NOOP p99 while one client works ${fmt(stats(p.during).p99)} ms (Dovecot skipped)`);
    return;
  }
  const t = now();
  const dovecot = await startDovecotBench({ users: 1, big: COUNT, connections: SESSIONS + 50 });
  note(`dovecot filled in ${((now() - t) / 1000).toFixed(1)} s (maildir files written, no fsync)`);
  let d: RunResult;
  try {
    d = await run(dovecot.imapsPort, { user: 'big@example.test', password: BENCH_PASSWORD }, { user: 'user1@example.test', password: BENCH_PASSWORD }, dovecot.pid);
  } finally {
    await dovecot.stop();
  }
  report('dovecot', d);
  for (const [workers, p] of results) {
    const ps = stats(p.during);
    const ds = stats(d.during);
    figure(`latency isolation (${COUNT}), workers=${workers}: NOOP p99 while one client works`, ps.p99, ds.p99, 'ms');
    figure(`latency isolation (${COUNT}), workers=${workers}: NOOP max while one client works`, ps.max, ds.max, 'ms');
    STEPS.forEach(([name], i) => {
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
      figure(`latency isolation (${COUNT}), workers=${workers}: ${name}`, sum(p.steps[i]!), sum(d.steps[i]!), 'ms');
    });
  }
}

await main();
