// Workload: searches kept current (RFC 5267 CONTEXT=SEARCH, RETURN (UPDATE)) on a big mailbox. One
// session keeps results current, another changes one message's flags per round; the figure is the
// time of the first session's NOOP that reports the change (with its ADDTO/REMOVEFROM), without any
// kept result and with ten (the per-session limit of both servers), and the time of the command that
// starts keeping a result against the same command without UPDATE. Postern also with ten SORT
// results kept (Dovecot does not offer CONTEXT=SORT: its figure is the SEARCH one, marked so).
// BENCH_CONTEXT_MESSAGES sets the mailbox size (default 20,000), BENCH_CONTEXT_ROUNDS the rounds.
import { BENCH_PASSWORD } from './bench-messages.js';
import { startDovecotBench } from './dovecot-bench.js';
import { figure, note, now } from './figures.js';
import { ImapBenchClient } from './imap-bench-client.js';
import { startPostern } from './postern-process.js';

const COUNT = Number(process.env.BENCH_CONTEXT_MESSAGES ?? 20_000);
const ROUNDS = Number(process.env.BENCH_CONTEXT_ROUNDS ?? 100);
const KEPT = 10;
const SEARCHES = ['UNSEEN', 'FLAGGED', 'SEEN UNFLAGGED', 'OR FLAGGED UNSEEN', 'UNANSWERED', 'NOT SEEN', 'ANSWERED', 'DELETED', 'UNDELETED UNSEEN', 'DRAFT'];

interface Figures { create: number; plain: number; noopNone: number; noopSearch: number; noopSort: number; appendSearch: number }

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function login(port: number): Promise<ImapBenchClient> {
  const c = await ImapBenchClient.connect({ port });
  await c.cmd(`LOGIN big@example.test ${BENCH_PASSWORD}`);
  await c.cmd('SELECT INBOX', { timeoutMs: 300_000 });
  return c;
}

/** Rounds of: b flips \Seen of one message, a's NOOP reports it; the median NOOP time. */
async function flips(a: ImapBenchClient, b: ImapBenchClient, seed: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const uid = 1 + ((seed + i * 7919) % COUNT);
    await b.cmd(`UID STORE ${uid} ${i % 2 ? '-' : '+'}FLAGS (\\Seen \\Flagged)`);
    const t = now();
    await a.cmd('NOOP');
    times.push(now() - t);
  }
  return median(times);
}

async function run(port: number, withSort: boolean): Promise<Figures> {
  const a = await login(port);
  const b = await login(port);
  try {
    let t = now();
    await a.cmd('UID SEARCH RETURN (COUNT) UNSEEN');
    const plain = now() - t;
    const noopNone = await flips(a, b, 1);
    t = now();
    await a.cmd(`UID SEARCH RETURN (UPDATE COUNT) ${SEARCHES[0]}`);
    const create = now() - t;
    for (const s of SEARCHES.slice(1, KEPT)) await a.cmd(`SEARCH RETURN (UPDATE COUNT) ${s}`);
    const noopSearch = await flips(a, b, 2);
    // New mail: ten ADDTO evaluations per message.
    const appends: number[] = [];
    for (let i = 0; i < Math.min(ROUNDS, 30); i++) {
      await b.append('INBOX', '', Buffer.from(`Subject: new ${i}\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\nhello\r\n`));
      const t1 = now();
      await a.cmd('NOOP');
      appends.push(now() - t1);
    }
    let noopSort = NaN;
    if (withSort) {
      await a.cmd('UNSELECT');
      await a.cmd('SELECT INBOX', { timeoutMs: 300_000 });
      for (const s of SEARCHES.slice(0, KEPT)) await a.cmd(`UID SORT RETURN (UPDATE COUNT) (DATE) UTF-8 ${s}`, { timeoutMs: 300_000 });
      noopSort = await flips(a, b, 3);
    }
    return { create, plain, noopNone, noopSearch, noopSort, appendSearch: median(appends) };
  } finally {
    a.close();
    b.close();
  }
}

async function main(): Promise<void> {
  note(`kept search results (RFC 5267): ${COUNT} messages, ${ROUNDS} rounds, ${KEPT} kept per session`);
  const postern = await startPostern({ users: 0, big: COUNT });
  let p: Figures;
  try {
    p = await run(postern.ports.imaps, true);
  } finally {
    await postern.stop();
  }
  const dovecot = await startDovecotBench({ users: 0, big: COUNT });
  let d: Figures;
  try {
    d = await run(dovecot.imapsPort, false);
  } finally {
    await dovecot.stop();
  }
  figure('UID SEARCH RETURN (COUNT) UNSEEN', p.plain, d.plain, 'ms');
  figure('UID SEARCH RETURN (UPDATE COUNT) UNSEEN (starts keeping it)', p.create, d.create, 'ms');
  figure('NOOP reporting one flag change, nothing kept (median)', p.noopNone, d.noopNone, 'ms');
  figure(`NOOP reporting one flag change, ${KEPT} SEARCH results kept (median)`, p.noopSearch, d.noopSearch, 'ms');
  figure(`NOOP reporting one new message, ${KEPT} SEARCH results kept (median)`, p.appendSearch, d.appendSearch, 'ms');
  figure(`NOOP reporting one flag change, ${KEPT} SORT results kept (dovecot: its SEARCH figure)`, p.noopSort, d.noopSearch, 'ms');
}

await main();
