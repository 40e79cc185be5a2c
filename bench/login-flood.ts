// Workload: a flood of wrong passwords must not slow mail I/O. One user APPENDs small messages, one
// at a time, and we take the latency of each (APPEND sent to tagged OK: file write, fsync, commit):
// first quiet, then while 200 clients, each from its own loopback address (127.0.1.x), send IMAP
// LOGINs with wrong passwords for another user as fast as the answers come. Postern's failed-auth
// limiter is opened up for this (postern-bench-server.ts openAuthLimits) so that every attempt
// reaches password hashing; Dovecot keeps its own defaults (its anvil auth penalty slows failing
// addresses). Target: Postern's p99 under the flood at most 2x its quiet p99. For reference, the same
// with Postern's scrypt on libuv's thread pool, as before the hash pool (diagnosis option).
import { appendMessage, BENCH_PASSWORD } from './bench-messages.js';
import { startDovecotBench } from './dovecot-bench.js';
import { figure, fmt, note, now, sleep } from './figures.js';
import { ImapBenchClient, loopbackSource } from './imap-bench-client.js';
import { startPostern } from './postern-process.js';

const SECONDS = Number(process.env.BENCH_FLOOD_SECONDS ?? 10);
const ATTACKERS = Number(process.env.BENCH_FLOOD_ADDRESSES ?? 200);
/** Connections get going before the flood's latencies count. */
const WARMUP_MS = 3000;
/**
 * Postern's per-connection delay after 3 failed logins (authFailureDelayMs; 1000 in production,
 * 0 in tests). BENCH_FLOOD_DELAY_MS=0 shows the worst case: every refusal answered at once, so the
 * 200 clients loop as fast as the event loop answers them.
 */
const DELAY_MS = Number(process.env.BENCH_FLOOD_DELAY_MS ?? 1000);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Latencies {
  p50: number;
  p99: number;
  count: number;
}

/** Our user's connection, logged in before any flood (so its LOGIN is not what we measure). */
async function appender(port: number): Promise<ImapBenchClient> {
  const c = await ImapBenchClient.connect({ port, localAddress: '127.0.0.1' });
  await c.cmd(`LOGIN user1@example.test ${BENCH_PASSWORD}`);
  return c;
}

let appended = 0;

/** APPEND-to-OK latencies for `ms`. */
async function appendLatencies(c: ImapBenchClient, ms: number): Promise<Latencies> {
  const got: number[] = [];
  const end = now() + ms;
  while (now() < end) {
    const t = now();
    await c.append('INBOX', '', appendMessage(appended++), 60_000);
    got.push(now() - t);
  }
  got.sort((a, b) => a - b);
  return { p50: percentile(got, 50), p99: percentile(got, 99), count: got.length };
}

interface FloodCounts {
  failed: number;
  unavailable: number;
  /** Connections closed or refused by the server (reconnected). */
  dropped: number;
}

/** Starts the flood; returns its counters and a function that stops it and waits for the clients. */
function startFlood(port: number): { counts: FloodCounts; stop(): Promise<void> } {
  const counts: FloodCounts = { failed: 0, unavailable: 0, dropped: 0 };
  let stopping = false;
  const attacker = async (i: number) => {
    let c: ImapBenchClient | null = null;
    for (let n = 0; !stopping; n++) {
      try {
        c ??= await ImapBenchClient.connect({ port, localAddress: loopbackSource(i, 1) });
        if (c.greeting.startsWith('* BYE')) throw new Error('refused');
        const r = await c.cmd(`LOGIN user2@example.test wrong-${i}-${n}`, { allowNo: true, timeoutMs: 60_000 });
        if (r.status === 'OK') throw new Error('a wrong password logged in');
        if (r.text.startsWith('NO [UNAVAILABLE]')) counts.unavailable++;
        else counts.failed++;
      } catch (err) {
        if ((err as Error).message === 'a wrong password logged in') throw err;
        counts.dropped++;
        c?.close();
        c = null;
        await sleep(50);
      }
    }
    c?.close();
  };
  const all = Promise.all(Array.from({ length: ATTACKERS }, (_, i) => attacker(i)));
  return {
    counts,
    async stop() {
      stopping = true;
      await all;
    },
  };
}

