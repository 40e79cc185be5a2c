// Workload of issue 20: the shape of a third-party load generator's default mixed workload
// (imaptest: 10 clients over 50 users on IMAPS, LIST STATUS SELECT FETCH STORE EXPUNGE APPEND; the
// sessions are in loadgen-session.ts), in two modes: sessions kept open (FETCH commands and all
// commands in a window) and sessions that log in, run one cycle and log out (LOGINs in a window).
// Postern runs as `postern serve` with `workers: 1` and `workers: <cores>` (postern-serve.ts), and
// Dovecot in the same run; rounds alternate between the servers, and every figure is printed as the
// range over the rounds. CPU is each server's process tree's utime+stime over the window
// (/proc/PID/stat, reaped children included), the generator's own CPU is printed beside it.
//
// Environment: BENCH_LOADGEN_SECONDS (window, default 25), BENCH_LOADGEN_ROUNDS (3),
// BENCH_LOADGEN_WORKERS (Postern worker counts, default "1,<cores>"), BENCH_LOADGEN_MODES
// ("open,logins"), BENCH_LOADGEN_WARMUP (unmeasured seconds per server first, 10),
// BENCH_LOADGEN_THREADS (generator threads, default 1), BENCH_LOADGEN_CLIENTS (10),
// BENCH_LOADGEN_USERS (50), BENCH_LOADGEN_MESSAGES (messages per INBOX, 30),
// BENCH_LOADGEN_DOVECOT=0 (Postern only; ratios print as n/a), BENCH_LOADGEN_DETAIL=1 (mean latency
// of each command kind per window).
import { availableParallelism, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { startDovecotBench } from './dovecot-bench.js';
import { cpuSecondsOfTree, figure, fmt, note, now, processTree, sleep } from './figures.js';
import { ImapBenchClient } from './imap-bench-client.js';
import { BENCH_PASSWORD } from './bench-messages.js';
import { FOLDERS, KINDS, type Kind, type LoadgenJob, type LoadgenResult, type Mode } from './loadgen-session.js';
import { startPosternServe } from './postern-serve.js';
import { connectionsPerProcess, spreadText } from './proc-sockets.js';

const env = (name: string, dflt: string): string => process.env[name] ?? dflt;
const CORES = availableParallelism();
const SECONDS = Number(env('BENCH_LOADGEN_SECONDS', '25'));
const ROUNDS = Number(env('BENCH_LOADGEN_ROUNDS', '3'));
const WORKERS = [...new Set(env('BENCH_LOADGEN_WORKERS', `1,${CORES}`).split(',').map(Number))];
const MODES = env('BENCH_LOADGEN_MODES', 'open,logins').split(',') as Mode[];
const THREADS = Number(env('BENCH_LOADGEN_THREADS', '1'));
const CLIENTS = Number(env('BENCH_LOADGEN_CLIENTS', '10'));
const USERS = Number(env('BENCH_LOADGEN_USERS', '50'));
const MESSAGES = Number(env('BENCH_LOADGEN_MESSAGES', '30'));
/** BENCH_LOADGEN_DETAIL=1: the mean latency of each command kind after every window (where the time goes). */
const DETAIL = env('BENCH_LOADGEN_DETAIL', '') !== '';
/** Dovecot's SHA512-CRYPT rounds: the minimum, about what Postern's verified-password cache hit costs (dovecot-bench.ts). */
const DOVECOT_ROUNDS = 1000;
const WITH_DOVECOT = env('BENCH_LOADGEN_DOVECOT', '1') !== '0';
/** Seconds of unmeasured workload per server before the rounds (JIT warm-up); 0 for none. */
const WARMUP = Number(env('BENCH_LOADGEN_WARMUP', '10'));

interface Server {
  name: string;
  port: number;
  /** Process tree root: CPU and connections are read from its tree. */
  pid: number;
  /** Worker processes asked for (Postern), for the warm-up and the header. */
  workers: number;
  stop(): Promise<void>;
}

interface Sample {
  counts: Record<Kind, number>;
  ms: Record<Kind, number>;
  commands: number;
  no: number;
  errors: number;
  /** Server CPU seconds over the window. */
  cpu: number;
  /** Generator process CPU seconds over the window (all its threads). */
  clientCpu: number;
  /** Busiest generator thread's event-loop utilisation, and its share of a core. */
  elu: number;
  threadCpu: number;
  /** Connections per server process, sampled mid-window. */
  spread: string;
  processes: number;
}

/** Runs one window of `mode` against `server` with THREADS generator threads. */
async function measure(server: Server, mode: Mode, round: number, seconds = SECONDS): Promise<Sample> {
  const per = Math.ceil(CLIENTS / THREADS);
  const jobs: LoadgenJob[] = [];
  for (let first = 0; first < CLIENTS; first += per) {
    jobs.push({ port: server.port, first, clients: Math.min(per, CLIENTS - first), users: USERS, mode, seconds, seed: round + 1, target: MESSAGES });
  }
  const threads = jobs.map((job) => {
    const w = new Worker(new URL('./loadgen-thread.js', import.meta.url), { workerData: job });
    let isReady!: () => void;
    let failReady!: (e: Error) => void;
    const ready = new Promise<void>((resolve, reject) => ((isReady = resolve), (failReady = reject)));
    const result = new Promise<LoadgenResult>((resolve, reject) => {
      const fail = (e: Error) => (failReady(e), reject(e));
      w.on('message', (m: 'ready' | { result?: LoadgenResult; error?: string }) => {
        if (m === 'ready') isReady();
        else if (m.error) fail(new Error(m.error));
        else resolve(m.result!);
      });
      w.once('error', fail);
    });
    // Awaited later; a failure before then is reported through `ready`.
    result.catch(() => undefined);
    return { w, ready, result };
  });
  const workers = threads.map((t) => t.w);
  try {
    const results = threads.map((t) => t.result);
    await Promise.all(threads.map((t) => t.ready));
    const cpu0 = cpuSecondsOfTree(server.pid);
    const client0 = process.cpuUsage();
    const t0 = now();
    for (const w of workers) w.postMessage('start');
    await sleep((seconds * 1000) / 2);
    const pids = processTree(server.pid);
    const spread = spreadText(connectionsPerProcess(pids, server.port));
    await sleep(t0 + seconds * 1000 - now());
    const cpu = cpuSecondsOfTree(server.pid) - cpu0;
    const c = process.cpuUsage(client0);
    const rs = await Promise.all(results);
    const sum = (f: (r: LoadgenResult) => Record<Kind, number>) => Object.fromEntries(KINDS.map((k) => [k, rs.reduce((n, r) => n + f(r)[k], 0)])) as Record<Kind, number>;
    const counts = sum((r) => r.counts);
    const errors = rs.reduce((n, r) => n + r.errors, 0);
    if (errors) note(`${server.name} ${mode}: ${errors} session errors; first: ${rs.find((r) => r.errors)!.firstError}`);
    return {
      counts,
      ms: sum((r) => r.ms),
      commands: KINDS.reduce((n, k) => n + counts[k], 0),
      no: rs.reduce((n, r) => n + r.no, 0),
      errors,
      cpu,
      clientCpu: (c.user + c.system) / 1e6,
      elu: Math.max(...rs.map((r) => r.elu)),
      threadCpu: Math.max(...rs.map((r) => r.threadCpu)) / seconds,
      spread,
      processes: pids.length,
    };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/**
 * Every user logs in a few times before measuring: Dovecot's indexes exist and each server's
 * verified-password cache holds every user (Postern's is per process: a login lands on any worker).
 */
async function warm(server: Server): Promise<void> {
  const todo: number[] = [];
  for (let pass = 0; pass < 4 * server.workers; pass++) for (let u = 1; u <= USERS; u++) todo.push(u);
  // Shuffled: in passes of an even length a round-robin scheduler would send each user to the same
  // worker every time, and the other workers would verify its password inside a window.
  for (let i = todo.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [todo[i], todo[j]] = [todo[j]!, todo[i]!];
  }
  await Promise.all(Array.from({ length: 4 }, async () => {
    for (let u = todo.shift(); u !== undefined; u = todo.shift()) {
      const c = await ImapBenchClient.connect({ port: server.port });
      try {
        await c.cmd(`LOGIN user${u}@example.test ${BENCH_PASSWORD}`);
        await c.cmd('SELECT INBOX');
        await c.cmd('FETCH 1:* (FLAGS ENVELOPE BODYSTRUCTURE)');
        await c.cmd('LOGOUT');
      } finally {
        c.close();
      }
    }
  }));
}

const fetches = (s: Sample): number => s.counts.FETCH + s.counts.FETCH2;
const range = (xs: number[], f: (n: number) => string = (n) => Math.round(n).toLocaleString('en-US')): string => {
  if (!xs.length || xs.some((x) => !Number.isFinite(x))) return 'n/a';
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return f(lo) === f(hi) ? f(lo) : `${f(lo)}-${f(hi)}`;
};
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
};

interface Row { label: string; value: (s: Sample) => number; format?: (n: number) => string }

const ROWS: Record<Mode, Row[]> = {
  open: [
    { label: `FETCH commands in ${SECONDS} s, sessions kept open`, value: fetches },
    { label: `all commands in ${SECONDS} s, sessions kept open`, value: (s) => s.commands },
    { label: 'server CPU used, kept open (cores)', value: (s) => s.cpu / SECONDS, format: (n) => n.toFixed(2) },
    { label: 'FETCH per CPU-second', value: (s) => fetches(s) / s.cpu },
    { label: 'commands per CPU-second, kept open', value: (s) => s.commands / s.cpu },
  ],
  logins: [
    { label: `LOGIN count in ${SECONDS} s, sessions log in, run a cycle, log out`, value: (s) => s.counts.LOGIN },
    { label: `all commands in ${SECONDS} s, log in and out`, value: (s) => s.commands },
    { label: 'server CPU used, log in and out (cores)', value: (s) => s.cpu / SECONDS, format: (n) => n.toFixed(2) },
    { label: 'LOGINs per CPU-second', value: (s) => s.counts.LOGIN / s.cpu },
  ],
};

function header(): void {
  note(`imap loadgen (issue 20): ${CLIENTS} clients over ${USERS} users on IMAPS, ${MESSAGES} messages per INBOX, ${SECONDS} s windows, ${ROUNDS} rounds alternating between the servers, modes ${MODES.join(', ')}`);
  note('what this is: OUR OWN generator (bench/loadgen-session.ts) of the shape of imaptest\'s default mixed workload');
  note('  (its states and order; documented default probabilities LIST 50%, STATUS 50%, SELECT, FETCH of random items, FETCH BODY.PEEK[]');
  note('  (+30%); our reading of its defaults for STORE flags 50%, STORE \\Deleted, EXPUNGE, APPEND (+5%)), NOT imaptest itself:');
  note('  no response checking beyond the tagged status,');
  note('  no pipelining, no MULTIAPPEND, no COPY/SEARCH/IDLE; "FETCH commands" counts both FETCH kinds');
  note(`where: loopback only; one ${CORES}-core machine shared by the servers and the generator (the generator's CPU is printed:`);
  note('  what it uses the server cannot); password cost: Postern scrypt with its verified-password cache (on by default, warmed');
  note(`  for every user and worker first), Dovecot SHA512-CRYPT with ${DOVECOT_ROUNDS} rounds (~0.7 ms, its cache re-verifies on every hit),`);
  note('  so the LOGIN figures are sessions, not hashing (bench/imap-logins.ts measures hashing)');
  note(`load average at start ${loadavg().map((l) => l.toFixed(1)).join(' ')}: other work on the machine takes CPU from both servers alike, not evenly`);
  note(`generator: ${THREADS} worker thread(s); Postern as \`postern serve\` with workers ${WORKERS.join(' and ')} in its config`);
}

async function main(): Promise<void> {
  header();
  const servers: Server[] = [];
  try {
    for (const w of WORKERS) {
      const p = await startPosternServe({ users: USERS, seed: MESSAGES, workers: w });
      const procs = p.processes();
      let name = `postern workers=${w}`;
      if (p.workersRefused) {
        name += ' (refused: 1 process)';
        note(`postern workers=${w}: ${p.workersRefused}; its figures are of ONE server process`);
      } else if (w > 1 && procs.length < 2) {
        name += ' (ran 1 process)';
        note(`postern workers=${w}: the server ran ${procs.length} process: this build ignores workers`);
      }
      note(`${name}: ${procs.length} process(es) at start (${procs.join(' ')}), set up in ${(p.fillMs / 1000).toFixed(1)} s`);
      servers.push({ name, port: p.imapsPort, pid: p.pid, workers: w, stop: () => p.stop() });
    }
    if (WITH_DOVECOT) {
      const d = await startDovecotBench({ users: USERS, seed: MESSAGES, connections: 200, authCache: true, cryptRounds: DOVECOT_ROUNDS, folders: FOLDERS });
      servers.push({ name: 'dovecot', port: d.imapsPort, pid: d.pid, workers: 1, stop: () => d.stop() });
    }
    for (const s of servers) await warm(s);
    // Steady state, as a server that has run for a while: an unmeasured window of the workload per
    // server first, so that the first round does not also time Node's JIT compiling the command
    // paths (in every worker process apart; Dovecot has nothing to compile).
    if (WARMUP > 0) {
      for (const s of servers) await measure(s, 'open', -1, WARMUP);
      note(`warm-up: ${WARMUP} s of the kept-open workload per server, not measured`);
    }
    const samples = new Map<string, Sample[]>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of MODES) {
        // Rotate the order each round so that no server always runs first (or right after another).
        const order = servers.map((_, i) => servers[(i + round) % servers.length]!);
        for (const s of order) {
          const r = await measure(s, mode, round);
          const key = `${s.name}|${mode}`;
          samples.set(key, [...(samples.get(key) ?? []), r]);
          note(`round ${round + 1} ${mode} ${s.name}: LOGIN ${r.counts.LOGIN}, FETCH ${r.counts.FETCH}+${r.counts.FETCH2}, commands ${r.commands}` +
            ` (NO ${r.no}, errors ${r.errors}); server CPU ${(r.cpu / SECONDS).toFixed(2)} cores, ${r.processes} process(es),` +
            ` connections per process ${r.spread}; generator CPU ${(r.clientCpu / SECONDS).toFixed(2)} cores, busiest thread ${(r.threadCpu * 100).toFixed(0)}% of a core, its event loop ${(r.elu * 100).toFixed(0)}% busy; load average ${loadavg()[0].toFixed(1)}`);
          if (DETAIL) note(`  mean latency: ${KINDS.filter((k) => r.counts[k]).map((k) => `${k} ${fmt(r.ms[k] / r.counts[k])} ms`).join(', ')}`);
          if (r.threadCpu > 0.8) note(`  a generator thread used ${(r.threadCpu * 100).toFixed(0)}% of a core: it may have limited this window (raise BENCH_LOADGEN_THREADS)`);
          await sleep(1000);
        }
      }
    }
    print(servers, samples);
  } finally {
    for (const s of servers) await s.stop();
  }
}

