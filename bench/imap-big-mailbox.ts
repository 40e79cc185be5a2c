// Workload 5: a big mailbox. Postern is filled through its store API (as delivery does: each
// message's file fsynced, rows committed in batches), Dovecot's maildir by writing files. Then, over
// TLS, each server: SELECT INBOX (the first, when Dovecot builds its index from the maildir, and a
// second one), `UID FETCH 1:* (FLAGS)`, `SEARCH BODY <rare word>` (no full-text index on either),
// SORT by date and by subject and THREAD=REFERENCES (RFC 5256), each a first time (Dovecot reads the
// headers into its cache file; Postern reads the keys stored with each message) and again.
// Figures: time per step, and the highest memory seen while they ran (Postern: RSS of its process;
// Dovecot: PSS summed over its processes), sampled every 20 ms. BENCH_BIG_MESSAGES sets the count
// (default 100,000: about 50 s to fill Postern, 10 s Dovecot, under 2 minutes in all here).
import { createHash } from 'node:crypto';
import { BENCH_PASSWORD, RARE_WORD } from './bench-messages.js';
import { startDovecotBench } from './dovecot-bench.js';
import { figure, MiB, note, now, pssOfTree, rssOf } from './figures.js';
import { ImapBenchClient } from './imap-bench-client.js';
import { startPostern } from './postern-process.js';

const COUNT = Number(process.env.BENCH_BIG_MESSAGES ?? 100_000);
const STEPS = [
  ['SELECT INBOX (first)', 'SELECT INBOX'],
  ['SELECT INBOX (again)', 'SELECT INBOX'],
  ['UID FETCH 1:* (FLAGS)', 'UID FETCH 1:* (FLAGS)'],
  [`SEARCH BODY ${RARE_WORD}`, `SEARCH BODY ${RARE_WORD}`],
  ['SORT (DATE) (first)', 'SORT (DATE) UTF-8 ALL'],
  ['SORT (DATE) (again)', 'SORT (DATE) UTF-8 ALL'],
  ['SORT (SUBJECT) (first)', 'SORT (SUBJECT) UTF-8 ALL'],
  ['SORT (SUBJECT) (again)', 'SORT (SUBJECT) UTF-8 ALL'],
  ['THREAD REFERENCES (first)', 'THREAD REFERENCES UTF-8 ALL'],
  ['THREAD REFERENCES (again)', 'THREAD REFERENCES UTF-8 ALL'],
] as const;

interface StepResult { ms: number; untagged: number; answer: string }

async function steps(port: number, memory: () => number): Promise<{ results: StepResult[]; peak: number; idle: number }> {
  const c = await ImapBenchClient.connect({ port });
  await c.cmd(`LOGIN big@example.test ${BENCH_PASSWORD}`);
  const idle = memory();
  let peak = idle;
  const sampler = setInterval(() => (peak = Math.max(peak, memory())), 20);
  const results: StepResult[] = [];
  try {
    for (const [, command] of STEPS) {
      const t = now();
      const r = await c.cmd(command, { timeoutMs: 300_000, lines: /^(SORT|THREAD)/.test(command) });
      // SORT and THREAD answers are compared between the servers (a digest, not the 600 KB line).
      const answer = r.lines ? createHash('sha256').update(r.lines.filter((l) => /^\* (SORT|THREAD)/.test(l)).join('\n')).digest('hex').slice(0, 12) : '';
      results.push({ ms: now() - t, untagged: r.untagged, answer });
      peak = Math.max(peak, memory());
    }
  } finally {
    clearInterval(sampler);
    c.close();
  }
  return { results, peak, idle };
}

async function main(): Promise<void> {
  note(`imap big mailbox: ${COUNT} messages`);
  let t = now();
  const postern = await startPostern({ users: 0, big: COUNT });
  note(`postern filled in ${((now() - t) / 1000).toFixed(1)} s (store API, fsync per message file)`);
  let p;
  try {
    p = await steps(postern.ports.imaps, () => rssOf(postern.pid));
  } finally {
    await postern.stop();
  }
  t = now();
  const dovecot = await startDovecotBench({ users: 0, big: COUNT });
  note(`dovecot filled in ${((now() - t) / 1000).toFixed(1)} s (maildir files written, no fsync)`);
  let d;
  try {
    d = await steps(dovecot.imapsPort, () => pssOfTree(dovecot.pid));
  } finally {
    await dovecot.stop();
  }
  STEPS.forEach(([name], i) => {
    figure(`big mailbox (${COUNT}): ${name}`, p.results[i]!.ms, d.results[i]!.ms, 'ms');
  });
  note(`SEARCH answers (untagged): postern ${p.results[3]!.untagged}, dovecot ${d.results[3]!.untagged}`);
  STEPS.forEach(([name], i) => {
    const a = p.results[i]!.answer;
    if (a) note(`${name}: answers ${a === d.results[i]!.answer ? 'identical' : `differ (postern ${a}, dovecot ${d.results[i]!.answer})`}`);
  });
  figure(`big mailbox (${COUNT}): memory before the steps`, p.idle / MiB, d.idle / MiB, 'MiB');
  figure(`big mailbox (${COUNT}): peak memory during the steps`, p.peak / MiB, d.peak / MiB, 'MiB');
}

await main();
