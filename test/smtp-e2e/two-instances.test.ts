// Mail between two Postern instances on loopback: A (a.example) relays through its outbound queue
// to B (b.example) over port 25 with opportunistic STARTTLS, as two independent sites would.
// - A DKIM-signs at submission; B verifies against A's published key (served by B's resolver)
//   and records dkim=pass in Authentication-Results (RFC 8601).
// - The queue is kicked on enqueue: with a 60 s poll interval the message still leaves at once.
// - B down: A defers and retries (short retry delays), and delivers once B is back.
// - A recipient B does not know is refused at RCPT (550 5.1.1): A bounces it with a DSN into the
//   sender's Inbox (RFC 3464) and delivers to the other recipient.
// - Every Message-ID arrives exactly once.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseMessage } from '../../src/mime/index.js';
import { sendMail } from '../../src/smtp/client/index.js';
import type { QueueOptions } from '../../src/queue/index.js';
import type { DnsResolver } from '../../src/smtp/server/index.js';
import { header, headers } from '../smtp/harness.js';
import { recordsResolver, removeDir, startInstance, type Instance } from './instance.js';

const ALICE = 'alice@a.example';
const BOB = 'bob@b.example';
const PASSWORD = 'alice-a-secret';
/** Retries within a test's patience; the poll picks them up. */
const FAST_RETRIES: QueueOptions = { pollIntervalMs: 100, firstRetryDelayMs: 300, maxRetryDelayMs: 600 };

let a: Instance;
let b: Instance;
let bStart: (dir?: string) => Promise<Instance>;
let aStart: (queue: QueueOptions, dir?: string) => Promise<Instance>;

before(async () => {
  // B first: A's transport for b.example needs B's port 25. B's resolver serves A's DKIM
  // records, which exist once A's directory is made.
  const published: string[] = [];
  const resolverForB: DnsResolver = (name, rrtype) => recordsResolver(published)(name, rrtype);
  bStart = (dir) => startInstance({ dir, address: BOB, password: 'bob-b-secret', hostname: 'mx.b.example', resolver: resolverForB, ports: dir ? b.ports : undefined });
  b = await bStart();
  const transports = { 'b.example': { host: '127.0.0.1', port: b.ports.smtp, tls: 'opportunistic' as const, tlsInsecure: true } };
  aStart = (queue, dir) => startInstance({ dir, address: ALICE, password: PASSWORD, hostname: 'mx.a.example', transports, queue, ports: dir ? a.ports : undefined });
  // A long poll interval: only kick() can make the first message leave promptly.
  a = await aStart({ pollIntervalMs: 60_000 });
  published.push(...a.dkimRecords);
  assert.equal(published.length, 2, 'quickstart made an Ed25519 and an RSA key');
});

after(async () => {
  await a?.stop();
  await b?.stop();
  if (a) removeDir(a.dir);
  if (b) removeDir(b.dir);
});

