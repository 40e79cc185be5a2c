// The sessions of bench/imap-loadgen.ts: our own generator of the shape of imaptest's default mixed
// workload (issue 20), not imaptest itself. A client picks one of the users at random, connects over
// IMAPS, LOGINs, SELECTs INBOX, then runs cycles of the states imaptest runs by default, in its
// order, with the probabilities its documentation gives for LIST, STATUS, SELECT, FETCH and FETCH2,
// and our reading of its defaults for the STOREs, EXPUNGE and APPEND (not checked against its source):
//   LIST "" * (50%), STATUS of a random folder (MESSAGES UNSEEN RECENT) (50%), SELECT INBOX,
//   FETCH of a range (all messages below 100) with random items among UID FLAGS ENVELOPE
//   INTERNALDATE BODY BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (random headers)],
//   FETCH n (BODY.PEEK[]) of a random message (then another with 30%),
//   STORE of a random range +FLAGS/-FLAGS/FLAGS with random flags (50%),
//   STORE +FLAGS.SILENT (\Deleted) of a random message, EXPUNGE,
//   APPEND (then another with 5%),
// and either loops (sessions kept open) or LOGOUTs after one cycle and starts a new session
// (sessions that log in and out). The INBOX is kept about its starting size: the \Deleted STORE
// marks two messages while the client sees more than `target`, one otherwise (imaptest keeps its
// `msgs` target the same way), so both servers do the same work per cycle in every round.
// Sequence numbers come from the session's own view (EXISTS and EXPUNGE responses), as imaptest
// tracks them; another session's expunge can make a FETCH or STORE answer NO, which counts as a
// completed command (it is the server's answer) and is counted apart.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { appendMessage, BENCH_PASSWORD } from './bench-messages.js';
import { ImapBenchClient, loopbackSource } from './imap-bench-client.js';

export const KINDS = ['LOGIN', 'LIST', 'STATUS', 'SELECT', 'FETCH', 'FETCH2', 'STORE', 'DELETE', 'EXPUNGE', 'APPEND', 'LOGOUT'] as const;
export type Kind = (typeof KINDS)[number];
export type Mode = 'open' | 'logins';

/** The folders every user has besides INBOX (Postern creates these per account; Dovecot gets them too). */
export const FOLDERS = ['Sent', 'Drafts', 'Trash', 'Junk', 'Archive'];
const HEADERS = ['From', 'To', 'Cc', 'Subject', 'Message-ID', 'In-Reply-To', 'References', 'Delivered-To'];
const ITEMS = ['UID', 'FLAGS', 'ENVELOPE', 'INTERNALDATE', 'BODY', 'BODYSTRUCTURE', 'HEADERS'];
const FLAGS = ['\\Seen', '\\Flagged', '\\Answered', '\\Draft', '$Label1', '$Label2'];
/** imaptest fetches a range of 100 messages with a random start, or all when there are fewer. */
const FETCH_RANGE = 100;

export interface LoadgenJob {
  port: number;
  /** Client numbers [first, first + clients): the source address and random stream of each. */
  first: number;
  clients: number;
  users: number;
  mode: Mode;
  seconds: number;
  seed: number;
  /** INBOX size to keep (the messages each user starts with). */
  target: number;
}

export interface LoadgenResult {
  counts: Record<Kind, number>;
  /** Milliseconds spent waiting for each kind's replies in the window (mean latency = ms / count). */
  ms: Record<Kind, number>;
  /** FETCH/STORE answered NO (a message another session expunged meanwhile). */
  no: number;
  errors: number;
  firstError: string;
  /** Busy share of this generator thread's event loop during the window (1 = saturated). */
  elu: number;
  /** CPU seconds this generator thread used in the window (/proc/thread-self/stat). */
  threadCpu: number;
}

