// Workload 3: many concurrent IMAP connections over TLS, each SELECTed and in IDLE. Figures: memory
// per connection (Postern: RSS summed over its processes; Dovecot: PSS summed over all its processes,
// from /proc/PID/smaps_rollup), each as the growth from before the connections to after them, and the
// time from one APPEND (by another connection) until every idle connection got its EXISTS.
// Postern runs as `postern serve` once per worker count (BENCH_IDLE_WORKERS, default "1,<cores>",
// `workers` in its config, postern-serve.ts): with several workers the idle sessions spread over
// them (printed per process, from /proc) and the APPEND's notification has to reach every worker.
// Logins are the cheap ones each server offers (Postern PREAUTH, Dovecot EXTERNAL), since 10,000
// password logins would take minutes on either. BENCH_IDLE_CONNECTIONS sets the count; the default
// is 10,000 when `ulimit -n` leaves room for it (client and server each hold one fd per connection).
import { execSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { seedMessage } from './bench-messages.js';
import { startDovecotBench } from './dovecot-bench.js';
import { figure, fmt, MiB, note, now, pssOfTree, rssOf, sleep } from './figures.js';
import { ImapBenchClient, loopbackSource, type ConnectOptions } from './imap-bench-client.js';
import { startPosternServe } from './postern-serve.js';
import { connectionsPerProcess, spreadText } from './proc-sockets.js';

const fdLimit = Number(execSync('ulimit -n', { shell: '/bin/sh' }).toString().trim()) || 1024;
const COUNT = Number(process.env.BENCH_IDLE_CONNECTIONS ?? Math.min(10_000, Math.floor((fdLimit - 1000) / 1000) * 1000));
const NOTIFY_TIMEOUT_MS = Number(process.env.BENCH_IDLE_NOTIFY_TIMEOUT_MS ?? 45_000);
const PARALLEL = 100;
/** BENCH_IDLE_DOVECOT=0 skips Dovecot (quicker iterations on Postern; its figures print as NaN). */
const WITH_DOVECOT = process.env.BENCH_IDLE_DOVECOT !== '0';
const APPENDS = Math.max(1, Number(process.env.BENCH_IDLE_APPENDS ?? 1));
const WORKERS = [...new Set((process.env.BENCH_IDLE_WORKERS ?? `1,${availableParallelism()}`).split(',').map(Number))];

interface IdleResult { bytesPerConnection: number; allNotifiedMs: number; notified: number; medianMs: number; firstMs: number; appendOkMs: number }

/** `spread` (Postern) says which server process holds how many of the idle connections. */
async function idleRun(connect: ConnectOptions, login: (c: ImapBenchClient) => Promise<void>, memory: () => number, spread?: () => string): Promise<IdleResult> {
  // Warm up the code paths (and Dovecot's process pool) so the baseline is not the cold process.
  const warm = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
    const c = await ImapBenchClient.connect({ ...connect, localAddress: loopbackSource(i, 1) });
    await login(c);
    await c.cmd('SELECT INBOX');
    return c;
  }));
  for (const c of warm) c.close();
  await sleep(2000);
  const before = memory();
  const clients: ImapBenchClient[] = [];
  const t0 = now();
  let next = 0;
  let failed = 0;
  let firstError = '';
  await Promise.all(Array.from({ length: PARALLEL }, async () => {
    while (next < COUNT && failed < 100) {
      const i = next++;
      try {
        const c = await ImapBenchClient.connect({ ...connect, timeoutMs: 60_000, localAddress: loopbackSource(i) });
        await login(c);
        await c.cmd('SELECT INBOX', { timeoutMs: 60_000 });
        await c.idle(60_000);
        clients.push(c);
      } catch (err) {
        failed++;
        firstError ||= (err as Error).message;
      }
    }
  }));
  note(`${clients.length} connections in IDLE after ${((now() - t0) / 1000).toFixed(1)} s` +
    (failed ? `; ${failed} failed, first: ${firstError}` : ''));
  await sleep(3000);
  const after = memory();
  if (spread) note(`idle connections per server process (pid:count): ${spread()}`);
  // One APPEND from another connection; every idle connection should see `* N EXISTS`.
  const writer = await ImapBenchClient.connect(connect);
  await login(writer);
  const measure = async (k: number): Promise<{ got: number[]; appendOkMs: number }> => {
    const got: number[] = [];
    let resolveAll!: () => void;
    const all = new Promise<void>((r) => (resolveAll = r));
    let tAppend = 0;
    for (const c of clients) {
      let seen = false;
      c.onUntagged = (head) => {
        if (!seen && / EXISTS/.test(head)) {
          seen = true;
          got.push(now() - tAppend);
          if (got.length === clients.length) resolveAll();
        }
      };
    }
    tAppend = now();
    await writer.append('INBOX', '', seedMessage(999 + k));
    const appendOkMs = now() - tAppend;
    await Promise.race([all, sleep(NOTIFY_TIMEOUT_MS)]);
    got.sort((a, b) => a - b);
    return { got, appendOkMs };
  };
  const { got, appendOkMs } = await measure(0);
  // BENCH_IDLE_APPENDS=n (diagnostic): n-1 more APPENDs to the same idle connections, 2 s apart,
  // printed as notes; the figures are from the first.
  for (let k = 1; k < APPENDS; k++) {
    await sleep(2000);
    const r = await measure(k);
    const at = (q: number): string => (r.got.length === clients.length ? fmt(r.got[Math.min(r.got.length - 1, Math.floor(q * r.got.length))]!) : 'Infinity');
    note(`APPEND ${k + 1}: EXISTS first ${fmt(r.got[0] ?? Infinity)} ms, half ${at(0.5)} ms, all ${at(1)} ms (${r.got.length} notified); tagged OK ${fmt(r.appendOkMs)} ms`);
  }
  writer.close();
  for (const c of clients) c.close();
  await sleep(2000);
  return {
    bytesPerConnection: (after - before) / clients.length,
    allNotifiedMs: got.length === clients.length && got.length > 0 ? got[got.length - 1]! : Infinity,
    notified: got.length,
    medianMs: got[Math.floor(got.length / 2)] ?? Infinity,
    firstMs: got[0] ?? Infinity,
    appendOkMs,
  };
}

