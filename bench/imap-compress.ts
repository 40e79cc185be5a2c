// COMPRESS=DEFLATE (RFC 4978), with and without, Postern and Dovecot (imap_zlib) side by side:
// 1. The mixed workload of imap-mixed (rounds of FETCH flags, FETCH envelope/bodystructure, FETCH
//    a whole message, STORE, APPEND, UID STORE, EXPUNGE) by CLIENTS sessions over implicit TLS for
//    SECONDS: commands/s, and bytes on the wire (TCP payload, TLS records included, both ways) per
//    command.
// 2. Idle connections (SELECTed, in IDLE) with and without COMPRESS: memory per connection, as in
//    imap-idle (Postern: RSS growth; Dovecot: PSS growth of all its processes).
import { appendMessage, BENCH_PASSWORD } from './bench-messages.js';
import { startDovecotBench } from './dovecot-bench.js';
import { figure, note, now, pssOfTree, rssOf, sleep } from './figures.js';
import { appendUid, ImapBenchClient, loopbackSource, type ConnectOptions } from './imap-bench-client.js';
import { startPostern } from './postern-process.js';

const SECONDS = Number(process.env.BENCH_COMPRESS_SECONDS ?? 10);
const CLIENTS = Number(process.env.BENCH_COMPRESS_CLIENTS ?? 10);
const IDLE = Number(process.env.BENCH_COMPRESS_IDLE ?? 2000);
const SEED = 50;

interface MixedResult { perSecond: number; bytesPerCommand: number; readPerCommand: number }

async function session(port: number, i: number, compress: boolean): Promise<ImapBenchClient> {
  const c = await ImapBenchClient.connect({ port, localAddress: loopbackSource(i, 1), countWire: true });
  await c.cmd(`LOGIN user1@example.test ${BENCH_PASSWORD}`);
  if (compress) await c.compress();
  await c.cmd('SELECT INBOX');
  return c;
}

async function mixed(port: number, compress: boolean): Promise<MixedResult> {
  const clients = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => session(port, i, compress)));
  const start = clients.map((c) => c.wireBytes());
  let done = 0;
  let seq = 0;
  const deadline = now() + SECONDS * 1000;
  await Promise.all(clients.map(async (c) => {
    for (let r = 0; now() < deadline; r++) {
      const a = 1 + Math.floor(Math.random() * (SEED - 9));
      const step = async (p: Promise<unknown>): Promise<void> => {
        await p;
        if (now() < deadline) done++;
      };
      await step(c.cmd('FETCH 1:* (FLAGS)'));
      await step(c.cmd(`FETCH ${a}:${a + 9} (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE)`));
      await step(c.cmd(`FETCH ${a} (BODY.PEEK[])`));
      await step(c.cmd(`STORE ${a} ${r % 2 ? '-' : '+'}FLAGS.SILENT (\\Flagged)`));
      const ok = await c.append('INBOX', '\\Seen', appendMessage(seq++));
      if (now() < deadline) done++;
      await step(c.cmd(`UID STORE ${appendUid(ok)} +FLAGS.SILENT (\\Deleted)`));
      await step(c.cmd('EXPUNGE'));
    }
  }));
  let read = 0;
  let written = 0;
  clients.forEach((c, i) => {
    const w = c.wireBytes();
    read += w.read - start[i]!.read;
    written += w.written - start[i]!.written;
  });
  for (const c of clients) c.close();
  // Bytes counted past the deadline belong to at most one command per client: negligible.
  return { perSecond: done / SECONDS, bytesPerCommand: (read + written) / done, readPerCommand: read / done };
}

async function idleMemory(connect: ConnectOptions, login: (c: ImapBenchClient) => Promise<void>, compress: boolean, memory: () => number): Promise<number> {
  const open = async (i: number): Promise<ImapBenchClient> => {
    const c = await ImapBenchClient.connect({ ...connect, timeoutMs: 60_000, localAddress: loopbackSource(i) });
    await login(c);
    if (compress) await c.compress();
    await c.cmd('SELECT INBOX');
    await c.idle();
    return c;
  };
  // Warm the code paths (and Dovecot's process pool) first.
  for (const c of await Promise.all(Array.from({ length: 20 }, (_, i) => open(i)))) c.close();
  await sleep(2000);
  const before = memory();
  const clients: ImapBenchClient[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: 50 }, async () => {
    while (next < IDLE) clients.push(await open(next++));
  }));
  // Longer than COMPRESS_DEFLATE_RELEASE_MS: Postern has freed the deflate state of idle sessions.
  await sleep(4000);
  const after = memory();
  for (const c of clients) c.close();
  await sleep(1000);
  return (after - before) / IDLE;
}

async function main(): Promise<void> {
  note(`imap compress: ${CLIENTS} clients for ${SECONDS} s per run, ${SEED} messages in INBOX; ${IDLE} idle connections`);
  const postern = await startPostern({ users: 1, seed: SEED });
  const dovecot = await startDovecotBench({ users: 1, seed: SEED, connections: IDLE + 100, compress: true });
  try {
    // Warm both (indexes, caches) with one pass of each kind.
    await mixed(postern.ports.imaps, false);
    await mixed(dovecot.imapsPort, false);
    const results: Record<string, { p: MixedResult; d: MixedResult }> = {};
    for (const compress of [false, true]) {
      results[compress ? 'with' : 'without'] = { p: await mixed(postern.ports.imaps, compress), d: await mixed(dovecot.imapsPort, compress) };
    }
    for (const k of ['without', 'with']) {
      const { p, d } = results[k]!;
      figure(`imap mixed ${CLIENTS} clients ${k} COMPRESS`, p.perSecond, d.perSecond, 'commands/s');
    }
    for (const k of ['without', 'with']) {
      const { p, d } = results[k]!;
      figure(`imap mixed ${k} COMPRESS: bytes on the wire per command`, p.bytesPerCommand, d.bytesPerCommand, 'bytes');
      figure(`imap mixed ${k} COMPRESS: bytes received by the client per command`, p.readPerCommand, d.readPerCommand, 'bytes');
    }
    const pIdle = { port: postern.ports.imaps, cert: postern.certPem, key: postern.keyPem };
    const preauth = async (c: ImapBenchClient): Promise<void> => {
      if (!c.greeting.startsWith('* PREAUTH')) throw new Error(`no PREAUTH: ${c.greeting}`);
    };
    const dIdle = { port: dovecot.imapsPort, cert: dovecot.clientCertPem, key: dovecot.clientKeyPem };
    const external = async (c: ImapBenchClient): Promise<void> => {
      await c.cmd('AUTHENTICATE EXTERNAL =');
    };
    for (const compress of [false, true]) {
      const p = await idleMemory(pIdle, preauth, compress, () => rssOf(postern.pid));
      const d = await idleMemory(dIdle, external, compress, () => pssOfTree(dovecot.pid));
      figure(`idle TLS connections (${IDLE}) ${compress ? 'with' : 'without'} COMPRESS: memory per connection`, p / 1024, d / 1024, 'KiB');
    }
  } finally {
    await postern.stop();
    await dovecot.stop();
  }
}

await main();
