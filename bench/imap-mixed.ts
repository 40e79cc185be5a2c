// Workload 1: mixed IMAP sessions like a mail client's, 10 and 50 concurrent clients, over 1 user
// and over 50 users. A session: LOGIN, SELECT INBOX, then rounds of FETCH 1:* (FLAGS), FETCH of
// ten messages' FLAGS/ENVELOPE/BODYSTRUCTURE, FETCH BODY.PEEK[] of one, STORE, APPEND, UID STORE
// \Deleted on the appended message, EXPUNGE; then LOGOUT. Clients log in before the window opens (a
// mail client stays connected); new sessions inside it count their LOGIN and SELECT. The seed
// messages are never deleted, so sequence numbers 1..SEED stay valid. Figure: commands completed per second.
import { startDovecotBench } from './dovecot-bench.js';
import { figure, note, now } from './figures.js';
import { appendMessage } from './bench-messages.js';
import { appendUid, ImapBenchClient, loopbackSource } from './imap-bench-client.js';
import { BENCH_PASSWORD } from './bench-messages.js';
import { startPostern } from './postern-process.js';

const SECONDS = Number(process.env.BENCH_MIXED_SECONDS ?? 15);
const ROUNDS = Number(process.env.BENCH_MIXED_ROUNDS ?? 10);
const SEED = 50;
const USERS = 50;
const CONFIGS = [
  { clients: 10, users: 1 },
  { clients: 10, users: 50 },
  { clients: 50, users: 1 },
  { clients: 50, users: 50 },
];

interface Counter { done: number; deadline: number; started: boolean }

// BENCH_MIXED_DETAIL=1 prints the mean latency of each command kind (where the time goes).
const DETAIL = process.env.BENCH_MIXED_DETAIL ? new Map<string, { n: number; ms: number }>() : null;
async function timed<T>(kind: string, p: () => Promise<T>): Promise<T> {
  if (!DETAIL) return p();
  const t = now();
  const r = await p();
  const d = DETAIL.get(kind) ?? { n: 0, ms: 0 };
  d.n++;
  d.ms += now() - t;
  DETAIL.set(kind, d);
  return r;
}

async function login(port: number, user: number, ctr: Counter, client: number): Promise<ImapBenchClient> {
  // One source address per client (Postern admits 50 connections per IP).
  const c = await ImapBenchClient.connect({ port, localAddress: loopbackSource(client, 1) });
  try {
    await timed('LOGIN', () => c.cmd(`LOGIN user${user}@example.test ${BENCH_PASSWORD}`));
    count(ctr);
    await timed('SELECT', () => c.cmd('SELECT INBOX'));
    count(ctr);
  } catch (err) {
    c.close();
    throw err;
  }
  return c;
}

function count(ctr: Counter): void {
  if (ctr.started && now() <= ctr.deadline) ctr.done++;
}

/** The rest of a session: ROUNDS rounds, then LOGOUT. */
async function rounds(c: ImapBenchClient, stop: () => boolean, ctr: Counter, appendSeq: { n: number }): Promise<void> {
  try {
    for (let r = 0; r < ROUNDS && !stop(); r++) {
      const a = 1 + Math.floor(Math.random() * (SEED - 9));
      await timed('FETCH flags', () => c.cmd('FETCH 1:* (FLAGS)'));
      count(ctr);
      await timed('FETCH envelope', () => c.cmd(`FETCH ${a}:${a + 9} (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE)`));
      count(ctr);
      await timed('FETCH body', () => c.cmd(`FETCH ${a} (BODY.PEEK[])`));
      count(ctr);
      await timed('STORE', () => c.cmd(`STORE ${a} ${r % 2 ? '-' : '+'}FLAGS.SILENT (\\Flagged)`));
      count(ctr);
      const uid = appendUid(await timed('APPEND', () => c.append('INBOX', '\\Seen', appendMessage(appendSeq.n++))));
      count(ctr);
      await timed('UID STORE', () => c.cmd(`UID STORE ${uid} +FLAGS.SILENT (\\Deleted)`));
      count(ctr);
      await timed('EXPUNGE', () => c.cmd('EXPUNGE'));
      count(ctr);
    }
    if (!stop()) {
      await timed('LOGOUT', () => c.cmd('LOGOUT'));
      count(ctr);
    }
  } finally {
    c.close();
  }
}

