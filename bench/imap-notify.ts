// NOTIFY (RFC 5465) fan-out: BENCH_NOTIFY_CONNECTIONS TLS sessions (default 1,000) of one account,
// each with `NOTIFY SET (personal (MessageNew MessageExpunge MailboxName))` and nothing selected,
// waiting between commands (not in IDLE). Figures: memory per session, against the same number of
// logged-in sessions without NOTIFY in the same run (what watching every mailbox costs per session),
// and the time from another session's APPEND to a non-selected mailbox until every session got its
// `* STATUS`, and from a CREATE until every session got its `* LIST`. Postern only: Dovecot 2.3
// needs its mailbox list index for NOTIFY, which the shared Dovecot bench setup does not enable.
import { seedMessage } from './bench-messages.js';
import { fmt, MiB, note, now, rssOf, sleep } from './figures.js';
import { ImapBenchClient, loopbackSource, type ConnectOptions } from './imap-bench-client.js';
import { startPosternServe } from './postern-serve.js';

const COUNT = Number(process.env.BENCH_NOTIFY_CONNECTIONS ?? 1000);
const PARALLEL = 50;
const WAIT_MS = 60_000;

async function sessions(connect: ConnectOptions, notify: boolean, offset: number): Promise<ImapBenchClient[]> {
  const out: ImapBenchClient[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: PARALLEL }, async () => {
    while (next < COUNT) {
      const i = next++;
      const c = await ImapBenchClient.connect({ ...connect, timeoutMs: 60_000, localAddress: loopbackSource(offset + i) });
      if (!c.greeting.startsWith('* PREAUTH')) throw new Error(`no PREAUTH: ${c.greeting}`);
      if (notify) await c.cmd('NOTIFY SET (personal (MessageNew MessageExpunge MailboxName))', { timeoutMs: 60_000 });
      out.push(c);
    }
  }));
  return out;
}

/** Runs `act` and resolves with the ms until every client saw an untagged line matching `re`. */
async function fanout(clients: ImapBenchClient[], re: RegExp, act: () => Promise<unknown>): Promise<{ all: number; half: number; got: number }> {
  const got: number[] = [];
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  let t0 = 0;
  for (const c of clients) {
    let seen = false;
    c.onUntagged = (head) => {
      if (seen || !re.test(head)) return;
      seen = true;
      got.push(now() - t0);
      if (got.length === clients.length) done();
    };
  }
  t0 = now();
  await act();
  await Promise.race([all, sleep(WAIT_MS)]);
  got.sort((a, b) => a - b);
  return { all: got.length === clients.length ? got[got.length - 1]! : Infinity, half: got[Math.floor(got.length / 2)] ?? Infinity, got: got.length };
}

function rssOfAll(pids: number[]): number {
  return pids.reduce((n, pid) => {
    try {
      return n + rssOf(pid);
    } catch {
      return n;
    }
  }, 0);
}

async function main(): Promise<void> {
  const postern = await startPosternServe({ users: 1, seed: 10, workers: 1 });
  try {
    const connect = { port: postern.imapsPort, cert: postern.certPem, key: postern.keyPem };
    const memory = (): number => rssOfAll(postern.processes());
    note(`imap notify: ${COUNT} sessions, postern \`serve\` with 1 worker; load average ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    await sleep(1000);
    const m0 = memory();
    const plain = await sessions(connect, false, 0);
    await sleep(2000);
    const m1 = memory();
    const watching = await sessions(connect, true, COUNT);
    await sleep(2000);
    const m2 = memory();
    note(`memory per session: without NOTIFY ${fmt((m1 - m0) / COUNT / 1024)} KiB, with NOTIFY (personal) ${fmt((m2 - m1) / COUNT / 1024)} KiB (RSS growth, ${fmt((m2 - m0) / MiB)} MiB in all)`);
    for (const c of plain) c.close();
    const writer = await ImapBenchClient.connect(connect);
    const status = await fanout(watching, /^\* STATUS /, () => writer.append('Archive', '', seedMessage(999)));
    note(`APPEND to a non-selected mailbox: * STATUS at half ${fmt(status.half)} ms, at all ${fmt(status.all)} ms (${status.got} of ${COUNT})`);
    const list = await fanout(watching, /^\* LIST /, () => writer.cmd('CREATE bench-notify'));
    note(`CREATE: * LIST at half ${fmt(list.half)} ms, at all ${fmt(list.all)} ms (${list.got} of ${COUNT})`);
    writer.close();
    for (const c of watching) c.close();
  } finally {
    await postern.stop();
  }
}

await main();