/** Quiet latencies, then latencies under the flood, and the flood's answers per second. */
async function measure(port: number): Promise<{ quiet: Latencies; flood: Latencies; counts: FloodCounts }> {
  const c = await appender(port);
  try {
    const quiet = await appendLatencies(c, SECONDS * 1000);
    const flood = startFlood(port);
    try {
      await sleep(WARMUP_MS);
      const before = { ...flood.counts };
      const under = await appendLatencies(c, SECONDS * 1000);
      const counts = { failed: flood.counts.failed - before.failed, unavailable: flood.counts.unavailable - before.unavailable, dropped: flood.counts.dropped - before.dropped };
      return { quiet, flood: under, counts };
    } finally {
      await flood.stop();
    }
  } finally {
    c.close();
  }
}

function describe(name: string, r: { quiet: Latencies; flood: Latencies; counts: FloodCounts }): void {
  const s = SECONDS;
  note(`${name}: APPEND-to-OK quiet p50 ${fmt(r.quiet.p50)} ms, p99 ${fmt(r.quiet.p99)} ms (${r.quiet.count} appends); ` +
    `under the flood p50 ${fmt(r.flood.p50)} ms, p99 ${fmt(r.flood.p99)} ms (${r.flood.count} appends); p99 flood/quiet ${(r.flood.p99 / r.quiet.p99).toFixed(2)}`);
  note(`${name}: flood answers per second: wrong password ${fmt(r.counts.failed / s)}, temporary failure ${fmt(r.counts.unavailable / s)}, connections dropped ${fmt(r.counts.dropped / s)}`);
}

async function main(): Promise<void> {
  note(`login flood: ${ATTACKERS} addresses sending wrong passwords (IMAP LOGIN over TLS); ${SECONDS} s per phase`);
  note(`postern authFailureDelayMs ${DELAY_MS}; dovecot auth_failure_delay 0 with its anvil auth penalty`);
  const postern = await startPostern({ users: 2, openAuthLimits: true, authFailureDelayMs: DELAY_MS });
  let p;
  try {
    p = await measure(postern.ports.imaps);
  } finally {
    await postern.stop();
  }
  describe('postern', p);
  if (process.env.BENCH_FLOOD_DOVECOT === '0') {
    note(`postern p99 under the flood / quiet: ${(p.flood.p99 / p.quiet.p99).toFixed(2)} (target at most 2.00)`);
    return;
  }
  const dovecot = await startDovecotBench({ users: 2, connections: ATTACKERS + 50, authCache: true });
  let d;
  try {
    d = await measure(dovecot.imapsPort);
  } finally {
    await dovecot.stop();
  }
  describe('dovecot', d);
  figure('APPEND-to-OK p99, quiet', p.quiet.p99, d.quiet.p99, 'ms');
  figure('APPEND-to-OK p99, under a wrong-password flood from 200 addresses', p.flood.p99, d.flood.p99, 'ms');
  note(`postern p99 under the flood / quiet: ${(p.flood.p99 / p.quiet.p99).toFixed(2)} (target at most 2.00)`);
  if (process.env.BENCH_FLOOD_LIBUV !== '0') {
    // Reference: scrypt back on libuv's pool (shared with fs), uncapped.
    const old = await startPostern({ users: 2, openAuthLimits: true, authFailureDelayMs: DELAY_MS, hashOnLibuvPool: true });
    try {
      describe('postern, scrypt on libuv pool (before)', await measure(old.ports.imaps));
    } catch (err) {
      // Behind hundreds of queued scrypt runs, an APPEND's fsync may wait longer than the timeout.
      note(`postern, scrypt on libuv pool (before): ${(err as Error).message}`);
    } finally {
      await old.stop();
    }
  }
}

await main();
