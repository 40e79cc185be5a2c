// SMTP smuggling, end to end (issue 15): messages whose content holds an end-of-data look-alike
// are submitted with real clients (swaks with its data sent unmodified, Python smtplib both as a
// client and writing raw bytes after DATA, and `postern sendmail`), relayed by the outbound queue
// to a sink that keeps the raw bytes. For every message exactly one transaction arrives, byte for
// byte the submitted message with CRLF line ends under our trace fields, and the bytes on the wire
// hold no bare CR or LF and no "." line a lenient next hop could take for the end of the data.
// - The four smuggling sequences of the issue: "\n.\n", "\r\n.\n", "\n.\r\n" are accepted (the
//   bare LF is made CRLF, the "." stays a content line); "\r.\r" and every other bare-CR variant
//   is refused at submission with 554 5.6.11 and never reaches the sink.
// - The queue re-checks what it sends: a message stored with bare CRs (before this check, or by
//   another path) leaves with CRLF only, over DATA and over BDAT.
// External binaries: a test runs when the binary exists; under CI=true a missing one is a failure.

import { needPeer } from '../e2e/need-peer.js';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { runSendmail } from '../../src/sendmail/index.js';
import { sendMail } from '../../src/smtp/client/index.js';
import { header } from '../smtp/harness.js';
import { removeDir, startInstance, type Instance } from './instance.js';
import { bareLineEnds, smugglingSequences, startRawSink, type RawSink, type SinkTransaction } from './raw-sink.js';

const run = promisify(execFile);
const ALICE = 'alice@a.example';
const PASSWORD = 'alice-a-smuggle';

/** Accepted: a bare LF is made CRLF and the "." is a content line. */
const LF_SEQUENCES = ['\n.\n', '\r\n.\n', '\n.\r\n'];
/** Refused with 554 5.6.11: each holds a CR without LF. ("\r\r\n.\r\n" is not among them: it
 * holds a real CRLF.CRLF, which ends the data for every reader alike.) */
const CR_SEQUENCES = ['\r.\r', '\r.\r\n', '\r\n.\r', '\r.\n', '\n.\r', '\r\n.\r\r\n', '\r\r\n.\r'];

let a: Instance;
let sink: RawSink;
let chunkingSink: RawSink;

before(async () => {
  sink = await startRawSink();
  chunkingSink = await startRawSink({ chunking: true });
  // Transports on loopback: the admin's choice, not subject to the private-address check.
  const transports = {
    'remote.example': { host: '127.0.0.1', port: sink.port, tls: 'none' as const, tlsInsecure: false },
    'chunky.example': { host: '127.0.0.1', port: chunkingSink.port, tls: 'none' as const, tlsInsecure: false },
  };
  a = await startInstance({ address: ALICE, password: PASSWORD, hostname: 'mx.a.example', transports, queue: { pollIntervalMs: 100 } });
});

after(async () => {
  await a?.stop();
  await sink?.close();
  await chunkingSink?.close();
  if (a) removeDir(a.dir);
});

/** A message whose body holds `seq` followed by a forged second transaction. */
function smuggler(subject: string, seq: string, to = 'carol@remote.example'): string {
  return (
    `From: ${ALICE}\r\nTo: ${to}\r\nSubject: ${subject}\r\nDate: Fri, 4 Dec 2026 10:00:00 +0000\r\nMessage-ID: <${subject.replace(/\W/g, '-')}@a.example>\r\n\r\n` +
    `first line${seq}MAIL FROM:<${ALICE}>\r\nRCPT TO:<victim@remote.example>\r\nDATA\r\nFrom: ${ALICE}\r\nSubject: forged\r\n\r\nforged body\r\n`
  );
}

function crlf(s: string): string {
  return s.replace(/\r\n|\r|\n/g, '\r\n');
}

async function queueEmpty(): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if ((await a.store.listQueue()).length === 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail('queue not empty');
}

