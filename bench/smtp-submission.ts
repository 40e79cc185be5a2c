// Workload 4: SMTP submission over implicit TLS with 10 connections, each AUTH PLAIN once, then
// messages back to back (MAIL, RCPT, DATA) to a local mailbox. Postern delivers into the
// recipient's INBOX (blob fsynced, SQLite commit) before its 250; Dovecot's submission relays to our
// SMTP sink (bench/smtp-sink.ts), which fsyncs each message into a maildir before its 250: the
// best Dovecot can do, since it has no local delivery in submission. Figure: messages per second.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { connect, type TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { BENCH_PASSWORD, seedMessage } from './bench-messages.js';
import { startDovecotBench } from './dovecot-bench.js';
import { cpuSecondsOfTree, figure, fmt, note, runFor } from './figures.js';
import { startPostern } from './postern-process.js';

/** Measured seconds per server, split into ROUNDS alternating rounds. */
const SECONDS = Number(process.env.BENCH_SMTP_SECONDS ?? 24);
const ROUNDS = 4;
const UNSIGNED_SECONDS = 8;
const CONNECTIONS = 10;
const WARMUP_SECONDS = Number(process.env.BENCH_SMTP_WARMUP_SECONDS ?? 3);

/** A minimal SMTP client: one command, one (possibly multi-line) reply, with a timeout. */
class SmtpBenchClient {
  private buf = '';
  private waiter: ((code: number, text: string) => void) | null = null;
  private constructor(private sock: TLSSocket) {
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      this.buf += d;
      for (;;) {
        const m = /(?:^|\r\n)(\d{3}) [^\r\n]*\r\n/.exec(this.buf);
        if (!m) return;
        const text = this.buf.slice(0, m.index + m[0].length);
        this.buf = this.buf.slice(m.index + m[0].length);
        const w = this.waiter;
        this.waiter = null;
        w?.(Number(m[1]), text);
      }
    });
    sock.on('error', () => undefined);
  }

  static async connect(port: number): Promise<SmtpBenchClient> {
    const sock = connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
    const c = new SmtpBenchClient(sock);
    const greeting = c.next();
    await once(sock, 'secureConnect');
    await c.expect(greeting, 220);
    return c;
  }

  private next(timeoutMs = 30_000): Promise<{ code: number; text: string }> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('SMTP reply timeout')), timeoutMs);
      this.waiter = (code, text) => (clearTimeout(t), resolve({ code, text }));
    });
  }

  private async expect(p: Promise<{ code: number; text: string }>, code: number): Promise<void> {
    const r = await p;
    if (r.code !== code) throw new Error(`expected ${code}, got ${r.text.trim()}`);
  }

  cmd(line: string | Buffer, code: number): Promise<void> {
    const p = this.next();
    this.sock.write(line);
    return this.expect(p, code);
  }

  close(): void {
    this.sock.destroy();
  }
}

/** One server's load: its connections (logged in once), and the counts of the measured rounds. */
class SubmissionLoad {
  private n = 0;
  messages = 0;
  ms = 0;
  cpuSeconds = 0;
  private constructor(
    private readonly clients: SmtpBenchClient[],
    private readonly rcpt: string,
    private readonly serverPids: number[],
  ) {}