async function inbox(i: Instance, address: string): Promise<Buffer[]> {
  const acc = await i.store.lookupAddress(address);
  const mb = await i.store.getMailbox(acc!.accountId, 'INBOX');
  return Promise.all((await i.store.listMessages(mb!.id)).map((m) => i.store.readBlob(m.fileId)));
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function submitAtA(to: string[], messageId: string, subject: string): Promise<void> {
  const msg = `From: Alice <${ALICE}>\r\nTo: ${to.join(', ')}\r\nSubject: ${subject}\r\nMessage-ID: <${messageId}>\r\n\r\nHello from A.\r\n`;
  const res = await sendMail(
    { host: '127.0.0.1', port: a.ports.submission, tls: 'starttls', insecure: true, auth: { username: ALICE, password: PASSWORD }, clientName: 'client.a.example' },
    { from: ALICE, to },
    msg,
  );
  assert.ok(res.recipients.every((r) => r.accepted), 'A accepted every recipient');
}

function messageIds(msgs: Buffer[]): string[] {
  return msgs.map((m) => header(m, 'Message-ID') ?? '(none)');
}

function bodyPart(msg: Buffer, i: number): string {
  const p = parseMessage(msg).children![i]!;
  return msg.subarray(p.bodyStart, p.bodyEnd).toString('utf8');
}

describe('two Postern instances', () => {
  test('A to B: leaves at once (queue kicked), arrives over STARTTLS with dkim=pass', async () => {
    const t0 = Date.now();
    await submitAtA([BOB], 'm1@a.example', 'first');
    const msg = await waitFor('m1 at B', async () => (await inbox(b, BOB)).find((m) => header(m, 'Message-ID') === '<m1@a.example>'));
    assert.ok(Date.now() - t0 < 10_000, 'delivered well before the 60 s poll');
    // B's own trace and verdicts are on top; A's Received (submission) and signatures below.
    assert.equal(header(msg, 'Return-Path'), `<${ALICE}>`);
    const ar = header(msg, 'Authentication-Results')!;
    assert.match(ar, /^mx\.b\.example;/);
    const dkim = ar.match(/dkim=\w+ header\.i=@a\.example header\.s=\S+ header\.a=\S+/g) ?? [];
    assert.equal(dkim.length, 2, ar);
    for (const d of dkim) assert.match(d, /^dkim=pass /);
    assert.deepEqual(dkim.map((d) => /header\.a=(\S+)/.exec(d)![1]).sort(), ['ed25519-sha256', 'rsa-sha256']);
    const received = headers(msg, 'Received');
    assert.match(received[0]!, /by mx\.b\.example \(Postern\) with ESMTPS /, 'A used STARTTLS to B');
    // A's own trace of the hop (the outbound door), then A's submission receipt.
    assert.match(received[1]!, /^by mx\.a\.example \(Postern\) with ESMTPS id \d+ \(version=TLSv1\.[23] cipher=\S+ policy=none unverified\) for <bob@b\.example>;/);
    assert.match(received[2]!, /by mx\.a\.example \(Postern\) with ESMTPSA /);
    assert.equal(headers(msg, 'DKIM-Signature').length, 2);
    await waitFor('A queue empty', async () => (await a.store.listQueue()).length === 0);
  });

  test('B down: A defers and retries, and delivers once B is back', async () => {
    // A again with short retry delays (its queue and data survive the restart).
    await a.stop();
    a = await aStart(FAST_RETRIES, a.dir);
    await b.stop();
    await submitAtA([BOB], 'm2@a.example', 'while B is down');
    const q = await waitFor('two failed attempts at A', async () => {
      const [m] = await a.store.listQueue();
      return m && m.recipients[0]!.attempts >= 2 && m;
    });
    assert.equal(q.recipients[0]!.state, 'pending');
    assert.match(q.recipients[0]!.lastError ?? '', /ECONNREFUSED|refused|connect/i);

    b = await bStart(b.dir);
    await waitFor('m2 at B', async () => (await inbox(b, BOB)).some((m) => header(m, 'Message-ID') === '<m2@a.example>'));
    await waitFor('A queue empty', async () => (await a.store.listQueue()).length === 0);
  });

  test('an unknown recipient at B comes back as a DSN in the sender\'s Inbox at A', async () => {
    await submitAtA(['nobody@b.example', BOB], 'm3@a.example', 'one known, one not');
    const dsn = await waitFor('DSN at A', async () => (await inbox(a, ALICE)).find((m) => /multipart\/report/i.test(header(m, 'Content-Type') ?? '')));
    assert.match(header(dsn, 'From')!, /MAILER-DAEMON@mx\.a\.example/);
    assert.match(bodyPart(dsn, 0), /nobody@b\.example/);
    assert.doesNotMatch(bodyPart(dsn, 0), /bob@b\.example/);
    const status = bodyPart(dsn, 1);
    assert.match(status, /Final-Recipient: rfc822; nobody@b\.example\r\nAction: failed\r\nStatus: 5\.1\.1\r\n/);
    assert.match(status, /Diagnostic-Code: smtp; 550 5\.1\.1/);
    assert.match(bodyPart(dsn, 2), /^Message-ID: <m3@a\.example>\r$/m);
    await waitFor('m3 at B', async () => (await inbox(b, BOB)).some((m) => header(m, 'Message-ID') === '<m3@a.example>'));
    await waitFor('A queue empty', async () => (await a.store.listQueue()).length === 0);
  });

  test('every Message-ID arrived exactly once, and the only mail at A is the one DSN', async () => {
    // Give a stray duplicate time to show up.
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(messageIds(await inbox(b, BOB)), ['<m1@a.example>', '<m2@a.example>', '<m3@a.example>']);
    const atA = await inbox(a, ALICE);
    assert.equal(atA.length, 1);
    assert.match(header(atA[0]!, 'Content-Type')!, /multipart\/report/);
  });
});