function print(servers: Server[], samples: Map<string, Sample[]>): void {
  const dovecot = servers.find((s) => s.name === 'dovecot');
  const posterns = servers.filter((s) => s !== dovecot);
  const cols = [...(dovecot ? ['Dovecot'] : []), ...posterns.flatMap((p) => [p.name.replace(/^postern/, 'Postern'), 'ratio'])];
  console.log(`| | ${cols.join(' | ')} |`);
  console.log(`|---|${cols.map(() => '---').join('|')}|`);
  for (const mode of MODES) {
    const d = dovecot ? samples.get(`dovecot|${mode}`) ?? [] : [];
    for (const row of ROWS[mode]) {
      const f = row.format;
      const cells = dovecot ? [range(d.map(row.value), f)] : [];
      for (const p of posterns) {
        const ps = samples.get(`${p.name}|${mode}`) ?? [];
        cells.push(range(ps.map(row.value), f));
        // Per-round ratio: the same round's Postern over Dovecot figure.
        cells.push(dovecot ? range(ps.map((s, i) => row.value(s) / row.value(d[i]!)), (n) => n.toFixed(2)) : 'n/a');
      }
      console.log(`| ${row.label} | ${cells.join(' | ')} |`);
    }
  }
  // The usual one-line figures (medians over the rounds), for comparison across runs.
  for (const p of posterns) {
    for (const mode of MODES) {
      const ps = samples.get(`${p.name}|${mode}`) ?? [];
      const ds = dovecot ? samples.get(`dovecot|${mode}`) ?? [] : [];
      const m = (xs: Sample[], v: (s: Sample) => number) => (xs.length ? median(xs.map(v)) : NaN);
      const label = `imap loadgen ${mode === 'open' ? 'kept open' : 'log in and out'} ${p.name}`;
      figure(`${label}: commands/s`, m(ps, (s) => s.commands / SECONDS), m(ds, (s) => s.commands / SECONDS), 'commands/s');
      figure(`${label}: commands per CPU-second`, m(ps, (s) => s.commands / s.cpu), m(ds, (s) => s.commands / s.cpu), 'commands/CPU-s');
      if (mode === 'logins') figure(`${label}: LOGINs/s`, m(ps, (s) => s.counts.LOGIN / SECONDS), m(ds, (s) => s.counts.LOGIN / SECONDS), 'logins/s');
    }
  }
  note(`server CPU: utime+stime of the process tree over the window; ${fmt(SECONDS)} s windows`);
}

await main();