  static async open(port: number, rcpt: string, serverPids: number[]): Promise<SubmissionLoad> {
    const clients = await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
      const c = await SmtpBenchClient.connect(port);
      await c.cmd('EHLO bench.example\r\n', 250);
      await c.cmd(`AUTH PLAIN ${Buffer.from(`\0user1@example.test\0${BENCH_PASSWORD}`).toString('base64')}\r\n`, 235);
      return c;
    }));
    return new SubmissionLoad(clients, rcpt, serverPids);
  }

  private send = async (w: number): Promise<number> => {
    const c = this.clients[w]!;
    const msg = seedMessage(this.n++, this.rcpt).toString('latin1').replace(/^From: [^\r]*/m, 'From: <user1@example.test>');
    await c.cmd('MAIL FROM:<user1@example.test>\r\n', 250);
    await c.cmd(`RCPT TO:<${this.rcpt}>\r\n`, 250);
    await c.cmd('DATA\r\n', 354);
    await c.cmd(msg.replace(/^\./gm, '..') + '.\r\n', 250);
    return 1;
  };

  /** The same load, not counted. */
  async warm(seconds: number): Promise<void> {
    await runFor(CONNECTIONS, seconds * 1000, this.send);
  }

  /** One measured round: messages, time and the servers' CPU add up over the rounds. */
  async round(seconds: number): Promise<void> {
    const cpu = () => this.serverPids.reduce((a, pid) => a + cpuSecondsOfTree(pid), 0);
    const cpu0 = cpu();
    const r = await runFor(CONNECTIONS, seconds * 1000, this.send);
    this.cpuSeconds += cpu() - cpu0;
    this.messages += r.count;
    this.ms += r.ms;
  }

  get rate(): number {
    return this.messages / (this.ms / 1000);
  }

  /** Server CPU milliseconds per message. */
  get cpuMs(): number {
    return (this.cpuSeconds * 1000) / this.messages;
  }

  close(): void {
    for (const c of this.clients) c.close();
  }
}

async function startSink(): Promise<{ port: number; dir: string; pid: number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./smtp-sink.js', import.meta.url))], { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve));
  const info = JSON.parse(line) as { port: number; dir: string };
  return {
    ...info,
    pid: child.pid!,
    stop: async () => {
      child.stdin!.end();
      await once(child, 'exit');
    },
  };
}

async function main(): Promise<void> {
  note(`smtp submission: ${CONNECTIONS} connections, ${WARMUP_SECONDS} s of warm-up each, then ${ROUNDS} alternating rounds of ${SECONDS / ROUNDS} s per server`);
  const postern = await startPostern({ users: 2 });
  let posternRunning = true;
  const sink = await startSink();
  const dovecot = await startDovecotBench({ users: 2, relayPort: sink.port });
  try {
    const p = await SubmissionLoad.open(postern.ports.submissions, 'user2@example.test', [postern.pid]);
    const d = await SubmissionLoad.open(dovecot.submissionsPort, 'user2@example.test', [dovecot.pid, sink.pid]);
    // Until both servers are in their steady state: Postern's JIT compiles its hot paths in the
    // first seconds (and so does the Node sink behind Dovecot).
    await p.warm(WARMUP_SECONDS);
    await d.warm(WARMUP_SECONDS);
    // This VM's speed drifts by 20% within a minute: alternating short rounds gives both servers
    // the same mix of fast and slow moments, where one long run each would compare two moments.
    for (let i = 0; i < ROUNDS; i++) {
      await p.round(SECONDS / ROUNDS);
      await d.round(SECONDS / ROUNDS);
    }
    p.close();
    d.close();
    note(`sink holds ${readdirSync(join(sink.dir, 'new')).length} messages relayed by dovecot`);
    // Both servers share the 2 cores with the load generator; CPU per message is the cost itself.
    note(`server CPU per message: postern ${fmt(p.cpuMs)} ms, dovecot with the sink ${fmt(d.cpuMs)} ms`);
    figure('smtp submission, 10 connections, delivered durably', p.rate, d.rate, 'messages/s');
    await postern.stop();
    posternRunning = false;
    // Diagnosis, not a figure: Postern signs every submitted message with DKIM (Ed25519 and RSA),
    // Dovecot's submission signs nothing. The same run without keys shows what signing costs.
    const unsigned = await startPostern({ users: 2, noDkim: true });
    try {
      const u = await SubmissionLoad.open(unsigned.ports.submissions, 'user2@example.test', [unsigned.pid]);
      await u.warm(WARMUP_SECONDS);
      await u.round(UNSIGNED_SECONDS);
      u.close();
      note(`postern without DKIM signing: ${u.rate.toFixed(0)} messages/s, server CPU ${fmt(u.cpuMs)} ms per message`);
    } finally {
      await unsigned.stop();
    }
  } finally {
    if (posternRunning) await postern.stop();
    await dovecot.stop();
    await sink.stop();
  }
}

await main();