/** RSS summed over the server's processes (primary and workers). */
function rssOfAll(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      total += rssOf(pid);
    } catch {
      // Ended meanwhile.
    }
  }
  return total;
}

const NO_RESULT: IdleResult = { bytesPerConnection: NaN, allNotifiedMs: NaN, notified: 0, medianMs: NaN, firstMs: NaN, appendOkMs: NaN };

async function main(): Promise<void> {
  note(`imap idle: ${COUNT} connections (ulimit -n ${fdLimit}), notification wait up to ${NOTIFY_TIMEOUT_MS / 1000} s; postern as \`postern serve\` with workers ${WORKERS.join(' and ')}`);
  const runs: { label: string; r: IdleResult }[] = [];
  for (const w of WORKERS) {
    const postern = await startPosternServe({ users: 1, seed: 10, workers: w });
    let label = `workers=${w}`;
    const procs = postern.processes();
    if (postern.workersRefused) {
      label += ' (refused: 1 process)';
      note(`postern workers=${w}: ${postern.workersRefused}; its figures are of ONE server process`);
    } else if (w > 1 && procs.length < 2) {
      label += ' (ran 1 process)';
      note(`postern workers=${w}: the server ran ${procs.length} process: this build ignores workers`);
    }
    note(`postern ${label}: ${procs.length} process(es) (${procs.join(' ')})`);
    try {
      const r = await idleRun({ port: postern.imapsPort, cert: postern.certPem, key: postern.keyPem }, async (c) => {
        if (!c.greeting.startsWith('* PREAUTH')) throw new Error(`no PREAUTH: ${c.greeting}`);
      }, () => rssOfAll(postern.processes()), () => spreadText(connectionsPerProcess(postern.processes(), postern.imapsPort)));
      runs.push({ label, r });
    } finally {
      await postern.stop();
    }
  }
  let d = NO_RESULT;
  if (WITH_DOVECOT) {
    const dovecot = await startDovecotBench({ users: 1, seed: 10, connections: COUNT + 100 });
    try {
      d = await idleRun({ port: dovecot.imapsPort, cert: dovecot.clientCertPem, key: dovecot.clientKeyPem }, async (c) => {
        await c.cmd('AUTHENTICATE EXTERNAL =');
      }, () => pssOfTree(dovecot.pid));
    } finally {
      await dovecot.stop();
    }
  }
  for (const { label, r: p } of runs) {
    const name = `idle TLS connections (${COUNT}), postern ${label}`;
    figure(`${name}: memory per connection`, p.bytesPerConnection / 1024, d.bytesPerConnection / 1024, 'KiB');
    figure(`${name}: total memory growth`, (p.bytesPerConnection * COUNT) / MiB, (d.bytesPerConnection * COUNT) / MiB, 'MiB');
    figure(`${name}: EXISTS at all after one APPEND`, p.allNotifiedMs, d.allNotifiedMs, 'ms');
    figure(`${name}: EXISTS at half after one APPEND`, p.medianMs, d.medianMs, 'ms');
    note(`${label}: first EXISTS after the APPEND: postern ${fmt(p.firstMs)} ms, dovecot ${fmt(d.firstMs)} ms; APPEND's tagged OK: postern ${fmt(p.appendOkMs)} ms, dovecot ${fmt(d.appendOkMs)} ms`);
    note(`${label}: notified within ${NOTIFY_TIMEOUT_MS / 1000} s: postern ${p.notified}, dovecot ${d.notified} (of ${COUNT} attempted)`);
  }
}

await main();
