// Incoming delivery (port 25) with DMARC enforcement and the junk filter on, beside the same with
// them off (dmarc.enforce false, junk.enabled false; SPF/DKIM/DMARC are verified in both), and the
// per-message classification cost (tokenize + score, event-loop time) on a trained model. Messages
// come from the generated corpus (test/junk/corpus.ts), each DKIM-signed by its sender domain and
// sent from the address its SPF record lists; unbound serves the records. The servers run in this
// process, in turns, so both setups share the machine's load alike. Dovecot has no DMARC or
// Bayesian filter of its own, so there is no side-by-side Dovecot figure here.

import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { dkimSign } from 'mailauth';
import { silentLogger } from '../src/log/logger.js';
import { JunkService } from '../src/junk/service.js';
import { tokenize } from '../src/junk/tokenizer.js';
import { resolverAt } from '../src/server/dns-resolver.js';
import { generateDkimKeys } from '../src/smtp/server/index.js';
import { startUnbound } from '../test/dmarc/unbound.js';
import { startTestServer, ADDRESS } from '../test/e2e/server-harness.js';
import { generateCorpus } from '../test/junk/corpus.js';
import { fmt, note, runFor } from './figures.js';

const SECONDS = Number(process.env.BENCH_INCOMING_SECONDS ?? 8);
const ROUNDS = 2;
const CONNECTIONS = 4;
const SENDER = 'bench-sender.test';
const SENDER_IP = '127.0.0.10';

class Client {
  private buf = '';
  private waiter: ((code: number, text: string) => void) | null = null;
  private constructor(private sock: Socket) {
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      this.buf += d;
      const m = /(?:^|\r\n)(\d{3}) [^\r\n]*\r\n/.exec(this.buf);
      if (!m) return;
      const text = this.buf;
      this.buf = '';
      const w = this.waiter;
      this.waiter = null;
      w?.(Number(m[1]), text);
    });
  }

  static async open(port: number): Promise<Client> {
    const sock = connect({ host: '127.0.0.1', port, localAddress: SENDER_IP });
    const c = new Client(sock);
    const g = c.next();
    await once(sock, 'connect');
    await c.check(g, 220);
    await c.cmd('EHLO mx.bench-sender.test\r\n', 250);
    return c;
  }

  private next(): Promise<{ code: number; text: string }> {
    return new Promise((resolve) => (this.waiter = (code, text) => resolve({ code, text })));
  }

  private async check(p: Promise<{ code: number; text: string }>, code: number): Promise<void> {
    const r = await p;
    if (r.code !== code) throw new Error(`expected ${code}: ${r.text.trim()}`);
  }

  cmd(line: string, code: number): Promise<void> {
    const p = this.next();
    this.sock.write(line);
    return this.check(p, code);
  }

  close(): void {
    this.sock.destroy();
  }
}

async function main(): Promise<void> {
  const key = generateDkimKeys(SENDER).find((k) => k.algorithm === 'rsa')!;
  const dns = await startUnbound([SENDER, 'example.test'], [
    { name: SENDER, type: 'TXT', value: `v=spf1 ip4:${SENDER_IP} -all` },
    { name: `_dmarc.${SENDER}`, type: 'TXT', value: 'v=DMARC1; p=reject' },
    { name: key.dnsName, type: 'TXT', value: key.dnsRecord },
  ]);
  const corpus = generateCorpus(400, 77);
  const signed: string[] = [];
  for (const m of corpus) {
    const raw = m.raw.toString('utf8').replace(/^From: ([^<\r]*)<[^>]*>/m, `From: $1<news@${SENDER}>`);
    const k = { signingDomain: SENDER, selector: key.selector, privateKey: key.privateKeyPem, algorithm: 'rsa-sha256' };
    const sig = await dkimSign(raw, { ...k, signatureData: [k] });
    signed.push((sig.signatures + raw).replace(/^\./gm, '..') + '.\r\n');
  }

  const setups = [
    { name: 'on', config: { dmarc: { enforce: true }, junk: { enabled: true } } },
    { name: 'off', config: { dmarc: { enforce: false }, junk: { enabled: false } } },
  ];
  const totals = new Map(setups.map((s) => [s.name, { messages: 0, ms: 0 }]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const setup of setups) {
      const srv = await startTestServer({ services: ['smtp'], hooks: { resolver: resolverAt(dns.address) }, config: setup.config });
      const store = srv.server.ctx.store;
      const id = (await store.lookupAddress(ADDRESS))!.accountId;
      if (srv.server.ctx.junk) {
        // A trained model, as an account in use has.
        for (const m of corpus.slice(0, 200)) await srv.server.ctx.junk.trainer.trainOne(id, m.raw, m.spam);
        await store.junk.markSeeded(id);
      }
      const clients = await Promise.all(Array.from({ length: CONNECTIONS }, () => Client.open(srv.ports.smtp!)));
      let n = 0;
      const send = async (w: number) => {
        const c = clients[w]!;
        await c.cmd(`MAIL FROM:<bounce@${SENDER}>\r\n`, 250);
        await c.cmd(`RCPT TO:<${ADDRESS}>\r\n`, 250);
        await c.cmd('DATA\r\n', 354);
        await c.cmd(signed[n++ % signed.length]!, 250);
        return 1;
      };
      await runFor(CONNECTIONS, 1000, send);
      const r = await runFor(CONNECTIONS, SECONDS * 1000, send);
      if (r.errors) throw new Error(`${r.errors} deliveries failed`);
      const t = totals.get(setup.name)!;
      t.messages += r.count;
      t.ms += r.ms;
      for (const c of clients) c.close();
      await srv.stop();
    }
  }
  const rate = (name: string) => totals.get(name)!.messages / (totals.get(name)!.ms / 1000);
  console.log(`incoming delivery, ${CONNECTIONS} connections, DKIM-signed corpus mail: DMARC+filter on ${fmt(rate('on'))} msg/s, off ${fmt(rate('off'))} msg/s, ratio ${(rate('on') / rate('off')).toFixed(2)}`);

  // Classification cost alone: event-loop time of tokenize + score on a trained model.
  const { SqliteStore } = await import('../src/store/sqlite/sqlite-store.js');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'postern-bench-junk-'));
  const store = await SqliteStore.open({ dir, recover: true });
  const id = (await store.createAccount('a', 'a@example.test')).id;
  const junk = new JunkService(store, silentLogger);
  const big = generateCorpus(2000, 5);
  for (const m of big.slice(0, 1000)) await junk.trainer.trainOne(id, m.raw, m.spam);
  await store.junk.markSeeded(id);
  const model = await junk.models.get(id);
  // One pass to warm the JIT, then the measured one.
  for (const m of big.slice(1000)) model.score(tokenize(m.raw));
  const costs: number[] = [];
  for (const m of big.slice(1000)) {
    const t0 = performance.now();
    model.score(tokenize(m.raw));
    costs.push(performance.now() - t0);
  }
  costs.sort((a, b) => a - b);
  const mean = costs.reduce((a, b) => a + b, 0) / costs.length;
  console.log(`junk classification (tokenize + score), ${costs.length} messages of ${fmt(big.slice(1000).reduce((a, m) => a + m.raw.length, 0) / costs.length)} bytes on average, model of ${model.counts.size} tokens: mean ${fmt(mean * 1000)} µs, p99 ${fmt(costs[Math.floor(costs.length * 0.99)]! * 1000)} µs, max ${fmt(costs.at(-1)! * 1000)} µs`);
  note(`the model was trained from 1000 corpus messages; held in memory as one Map entry per token`);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  await dns.stop();
}

await main();
