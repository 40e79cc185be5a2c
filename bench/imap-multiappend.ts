// Workload: one MULTIAPPEND (RFC 3502) of many messages, each with a flag list and an internal date,
// as a migration or a test seed sends it: non-synchronizing literals (LITERAL+), the whole command
// in one write, python over IMAPS. Mean milliseconds per message, best of ROUNDS.
import { spawnSync } from 'node:child_process';
import { BENCH_PASSWORD } from './bench-messages.js';
import { startDovecotBench } from './dovecot-bench.js';
import { figure, note } from './figures.js';
import { startPostern } from './postern-process.js';

const COUNT = Number(process.env.BENCH_MULTIAPPEND_COUNT ?? 1000);
const ROUNDS = Number(process.env.BENCH_MULTIAPPEND_ROUNDS ?? 3);

/** Prints the best mean ms per message over the rounds. */
const CLIENT = String.raw`
import imaplib, ssl, sys, time
port, user, password, count, rounds = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
m = imaplib.IMAP4_SSL("127.0.0.1", port, ssl_context=ctx)
m.login(user, password)
best = float("inf")
for r in range(rounds):
    parts = [b"M%d APPEND INBOX" % r]
    for i in range(count):
        msg = (b"From: bench <bench@example.test>\r\nTo: user1@example.test\r\nSubject: seed %d\r\n" % i
               + b"Message-ID: <seed-%d-%d@example.test>\r\nDate: Mon, 7 Feb 1994 21:52:25 -0800\r\n\r\n" % (r, i)
               + b"Hello, this is a message body line.\r\n" * 5)
        parts.append(b' (\\Seen) "%02d-Feb-1994 %02d:%02d:00 +0100" {%d+}\r\n' % (1 + i % 28, i % 24, i % 60, len(msg)) + msg)
    data = b"".join(parts) + b"\r\n"
    t = time.perf_counter()
    m.sock.sendall(data)
    tag = b"M%d " % r
    while True:
        line = m._get_line()
        if line.startswith(tag):
            assert line.startswith(tag + b"OK"), line
            break
    best = min(best, (time.perf_counter() - t) * 1000 / count)
m.logout()
print(best)
`;

function measure(port: number): number {
  const r = spawnSync('python3', ['-c', CLIENT, String(port), 'user1@example.test', BENCH_PASSWORD, String(COUNT), String(ROUNDS)], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`python client failed: ${r.stderr || r.error}`);
  return Number(r.stdout.trim().split('\n').pop());
}

async function main(): Promise<void> {
  note(`imap multiappend: one MULTIAPPEND of ${COUNT} messages with flags and internal dates (LITERAL+, one write), best of ${ROUNDS} rounds`);
  const postern = await startPostern({ users: 1 });
  const dovecot = await startDovecotBench({ users: 1 });
  try {
    figure(`MULTIAPPEND of ${COUNT} messages with internal dates, per message`, measure(postern.ports.imaps), measure(dovecot.imapsPort), 'ms');
  } finally {
    await postern.stop();
    await dovecot.stop();
  }
}

await main();
