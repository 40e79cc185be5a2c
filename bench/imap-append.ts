// Workload: APPEND latency as the common clients see it. Python imaplib over IMAPS (what Roundcube's
// and most clients' APPEND looks like on the wire): a synchronizing literal, the client waits for the
// `+` continuation, then writes the message and the closing CRLF as two writes (its socket keeps
// Nagle's algorithm on). Then the same message with a non-synchronizing literal (LITERAL+, RFC 7888)
// written in one piece. One client, one message at a time, mean milliseconds per APPEND.
import { spawnSync } from 'node:child_process';
import { BENCH_PASSWORD } from './bench-messages.js';
import { startDovecotBench } from './dovecot-bench.js';
import { figure, note } from './figures.js';
import { startPostern } from './postern-process.js';

const COUNT = Number(process.env.BENCH_APPEND_COUNT ?? 30);
const ROUNDS = Number(process.env.BENCH_APPEND_ROUNDS ?? 3);

/** Prints {"sync": ms, "nonsync": ms}: the best of ROUNDS rounds of COUNT appends each. */
const CLIENT = String.raw`
import imaplib, json, ssl, sys, time
port, user, password, count, rounds = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
msg = (b"From: bench <bench@example.test>\r\nTo: user1@example.test\r\nSubject: append latency\r\n"
       b"Message-ID: <append-bench@example.test>\r\nDate: Mon, 7 Feb 1994 21:52:25 -0800\r\n\r\n" + b"Hello, this is a message body line.\r\n" * 20)
m = imaplib.IMAP4_SSL("127.0.0.1", port, ssl_context=ctx)
m.login(user, password)
m.select("INBOX")
best_sync = best_nonsync = float("inf")
for r in range(rounds):
    t = time.perf_counter()
    for i in range(count):
        typ, _ = m.append("INBOX", None, None, msg)
        assert typ == "OK", typ
    best_sync = min(best_sync, (time.perf_counter() - t) * 1000 / count)
    # LITERAL+: the command, the message and CRLF in one write; read up to the tagged reply.
    sock = m.sock
    t = time.perf_counter()
    for i in range(count):
        tag = b"N%d" % i
        sock.sendall(tag + b" APPEND INBOX {%d+}\r\n" % len(msg) + msg + b"\r\n")
        while True:
            line = m._get_line()
            if line.startswith(tag + b" "):
                assert line.startswith(tag + b" OK"), line
                break
    best_nonsync = min(best_nonsync, (time.perf_counter() - t) * 1000 / count)
m.logout()
print(json.dumps({"sync": best_sync, "nonsync": best_nonsync}))
`;

function measure(port: number): { sync: number; nonsync: number } {
  const r = spawnSync('python3', ['-c', CLIENT, String(port), 'user1@example.test', BENCH_PASSWORD, String(COUNT), String(ROUNDS)], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`python client failed: ${r.stderr || r.error}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { sync: number; nonsync: number };
}

async function main(): Promise<void> {
  note(`imap append: python imaplib over IMAPS, ${COUNT} appends of one small message per round, best of ${ROUNDS} rounds`);
  const postern = await startPostern({ users: 1 });
  const dovecot = await startDovecotBench({ users: 1 });
  try {
    const p = measure(postern.ports.imaps);
    const d = measure(dovecot.imapsPort);
    figure('APPEND, synchronizing literal (imaplib)', p.sync, d.sync, 'ms');
    figure('APPEND, non-synchronizing literal (LITERAL+, one write)', p.nonsync, d.nonsync, 'ms');
  } finally {
    await postern.stop();
    await dovecot.stop();
  }
}

await main();