/** The one transaction with this subject, checked as a next hop would see it. */
function arrived(s: RawSink, subject: string, submitted: string): SinkTransaction {
  const found = s.transactions.filter((t) => header(t.data, 'Subject') === subject);
  assert.equal(found.length, 1, `exactly one message "${subject}" arrives`);
  const t = found[0]!;
  assert.deepEqual(bareLineEnds(t.wire), [], `no bare CR or LF on the wire (${subject})`);
  if (t.via === 'DATA') assert.deepEqual(smugglingSequences(t.wire), [], `no end-of-data look-alike on the wire (${subject})`);
  // Byte-exact: the submitted message with CRLF line ends, under the fields we add.
  const want = Buffer.from(crlf(submitted), 'latin1');
  assert.ok(t.data.length > want.length && t.data.subarray(t.data.length - want.length).equals(want), `content byte for byte (${subject}): ${JSON.stringify(t.data.toString('latin1').slice(-300))}`);
  const added = t.data.subarray(0, t.data.length - want.length).toString('latin1');
  assert.match(added, /^(?:(?:Received|DKIM-Signature):[^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*)+$/, 'only trace fields added above');
  return t;
}

const PY = `
import json, smtplib, ssl, sys
port, password, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
cases = json.load(sys.stdin)
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = smtplib.SMTP('127.0.0.1', port, timeout=10)
s.starttls(context=ctx); s.login('${ALICE}', password)
out = []
for c in cases:
    data = c['data'].encode('latin1')
    if mode == 'client':
        # smtplib's own DATA: bytes are sent as given, dots stuffed after LF only.
        try:
            s.sendmail('${ALICE}', [c['to']], data); out.append([250, ''])
        except smtplib.SMTPDataError as e:
            out.append([e.smtp_code, e.smtp_error.decode()])
    else:
        # What an attacker writes: the bytes as they are, no stuffing, then CRLF.CRLF.
        s.mail('${ALICE}'); s.rcpt(c['to'])
        code, _ = s.docmd('DATA'); assert code == 354, code
        s.send(data + b'.\\r\\n')
        code, msg = s.getreply(); out.append([code, msg.decode()])
        if code != 250: s.rset()
s.quit()
print(json.dumps(out))
`;

async function python(mode: 'client' | 'raw', cases: { data: string; to: string }[]): Promise<[number, string][]> {
  const child = execFile('python3', ['-c', PY, String(a.ports.submission), PASSWORD, mode]);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  child.stdin!.end(JSON.stringify(cases));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  assert.equal(code, 0, `python failed: ${err}`);
  return JSON.parse(out) as [number, string][];
}

describe('SMTP smuggling through submission and the queue', () => {
  test('python smtplib, as a client and writing raw bytes: LF sequences arrive once, byte-exact; bare-CR ones are refused', async (t) => {
    if (!(await needPeer(t, 'python3'))) return;
    for (const mode of ['client', 'raw'] as const) {
      const cases = [...LF_SEQUENCES, ...CR_SEQUENCES].map((seq, i) => ({ seq, subject: `py ${mode} ${i}`, to: 'carol@remote.example' }));
      const replies = await python(mode, cases.map((c) => ({ data: smuggler(c.subject, c.seq), to: c.to })));
      await queueEmpty();
      cases.forEach((c, i) => {
        const [code, text] = replies[i]!;
        if (LF_SEQUENCES.includes(c.seq)) {
          assert.equal(code, 250, `${JSON.stringify(c.seq)}: ${text}`);
          arrived(sink, c.subject, smuggler(c.subject, c.seq));
        } else {
          assert.equal(code, 554, `${JSON.stringify(c.seq)} must be refused: ${text}`);
          assert.match(text, /^5\.6\.11 .*smuggling/i);
          assert.equal(sink.transactions.filter((t) => header(t.data, 'Subject') === c.subject).length, 0);
        }
      });
    }
    const forged = sink.transactions.filter((t) => header(t.data, 'Subject') === 'forged');
    assert.deepEqual(forged.map((t) => t.data.toString('latin1')), [], 'the forged message never arrives on its own');
  });

  test('swaks with unmodified data (--no-data-fixup): the same outcome', async (t) => {
    if (!(await needPeer(t, 'swaks'))) return;
    const support = await run('swaks', ['--support']).then((r) => r.stdout + r.stderr, (e: { stdout: string; stderr: string }) => e.stdout + e.stderr);
    if (/TLS not available/.test(support)) {
      if (process.env.CI === 'true') assert.fail('swaks has no TLS support (install libnet-ssleay-perl)');
      return;
    }
    for (const [i, seq] of [...LF_SEQUENCES, ...CR_SEQUENCES].entries()) {
      const subject = `swaks ${i}`;
      const msg = smuggler(subject, seq);
      const file = join(a.dir, `swaks-${i}.eml`);
      // Sent as is; swaks ends the last line (the ".") with CRLF.
      writeFileSync(file, Buffer.from(msg + '.', 'latin1'));
      const r = await run('swaks', ['--server', '127.0.0.1', '--port', String(a.ports.submission), '--tls', '--auth', 'PLAIN', '--auth-user', ALICE, '--auth-password', PASSWORD,
        '--from', ALICE, '--to', 'carol@remote.example', '--data', `@${file}`, '--no-data-fixup']).then((x) => x.stdout, (e: { stdout: string }) => e.stdout);
      if (LF_SEQUENCES.includes(seq)) {
        assert.match(r, /<~ +250 2\.6\.0/, `${JSON.stringify(seq)}: ${r}`);
        await queueEmpty();
        arrived(sink, subject, msg);
      } else {
        assert.match(r, /<~\* +554 5\.6\.11 .*smuggling/i, `${JSON.stringify(seq)}: ${r}`);
      }
    }
    await queueEmpty();
    for (const [i, seq] of CR_SEQUENCES.entries()) {
      assert.equal(sink.transactions.filter((t) => header(t.data, 'Subject') === `swaks ${LF_SEQUENCES.length + i}`).length, 0, JSON.stringify(seq));
    }
  });

  test('postern sendmail: bare CR and LF become CRLF before submission; one message arrives', async () => {
    const conf = join(a.dir, 'sendmail.conf');
    writeFileSync(conf, `host: 127.0.0.1\nport: ${a.ports.submission}\ntls: starttls\ntlsInsecure: true\nusername: ${ALICE}\npassword: ${PASSWORD}\nfrom: ${ALICE}\n`);
    for (const [i, seq] of [...LF_SEQUENCES, ...CR_SEQUENCES].entries()) {
      const subject = `sendmail ${i}`;
      const msg = smuggler(subject, seq);
      let stderr = '';
      const code = await runSendmail(['-i', 'carol@remote.example'], {
        stdin: (async function* () { yield Buffer.from(msg, 'latin1'); })(),
        stdout: { write: () => true },
        stderr: { write: (s: string) => (stderr += s) },
        env: { HOME: a.dir, POSTERN_SENDMAIL_CONFIG: conf },
      });
      assert.equal(code, 0, `${JSON.stringify(seq)}: ${stderr}`);
      await queueEmpty();
      // sendmail reads lines as a local program writes them: CR, LF and CRLF all end a line.
      arrived(sink, subject, msg);
    }
  });

  test('the queue re-checks what it sends: a stored message with bare CRs leaves with CRLF only, over DATA and BDAT', async () => {
    const acc = await a.store.lookupAddress(ALICE);
    for (const [domain, s] of [['remote.example', sink], ['chunky.example', chunkingSink]] as const) {
      for (const [i, seq] of [...CR_SEQUENCES, ...LF_SEQUENCES].entries()) {
        const subject = `stored ${domain} ${i}`;
        const msg = smuggler(subject, seq, `carol@${domain}`);
        const blob = await a.store.stageBlob(Buffer.from(msg, 'latin1'));
        await a.store.enqueue(acc!.accountId, ALICE, [`carol@${domain}`], blob);
        a.queue.kick();
        await queueEmpty();
        const t = s.transactions.filter((x) => header(x.data, 'Subject') === subject);
        assert.equal(t.length, 1, `one message (${subject})`);
        assert.equal(t[0]!.via, domain === 'chunky.example' ? 'BDAT' : 'DATA');
        assert.deepEqual(bareLineEnds(t[0]!.wire), [], `no bare CR or LF on the wire (${subject}, ${JSON.stringify(seq)})`);
        if (t[0]!.via === 'DATA') assert.deepEqual(smugglingSequences(t[0]!.wire), [], `no end-of-data look-alike (${subject})`);
        // Only the door's trace field is added on the way out: the stored message, line ends made CRLF.
        const data = t[0]!.data.toString('latin1');
        assert.match(data, /^Received: by [^\r\n]*\r\n(?:\t[^\r\n]*\r\n)+From: /, subject);
        assert.equal(data.slice(data.indexOf('\r\nFrom: ') + 2), crlf(msg), subject);
      }
    }
  });

  test('the SMTP client library sends bare CR and LF as CRLF, over DATA and BDAT, in chunks split anywhere', async () => {
    for (const s of [sink, chunkingSink]) {
      for (const [i, seq] of [...CR_SEQUENCES, ...LF_SEQUENCES].entries()) {
        const subject = `client ${s.port} ${i}`;
        const msg = smuggler(subject, seq) + 'ends in a bare CR\r';
        const bytes = Buffer.from(msg, 'latin1');
        // A stream split right after each CR: a CR at a chunk end may or may not be half a CRLF.
        const chunks = (async function* () {
          let start = 0;
          for (let k = bytes.indexOf(13); k >= 0; k = bytes.indexOf(13, k + 1)) {
            yield bytes.subarray(start, k + 1);
            start = k + 1;
          }
          yield bytes.subarray(start);
        })();
        const r = await sendMail({ host: '127.0.0.1', port: s.port, tls: 'none' }, { from: ALICE, to: ['carol@remote.example'] }, chunks);
        assert.deepEqual(r.accepted, ['carol@remote.example']);
        const t = s.transactions.filter((x) => header(x.data, 'Subject') === subject);
        assert.equal(t.length, 1, subject);
        assert.deepEqual(bareLineEnds(t[0]!.wire), [], `no bare CR or LF on the wire (${subject}, ${JSON.stringify(seq)})`);
        if (t[0]!.via === 'DATA') assert.deepEqual(smugglingSequences(t[0]!.wire), [], subject);
        assert.equal(t[0]!.data.toString('latin1'), crlf(msg), subject);
      }
    }
  });
});
