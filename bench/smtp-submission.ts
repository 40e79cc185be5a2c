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

const SECONDS = Number(process.env.BENCH_SMTP_SECONDS ?? 15);
const CONNECTIONS = 10;

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

/** Messages per second, and the CPU milliseconds per message of the given server processes. */
async function rate(port: number, rcpt: string, serverPids: number[]): Promise<{ rate: number; cpuMs: number }> {
  const clients = await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    const c = await SmtpBenchClient.connect(port);
    await c.cmd('EHLO bench.example\r\n', 250);
    await c.cmd(`AUTH PLAIN ${Buffer.from(`\0user1@example.test\0${BENCH_PASSWORD}`).toString('base64')}\r\n`, 235);
    return c;
  }));
  let n = 0;
  const cpu = () => serverPids.reduce((a, pid) => a + cpuSecondsOfTree(pid), 0);
  const cpu0 = cpu();
  const r = await runFor(CONNECTIONS, SECONDS * 1000, async (w) => {
    const c = clients[w]!;
    const msg = seedMessage(n++, rcpt).toString('latin1').replace(/^From: [^\r]*/m, 'From: <user1@example.test>');
    await c.cmd('MAIL FROM:<user1@example.test>\r\n', 250);
    await c.cmd(`RCPT TO:<${rcpt}>\r\n`, 250);
    await c.cmd('DATA\r\n', 354);
    await c.cmd(msg.replace(/^\./gm, '..') + '.\r\n', 250);
    return 1;
  });
  const cpuMs = ((cpu() - cpu0) * 1000) / r.count;
  for (const c of clients) c.close();
  return { rate: r.count / (r.ms / 1000), cpuMs };
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
  note(`smtp submission: ${CONNECTIONS} connections, ${SECONDS} s per run`);
  const postern = await startPostern({ users: 2 });
  let posternRunning = true;
  const sink = await startSink();
  const dovecot = await startDovecotBench({ users: 2, relayPort: sink.port });
  try {
    const p = await rate(postern.ports.submissions, 'user2@example.test', [postern.pid]);
    const d = await rate(dovecot.submissionsPort, 'user2@example.test', [dovecot.pid, sink.pid]);
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
      const u = await rate(unsigned.ports.submissions, 'user2@example.test', [unsigned.pid]);
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