/**
 * Commands per second of `clients` running sessions for SECONDS. All clients log in first, outside
 * the window (a mail client stays connected); in the window each ends its session after ROUNDS
 * rounds and starts a new one (connect, LOGIN, SELECT), and those count.
 */
async function measure(port: number, clients: number, users: number): Promise<number> {
  const ctr: Counter = { done: 0, deadline: Infinity, started: false };
  let sessions = 0;
  const nextUser = () => (users === 1 ? 1 : 1 + (sessions++ % users));
  const first = await Promise.all(Array.from({ length: clients }, (_, w) => login(port, nextUser(), ctr, w)));
  const t0 = now();
  ctr.started = true;
  ctr.deadline = t0 + SECONDS * 1000;
  const stop = () => now() >= ctr.deadline;
  const appendSeq = { n: 0 };
  let errors = 0;
  let firstError = '';
  await Promise.all(first.map(async (c0, w) => {
    let c: ImapBenchClient | null = c0;
    while (!stop()) {
      try {
        c ??= await login(port, nextUser(), ctr, w);
        await rounds(c, stop, ctr, appendSeq);
      } catch (err) {
        errors++;
        firstError ||= (err as Error).message;
        if (errors > 100) throw new Error(`too many errors: ${firstError}`);
      }
      c = null;
    }
  }));
  if (errors) note(`${errors} session errors; first: ${firstError}`);
  return ctr.done / SECONDS;
}

/** One short session per user, so that Dovecot's indexes exist before measuring (and Postern's too). */
async function warm(port: number): Promise<void> {
  const users = Array.from({ length: USERS }, (_, i) => i + 1);
  await Promise.all(Array.from({ length: 4 }, async () => {
    for (let u = users.shift(); u !== undefined; u = users.shift()) {
      const c = await ImapBenchClient.connect({ port });
      await c.cmd(`LOGIN user${u}@example.test ${BENCH_PASSWORD}`);
      await c.cmd('SELECT INBOX');
      await c.cmd('FETCH 1:* (FLAGS ENVELOPE BODYSTRUCTURE)');
      await c.cmd('LOGOUT');
      c.close();
    }
  }));
}

function detail(server: string): void {
  if (!DETAIL) return;
  note(`${server}: ` + [...DETAIL].map(([k, v]) => `${k} ${v.n}x ${(v.ms / v.n).toFixed(1)} ms`).join(', '));
  DETAIL.clear();
}

async function main(): Promise<void> {
  note(`imap mixed: ${SECONDS} s per run, ${ROUNDS} rounds of 7 commands per session, ${SEED} messages per INBOX`);
  const postern = await startPostern({ users: USERS, seed: SEED });
  const dovecot = await startDovecotBench({ users: USERS, seed: SEED, connections: 200 });
  try {
    await warm(postern.ports.imaps);
    await warm(dovecot.imapsPort);
    // BENCH_MIXED_ONLY=10x1,50x50 runs only those (clients x users).
    const only = process.env.BENCH_MIXED_ONLY?.split(',');
    for (const { clients, users } of CONFIGS.filter((c) => !only || only.includes(`${c.clients}x${c.users}`))) {
      const p = await measure(postern.ports.imaps, clients, users);
      detail('postern');
      const d = await measure(dovecot.imapsPort, clients, users);
      detail('dovecot');
      figure(`imap mixed ${clients} clients ${users} user${users > 1 ? 's' : ''}`, p, d, 'commands/s');
    }
  } finally {
    await postern.stop();
    await dovecot.stop();
  }
}

await main();
