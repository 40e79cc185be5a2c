// Workload: APPEND CATENATE (RFC 4469), one python imaplib client over IMAPS, one command at a time:
// (1) a 10 MB message copied whole by one URL (the server reads and writes 10 MB, the client sends a
// line), (2) a draft rebuilt from a 2-part message: its header and first part by URL, 1 KB of new
// text as a non-synchronizing literal, its second part by URL (what a client sending a reply or a
// forward does). Best of ROUNDS rounds, mean milliseconds per command, side by side with Dovecot.
import { spawnSync } from 'node:child_process';
import { BENCH_PASSWORD } from './bench-messages.js';
import { startDovecotBench } from './dovecot-bench.js';
import { figure, note } from './figures.js';
import { startPostern } from './postern-process.js';

const BIG_COUNT = Number(process.env.BENCH_CATENATE_BIG_COUNT ?? 5);
const DRAFT_COUNT = Number(process.env.BENCH_CATENATE_COUNT ?? 50);
const ROUNDS = Number(process.env.BENCH_CATENATE_ROUNDS ?? 3);

/** Prints {"big": ms, "draft": ms}. */
const CLIENT = String.raw`
import imaplib, json, re, ssl, sys, time
port, user, password, big_count, draft_count, rounds = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
m = imaplib.IMAP4_SSL("127.0.0.1", port, ssl_context=ctx)
m.login(user, password)
m.create("Cat")
m.select("Cat")
def append(msg):
    typ, data = m.append("Cat", None, None, msg)
    assert typ == "OK", (typ, data)
    return int(re.search(rb"APPENDUID \d+ (\d+)", data[0]).group(1))
head = b"From: bench <bench@example.test>\r\nTo: user1@example.test\r\nSubject: catenate\r\nMIME-Version: 1.0\r\n"
big = head + b"\r\n" + (b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmno\r\n" * 120000)
two = (head + b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n" + b"quoted line of the original\r\n" * 40
       + b"\r\n--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODkwYWJjZGVmZ2hpamtsbW5vcA==\r\n" * 1000 + b"--b--\r\n")
big_uid, two_uid = append(big), append(two)
text = b"\r\n--b\r\nContent-Type: text/plain\r\n\r\n" + b"New text of the reply, one line.\r\n" * 28 + b"\r\n--b\r\n"
sock = m.sock
def run(tag, line):
    sock.sendall(line)
    while True:
        l = m._get_line()
        if l.startswith(tag + b" "):
            assert l.startswith(tag + b" OK"), l
            return
best_big = best_draft = float("inf")
for r in range(rounds):
    t = time.perf_counter()
    for i in range(big_count):
        run(b"B%d" % i, b"B%d APPEND Cat CATENATE (URL \";UID=%d\")\r\n" % (i, big_uid))
    best_big = min(best_big, (time.perf_counter() - t) * 1000 / big_count)
    t = time.perf_counter()
    for i in range(draft_count):
        run(b"D%d" % i, b"D%d APPEND Cat (\\Draft) CATENATE (URL \";UID=%d/;SECTION=HEADER\" TEXT {%d+}\r\n" % (i, two_uid, len(text)) + text
            + b" URL \";UID=%d/;SECTION=2.MIME\" URL \";UID=%d/;SECTION=2\" TEXT {7+}\r\n\r\n--b--)\r\n" % (two_uid, two_uid))
    best_draft = min(best_draft, (time.perf_counter() - t) * 1000 / draft_count)
m.logout()
print(json.dumps({"big": best_big, "draft": best_draft}))
`;

function measure(port: number): { big: number; draft: number } {
  const r = spawnSync('python3', ['-c', CLIENT, String(port), 'user1@example.test', BENCH_PASSWORD, String(BIG_COUNT), String(DRAFT_COUNT), String(ROUNDS)], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`python client failed: ${r.stderr || r.error}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { big: number; draft: number };
}

async function main(): Promise<void> {
  note(`imap catenate: python imaplib over IMAPS, best of ${ROUNDS} rounds of ${BIG_COUNT} whole-message and ${DRAFT_COUNT} draft CATENATEs`);
  const postern = await startPostern({ users: 1 });
  const dovecot = await startDovecotBench({ users: 1 });
  try {
    const p = measure(postern.ports.imaps);
    const d = measure(dovecot.imapsPort);
    figure('CATENATE of a 10 MB message by one URL', p.big, d.big, 'ms');
    figure('CATENATE draft (3 URLs of a 70 KB message + 1 KB TEXT)', p.draft, d.draft, 'ms');
  } finally {
    await postern.stop();
    await dovecot.stop();
  }
}

await main();