/** CPU seconds (user + system) of the calling thread so far; Linux counts in 1/100 s ticks. */
function threadCpuSeconds(): number {
  const stat = readFileSync('/proc/thread-self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** mulberry32: a small seeded generator, so both servers get the same choices in a round. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Window {
  readonly counts = Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<Kind, number>;
  readonly ms = Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<Kind, number>;
  no = 0;
  started = false;
  deadline = Infinity;
  over = (): boolean => this.started && performance.now() >= this.deadline;
  count(kind: Kind, status: string, sentAt: number): void {
    const t = performance.now();
    if (!this.started || t > this.deadline) return;
    this.counts[kind]++;
    this.ms[kind] += t - sentAt;
    if (status !== 'OK') this.no++;
  }
}

class Session {
  exists = 0;
  private constructor(readonly c: ImapBenchClient, readonly rand: () => number, readonly w: Window) {
    c.onUntagged = (head) => {
      const m = /^\* (\d+) (EXISTS|EXPUNGE)/.exec(head);
      if (!m) return;
      if (m[2] === 'EXISTS') this.exists = Number(m[1]);
      else this.exists--;
    };
  }

  static async open(job: LoadgenJob, client: number, rand: () => number, w: Window): Promise<Session> {
    // One source address per client: Postern admits 50 connections per client IP.
    const c = await ImapBenchClient.connect({ port: job.port, localAddress: loopbackSource(client, 1) });
    const s = new Session(c, rand, w);
    try {
      const user = 1 + Math.floor(rand() * job.users);
      await s.run('LOGIN', `LOGIN user${user}@example.test ${BENCH_PASSWORD}`);
      await s.run('SELECT', 'SELECT INBOX');
    } catch (err) {
      c.close();
      throw err;
    }
    return s;
  }

  async run(kind: Kind, command: string, allowNo = false): Promise<void> {
    const t = performance.now();
    const r = await this.c.cmd(command, { allowNo });
    this.w.count(kind, r.status, t);
  }

  private pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.rand() * list.length)]!;
  }

  private seq(): number {
    return 1 + Math.floor(this.rand() * this.exists);
  }

  private range(): string {
    if (this.exists <= FETCH_RANGE) return '1:*';
    const a = 1 + Math.floor(this.rand() * (this.exists - FETCH_RANGE + 1));
    return `${a}:${a + FETCH_RANGE - 1}`;
  }

  private fetchItems(): string {
    const items = ITEMS.filter(() => this.rand() < 0.5);
    if (!items.length) items.push(this.pick(ITEMS));
    return items.map((i) => (i === 'HEADERS' ? `BODY.PEEK[HEADER.FIELDS (${HEADERS.filter(() => this.rand() < 0.4).join(' ') || 'Subject'})]` : i)).join(' ');
  }

  /** One pass over the states after LOGIN; `appendSeq` numbers the APPENDed messages. */
  async cycle(target: number, appendSeq: { n: number }): Promise<void> {
    const r = this.rand;
    if (r() < 0.5) await this.run('LIST', 'LIST "" *');
    if (r() < 0.5) await this.run('STATUS', `STATUS ${this.pick(['INBOX', ...FOLDERS])} (MESSAGES UNSEEN RECENT)`);
    await this.run('SELECT', 'SELECT INBOX');
    if (this.exists > 0) {
      await this.run('FETCH', `FETCH ${this.range()} (${this.fetchItems()})`, true);
      do await this.run('FETCH2', `FETCH ${this.seq()} (BODY.PEEK[])`, true);
      while (r() < 0.3 && !this.w.over());
      if (r() < 0.5) {
        const a = this.seq();
        const b = Math.min(this.exists, a + Math.floor(r() * 5));
        const flags = FLAGS.filter(() => r() < 0.3).join(' ') || '\\Seen';
        await this.run('STORE', `STORE ${a}:${b} ${this.pick(['+', '-', ''])}FLAGS (${flags})`, true);
      }
      const a = this.seq();
      const set = this.exists > target && a < this.exists ? `${a}:${a + 1}` : String(a);
      await this.run('DELETE', `STORE ${set} +FLAGS.SILENT (\\Deleted)`, true);
    }
    await this.run('EXPUNGE', 'EXPUNGE');
    do {
      const t = performance.now();
      const reply = await this.c.append('INBOX', r() < 0.5 ? '\\Seen' : '', appendMessage(appendSeq.n++));
      this.w.count('APPEND', reply.status, t);
    } while (r() < 0.05 && !this.w.over());
  }

  close(): void {
    this.c.close();
  }
}

/**
 * Runs `job` for its window: kept-open sessions log in before the window opens (not counted),
 * log-in-and-out sessions connect inside it. `ready` is called once the window can start, and the
 * window starts when `start()` resolves (the caller reads CPU counters between the two).
 */
export async function runJob(job: LoadgenJob, ready: () => void, start: Promise<void>): Promise<LoadgenResult> {
  const w = new Window();
  const appendSeq = { n: job.seed * 1_000_000 };
  let errors = 0;
  let firstError = '';
  const clients = Array.from({ length: job.clients }, (_, i) => job.first + i);
  const rands = clients.map((c) => random(job.seed * 7919 + c));
  const open = job.mode === 'open' ? await Promise.all(clients.map((c, i) => Session.open(job, c, rands[i]!, w))) : [];
  ready();
  await start;
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = threadCpuSeconds();
  w.started = true;
  w.deadline = performance.now() + job.seconds * 1000;
  await Promise.all(clients.map(async (client, i) => {
    let s: Session | null = open[i] ?? null;
    while (!w.over()) {
      try {
        s ??= await Session.open(job, client, rands[i]!, w);
        while (!w.over()) {
          await s.cycle(job.target, appendSeq);
          if (job.mode === 'logins') {
            await s.run('LOGOUT', 'LOGOUT');
            break;
          }
        }
      } catch (err) {
        if (!w.over()) {
          errors++;
          firstError ||= (err as Error).message;
          if (errors > 100) throw new Error(`too many errors; first: ${firstError}`);
        }
      }
      s?.close();
      s = null;
    }
  }));
  const elu = performance.eventLoopUtilization(elu0).utilization;
  return { counts: w.counts, ms: w.ms, no: w.no, errors, firstError, elu, threadCpu: threadCpuSeconds() - cpu0 };
}
