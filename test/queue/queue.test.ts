// The outbound queue against a fake remote SMTP server on 127.0.0.1, with a real SqliteStore and
// an injected clock: delivery, retries, bounces (DSNs into the sender's Inbox or back through the
// queue), expiry, MX order, smarthost AUTH, the runner loop and the CLI functions.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Config, TransportConfig } from '../../src/config/types.js';
import { silentLogger } from '../../src/log/logger.js';
import { parseMessage } from '../../src/mime/index.js';
import { parseMessageCache } from '../../src/mime/message-cache.js';
import type { TlsPolicy } from '../../src/outbound/index.js';
import { formatQueueList, Queue, queueDrop, queueList, queueRetry, startQueue, type DnsResolver, type QueueOptions } from '../../src/queue/index.js';
import { credentialsFor } from '../../src/sasl/test-support.js';
import type { ServerContext } from '../../src/server/context.js';
import { startFakeSmtpServer, type FakeSmtpOptions, type FakeSmtpServer } from '../../src/smtp/client/test-support.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const MESSAGE = 'From: alice@example.org\r\nTo: bob@remote.example\r\nSubject: queued\r\nMessage-ID: <q1@example.org>\r\n\r\nHello from the queue.\r\n';
const MIN = 60_000;

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

interface Env {
  store: SqliteStore;
  queue: Queue;
  server: FakeSmtpServer | null;
  aliceId: number;
  clock: { now: number };
  config: Config;
  ctx: ServerContext;
  enqueue(sender: string, rcpts: string[], opts?: { isDsn?: boolean; content?: string }): Promise<number>;
  inbox(): Promise<Buffer[]>;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function setup(o: { server?: FakeSmtpOptions | null; transport?: Partial<TransportConfig> | null; queue?: QueueOptions; allowPrivateAddresses?: boolean } = {}): Promise<Env> {
  const dir = await mkdtemp(join(tmpdir(), 'postern-queue-'));
  const store = await SqliteStore.open({ dir, recover: true });
  const alice = await store.createAccount('alice', 'alice@example.org');
  const server = o.server === null ? null : await startFakeSmtpServer(o.server ?? {});
  cleanups.push(async () => {
    await server?.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const transports: Record<string, TransportConfig> = o.transport === null ? {} : { '*': { host: '127.0.0.1', port: server?.port ?? 0, tls: 'none', tlsInsecure: true, ...o.transport } };
  const config = { dir, hostname: 'mail.example.org', transports, outbound: { allowPrivateAddresses: o.allowPrivateAddresses ?? false } } as unknown as Config;
  const ctx = { store, config, log: silentLogger, shutdown: new AbortController().signal } as unknown as ServerContext;
  // Ahead of the real clock: enqueue() stamps the first attempt with the real time.
  const clock = { now: Date.now() + 1000 };
  const queue = new Queue(ctx, { now: () => new Date(clock.now), ...o.queue });
  return {
    store, queue, server, aliceId: alice.id, clock, config, ctx,
    async enqueue(sender, rcpts, eo = {}) {
      const blob = await store.stageBlob(Buffer.from(eo.content ?? MESSAGE));
      return (await store.enqueue(sender === 'alice@example.org' ? alice.id : null, sender, rcpts, blob, { isDsn: eo.isDsn })).id;
    },
    async inbox() {
      const mb = (await store.getMailbox(alice.id, 'INBOX'))!;
      return Promise.all((await store.listMessages(mb.id)).map((m) => store.readBlob(m.fileId)));
    },
  };
}

function partTypes(msg: Buffer): string[] {
  return parseMessage(msg).children?.map((p) => `${p.type}/${p.subtype}`) ?? [];
}

function partText(msg: Buffer, i: number): string {
  const p = parseMessage(msg).children![i]!;
  return msg.subarray(p.bodyStart, p.bodyEnd).toString();
}

describe('queue delivery', () => {
  it('delivers through the configured transport and drops the message', async () => {
    const env = await setup();
    await env.enqueue('alice@example.org', ['bob@remote.example', 'carol@remote.example']);
    await env.queue.runOnce();
    assert.equal(env.server!.transactions.length, 1, 'one transaction for both recipients of one domain');
    const t = env.server!.transactions[0]!;
    assert.equal(t.from, 'alice@example.org');
    assert.deepEqual(t.to, ['bob@remote.example', 'carol@remote.example']);
    // The message as queued, under the door's trace field for the hop (no "for": two recipients).
    assert.match(t.data.toString(), /^Received: by mail\.example\.org \(Postern\) with ESMTP id \d+\r\n\t\(plaintext policy=none\);\r\n\t\w{3}, \d+ \w{3} \d{4} [\d:]{8} \+0000\r\n/);
    assert.equal(t.data.subarray(t.data.indexOf('\r\nFrom: ') + 2).toString(), MESSAGE);
    assert.ok(env.server!.commands.includes('EHLO mail.example.org'));
    assert.deepEqual(await env.store.listQueue(), []);
    assert.deepEqual(await env.inbox(), [], 'no DSN on success');
  });

  it('retries after a 4xx with a later next attempt, driven by the clock', async () => {
    let refuse = true;
    const env = await setup({ server: { onRcpt: () => (refuse ? '451 4.3.0 try again later' : undefined) } });
    const id = await env.enqueue('alice@example.org', ['bob@remote.example']);
    await env.queue.runOnce();
    let [m] = await env.store.listQueue();
    const r = m!.recipients[0]!;
    assert.equal(r.state, 'pending');
    assert.equal(r.attempts, 1);
    assert.equal(r.nextAttempt.getTime(), env.clock.now + 7.5 * MIN);
    assert.match(r.lastError!, /451 4\.3\.0 try again later/);

    // Not due yet: nothing happens.
    const before = env.server!.connections;
    env.clock.now += 7 * MIN;
    await env.queue.runOnce();
    assert.equal(env.server!.connections, before);

    // Second failure: the delay doubles.
    env.clock.now += 1 * MIN;
    await env.queue.runOnce();
    [m] = await env.store.listQueue();
    assert.equal(m!.recipients[0]!.attempts, 2);
    assert.equal(m!.recipients[0]!.nextAttempt.getTime(), env.clock.now + 15 * MIN);

    refuse = false;
    env.clock.now += 15 * MIN;
    await env.queue.runOnce();
    assert.equal(env.server!.transactions.length, 1);
    assert.equal(await env.store.getQueueMessage(id), null);
    assert.deepEqual(await env.inbox(), []);
  });

  it('bounces a 5xx recipient with a DSN in the local sender\'s Inbox, and delivers the rest', async () => {
    const env = await setup({ server: { onRcpt: (to) => (to.startsWith('nobody') ? '550 5.1.1 <nobody@remote.example>: no such user' : undefined) } });
    await env.enqueue('alice@example.org', ['bob@remote.example', 'nobody@remote.example']);
    await env.queue.runOnce();
    assert.deepEqual(env.server!.transactions[0]!.to, ['bob@remote.example']);
    assert.deepEqual(await env.store.listQueue(), [], 'all recipients done: dropped');

    const inbox = await env.inbox();
    assert.equal(inbox.length, 1);
    const dsn = inbox[0]!;
    const root = parseMessage(dsn);
    assert.equal(`${root.type}/${root.subtype}`, 'multipart/report');
    assert.equal(root.params.find((p) => p.name === 'report-type')?.value, 'delivery-status');
    assert.deepEqual(partTypes(dsn), ['text/plain', 'message/delivery-status', 'text/rfc822-headers']);
    assert.match(dsn.toString(), /^From: Mail Delivery System <MAILER-DAEMON@mail\.example\.org>\r\nTo: <alice@example\.org>\r\n/);
    assert.match(partText(dsn, 0), /nobody@remote\.example/);
    assert.doesNotMatch(partText(dsn, 0), /bob@remote\.example/);
    const status = partText(dsn, 1);
    assert.match(status, /Reporting-MTA: dns; mail\.example\.org/);
    assert.match(status, /Final-Recipient: rfc822; nobody@remote\.example\r\nAction: failed\r\nStatus: 5\.1\.1\r\nRemote-MTA: dns; 127\.0\.0\.1\r\nDiagnostic-Code: smtp; 550 5\.1\.1 <nobody@remote\.example>: no such user/);
    assert.doesNotMatch(status, /bob@remote/);
    assert.match(partText(dsn, 2), /^From: alice@example\.org\r\nTo: bob@remote\.example\r\nSubject: queued\r\nMessage-ID: <q1@example\.org>\r\n$/);
    // Stored with its MIME cache, like any delivered message.
    const inboxId = (await env.store.getMailbox(env.aliceId, 'INBOX'))!.id;
    const meta = await env.store.getMessages(inboxId, (await env.store.listMessages(inboxId)).map((m) => m.uid));
    assert.equal(parseMessageCache(meta[0]!.cache)?.part.subtype, 'report');
  });

  it('a DSN for a local sender over quota is dropped: the bounce is recorded once, not retried', { timeout: 20_000 }, async () => {
    const env = await setup({ server: { onRcpt: () => '550 5.1.1 no such user' } });
    await env.store.setQuota('alice', 0);
    await env.enqueue('alice@example.org', ['nobody@remote.example']);
    await env.queue.runOnce();
    assert.deepEqual(await env.store.listQueue(), [], 'the failed recipient is done: dropped');
    assert.deepEqual(await env.inbox(), []);
    env.clock.now += 24 * 60 * MIN;
    await env.queue.runOnce();
    assert.equal(env.server!.commands.filter((c) => c.startsWith('MAIL')).length, 1, 'one attempt only');
  });

  it('returns the message with a DSN when it expires after days of 4xx', async () => {
    const env = await setup({ server: { greeting: '421 4.3.2 overloaded, come back later' } });
    const id = await env.enqueue('alice@example.org', ['bob@remote.example']);
    const start = env.clock.now;
    let attempts = 0;
    for (;;) {
      await env.queue.runOnce();
      attempts++;
      const m = await env.store.getQueueMessage(id);
      if (!m) break;
      assert.ok(attempts < 50, 'expires eventually');
      env.clock.now = m.recipients[0]!.nextAttempt.getTime();
    }
    // Delays 7.5m, 15m, 30m, 1h, 2h, 4h, 8h (15.9 h in all), then 16 h steps: attempts at 0,
    // ..., 15.9 h, 31.9 h, ..., 111.9 h, and the last one at the 120 h expiry: 15 attempts.
    assert.equal(attempts, 15);
    assert.ok(env.clock.now - start >= 5 * 24 * 60 * MIN - 2000);
    const [dsn] = await env.inbox();
    assert.ok(dsn);
    const status = partText(dsn, 1);
    assert.match(status, /Action: failed\r\nStatus: 4\.3\.2\r\n/);
    assert.match(partText(dsn, 0), /gave up after 5 days/);
  });

  it('sends no DSN about a null-sender message or about a DSN', async () => {
    const env = await setup({ server: { onRcpt: () => '550 5.1.1 no such user' } });
    await env.enqueue('', ['bob@remote.example']);
    await env.enqueue('alice@example.org', ['carol@remote.example'], { isDsn: true });
    await env.queue.runOnce();
    assert.deepEqual(await env.store.listQueue(), []);
    assert.deepEqual(await env.inbox(), []);
    // Two attempts, no third transaction carrying a DSN.
    assert.equal(env.server!.commands.filter((c) => c.startsWith('MAIL')).length, 2);
  });

  it('queues a DSN for a remote sender with the null sender, and delivers it', async () => {
    const env = await setup({ server: { onRcpt: (to) => (to === 'nobody@remote.example' ? '550 5.1.1 no such user' : undefined) } });
    await env.enqueue('dave@elsewhere.example', ['nobody@remote.example']);
    await env.queue.runOnce();
    assert.equal(env.server!.transactions.length, 1);
    const t = env.server!.transactions[0]!;
    assert.equal(t.from, '');
    assert.deepEqual(t.to, ['dave@elsewhere.example']);
    assert.deepEqual(partTypes(t.data), ['text/plain', 'message/delivery-status', 'text/rfc822-headers']);
    assert.deepEqual(await env.store.listQueue(), []);
  });

  it('delivers exactly once when the server is down, then up', async () => {
    const port = await freePort();
    const env = await setup({ server: null, transport: { port } });
    const id = await env.enqueue('alice@example.org', ['bob@remote.example']);
    await env.queue.runOnce();
    const m = (await env.store.getQueueMessage(id))!;
    assert.equal(m.recipients[0]!.state, 'pending');
    assert.match(m.recipients[0]!.lastError!, /cannot connect|ECONNREFUSED/);

    const server = await startFakeSmtpServer({ port });
    cleanups.push(() => server.close());
    env.clock.now = m.recipients[0]!.nextAttempt.getTime();
    await env.queue.runOnce();
    await env.queue.runOnce();
    env.clock.now += 24 * 60 * MIN;
    await env.queue.runOnce();
    assert.equal(server.transactions.length, 1);
    assert.equal(await env.store.getQueueMessage(id), null);
  });

  it('tries MX hosts in preference order with the injected resolver, using STARTTLS when offered', async () => {
    const lookups: string[] = [];
    const hosts: Record<string, string> = { 'mx-a.remote.example': '127.0.0.2', 'mx-b.remote.example': '127.0.0.1', 'mx-c.remote.example': '127.0.0.3' };
    const resolver: DnsResolver = {
      resolveMx: async (name) => {
        assert.equal(name, 'remote.example');
        return [{ exchange: 'mx-b.remote.example', priority: 20 }, { exchange: 'mx-c.remote.example', priority: 30 }, { exchange: 'mx-a.remote.example', priority: 10 }];
      },
      resolve4: async (name) => {
        lookups.push(name);
        return [hosts[name]!];
      },
      resolve6: async () => Promise.reject(Object.assign(new Error('no'), { code: 'ENODATA' })),
    };
    const server = await startFakeSmtpServer({ starttls: true });
    cleanups.push(() => server.close());
    // mx-a (127.0.0.2) refuses the connection: nothing listens there on this port. The test MX
    // hosts are on loopback, which outbound delivery allows only when configured to.
    const env = await setup({ server: null, transport: null, queue: { resolver, mxPort: server.port }, allowPrivateAddresses: true });
    await env.enqueue('alice@example.org', ['bob@remote.example']);
    await env.queue.runOnce();
    assert.deepEqual(lookups, ['mx-a.remote.example', 'mx-b.remote.example']);
    assert.equal(server.transactions.length, 1);
    assert.ok(server.commands.includes('STARTTLS'), 'opportunistic STARTTLS');
    assert.deepEqual(await env.store.listQueue(), []);
  });

  it('does not connect to a loopback or private address an MX points to; the DSN says why', async () => {
    const resolver: DnsResolver = {
      resolveMx: async () => [{ exchange: 'mx-a.remote.example', priority: 10 }, { exchange: 'mx-b.remote.example', priority: 20 }],
      resolve4: async (name) => (name === 'mx-a.remote.example' ? ['127.0.0.1'] : ['10.9.8.7']),
      resolve6: async (name) => (name === 'mx-a.remote.example' ? ['::ffff:127.0.0.1'] : ['fe80::1']),
    };
    const server = await startFakeSmtpServer({});
    cleanups.push(() => server.close());
    const env = await setup({ server: null, transport: null, queue: { resolver, mxPort: server.port } });
    await env.enqueue('alice@example.org', ['bob@remote.example']);
    await env.queue.runOnce();
    assert.equal(server.connections, 0, 'no connection to a private address');
    assert.deepEqual(await env.store.listQueue(), [], 'bounced at once');
    const [dsn] = await env.inbox();
    assert.ok(dsn, 'a DSN to the sender');
    assert.match(partText(dsn, 1), /Status: 5\.4\.4/);
    assert.match(partText(dsn, 0), /mx-b\.remote\.example \[fe80::1\]: not connecting to a link-local address .*outbound\.allowPrivateAddresses/);

    // With the setting, the same MX is used.
    const allowed = await setup({ server: null, transport: null, queue: { resolver: { ...resolver, resolve6: async () => [] }, mxPort: server.port }, allowPrivateAddresses: true });
    await allowed.enqueue('alice@example.org', ['bob@remote.example']);
    await allowed.queue.runOnce();
    assert.equal(server.transactions.length, 1);
  });

  it('does not connect to a private address literal; a transport on loopback is the admin\'s choice', async () => {
    const env = await setup({ transport: null, queue: { resolver: { resolveMx: async () => [], resolve4: async () => [], resolve6: async () => [] } } });
    await env.enqueue('alice@example.org', ['bob@[127.0.0.1]']);
    await env.queue.runOnce();
    assert.equal(env.server!.connections, 0);
    const [dsn] = await env.inbox();
    assert.match(partText(dsn!, 0), /127\.0\.0\.1 \[127\.0\.0\.1\]: not connecting to a loopback address/);
    // Every other test here delivers to a transport on 127.0.0.1 without the setting.
  });

  it('asks the TLS policy per destination and host: a refused host is not contacted, and the DSN gives its reason', async () => {
    const asked: string[] = [];
    const tlsPolicy: TlsPolicy = {
      async forDestination(domain, dest) {
        asked.push(`${domain} via ${dest.transport}`);
        return { forHost: (host) => ({ ok: false, permanent: true, status: '5.7.5', message: `not in the MTA-STS policy of ${domain} (${host.lookup})` }) };
      },
    };
    const env = await setup({ queue: { tlsPolicy } });
    await env.enqueue('alice@example.org', ['bob@remote.example']);
    await env.queue.runOnce();
    assert.deepEqual(asked, ['remote.example via *']);
    assert.equal(env.server!.connections, 0);
    const [dsn] = await env.inbox();
    assert.match(partText(dsn!, 1), /Status: 5\.7\.5/);
    assert.match(partText(dsn!, 0), /127\.0\.0\.1: not in the MTA-STS policy of remote\.example \(system\)/);
  });

  it('falls back to plain text when an opportunistic TLS handshake fails', async () => {
    const env = await setup({ server: { starttls: true, brokenStartTls: true }, transport: { tls: 'opportunistic', tlsInsecure: false } });
    await env.enqueue('alice@example.org', ['bob@remote.example']);
    await env.queue.runOnce();
    assert.equal(env.server!.connections, 2);
    assert.equal(env.server!.transactions.length, 1);
    assert.deepEqual(await env.store.listQueue(), []);
  });

  it('bounces at once when the domain does not exist', async () => {
    const resolver: DnsResolver = {
      resolveMx: () => Promise.reject(Object.assign(new Error('nx'), { code: 'ENOTFOUND' })),
      resolve4: async () => [],
      resolve6: async () => [],
    };
    const env = await setup({ server: null, transport: null, queue: { resolver } });
    await env.enqueue('alice@example.org', ['bob@no-such-domain.example']);
    await env.queue.runOnce();
    const [dsn] = await env.inbox();
    assert.ok(dsn);
    assert.match(partText(dsn, 1), /Status: 5\.1\.2/);
    assert.deepEqual(await env.store.listQueue(), []);
  });

  it('authenticates to a smarthost with the transport credentials', async () => {
    const users = { relayuser: await credentialsFor('relay-password') };
    const env = await setup({
      server: { implicitTls: true, users, mechanisms: ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256', 'PLAIN'], requireAuth: true },
      transport: { tls: 'implicit', tlsInsecure: true, username: 'relayuser', password: 'relay-password' },
    });
    await env.enqueue('alice@example.org', ['bob@remote.example']);
    await env.queue.runOnce();
    assert.deepEqual(env.server!.authenticated, ['relayuser']);
    assert.equal(env.server!.transactions.length, 1);
  });

  it('runs as a loop: kick() delivers a new message, stop() waits', async () => {
    const env = await setup();
    const q = startQueue(env.ctx, { pollIntervalMs: 60_000 });
    await env.enqueue('alice@example.org', ['bob@remote.example']);
    q.kick();
    for (let i = 0; i < 200 && env.server!.transactions.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await q.stop();
    assert.equal(env.server!.transactions.length, 1);
    for (let i = 0; i < 100 && (await env.store.listQueue()).length > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(await env.store.listQueue(), []);
  });
});

describe('queue after a crash', () => {
  it('drops at start a message whose recipients were all done when the process died', async () => {
    const env = await setup();
    const done = await env.enqueue('alice@example.org', ['bob@remote.example', 'carol@remote.example']);
    const pending = await env.enqueue('alice@example.org', ['dave@remote.example']);
    // The state a kill leaves between the last recipient's update and the drop.
    const [r1, r2] = (await env.store.getQueueMessage(done))!.recipients;
    await env.store.updateQueueRecipient(r1!.id, { state: 'delivered', attempts: 1, lastError: null });
    await env.store.updateQueueRecipient(r2!.id, { state: 'failed', attempts: 1, lastError: 'said no' });
    const q = startQueue(env.ctx, { pollIntervalMs: 60_000 });
    for (let i = 0; i < 200 && (await env.store.listQueue()).length > 0; i++) await new Promise((r) => setTimeout(r, 10));
    await q.stop();
    assert.deepEqual(await env.store.listQueue(), []);
    // The finished one was not sent again (no DSN either: that was the dead process's job);
    // the pending one was delivered.
    assert.deepEqual(env.server!.transactions.map((t) => t.to), [['dave@remote.example']]);
    assert.deepEqual(await env.inbox(), []);
    assert.equal(await env.store.getQueueMessage(pending), null);
  });
});

describe('queue commands', () => {
  it('lists, retries and drops', async () => {
    const env = await setup({ server: { onRcpt: () => '450 4.2.1 busy' } });
    const id = await env.enqueue('alice@example.org', ['bob@remote.example']);
    await env.queue.runOnce();
    const text = formatQueueList(await queueList(env.store));
    assert.match(text, new RegExp(`^${id}\\t\\S+\\t\\d+\\talice@example\\.org$`, 'm'));
    assert.match(text, /^\tbob@remote\.example\tpending\t1\t\S+\t127\.0\.0\.1 said: 450 4\.2\.1 busy$/m);

    const now = new Date(env.clock.now);
    assert.equal(await queueRetry(env.store, id, now), 1);
    assert.equal((await env.store.getQueueMessage(id))!.recipients[0]!.nextAttempt.getTime(), now.getTime());
    await queueDrop(env.store, id);
    assert.equal(await env.store.getQueueMessage(id), null);
    await assert.rejects(queueDrop(env.store, id), /no queue message/);
    await assert.rejects(queueRetry(env.store, 999), /no queue message/);
  });
});
