// Outbound policy test bed, all on loopback: remote MX hosts (the scriptable fake SMTP server) on
// 127.0.0.x sharing one port (the queue's MX port override), an HTTPS host serving MTA-STS
// policies with a test CA, and a Queue with a real SqliteStore delivering to them.

import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer, type AddressInfo, type LookupFunction } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../src/config/types.js';
import { silentLogger, type Logger } from '../../src/log/logger.js';
import type { DnsResolver, TlsPolicy } from '../../src/outbound/index.js';
import { Queue } from '../../src/queue/index.js';
import type { ServerContext } from '../../src/server/context.js';
import { startFakeSmtpServer, type FakeSmtpOptions, type FakeSmtpServer } from '../../src/smtp/client/test-support.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { TestPki } from './pki.js';

export const MESSAGE = 'From: alice@example.org\r\nTo: bob@remote.example\r\nSubject: policy\r\nMessage-ID: <p1@example.org>\r\n\r\nHello.\r\n';

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

const notFound = (name: string) => Promise.reject(Object.assign(new Error(`${name}: no data`), { code: 'ENODATA' }));

/** A DNS served from maps (for tests that are not about DNSSEC). */
export class MapDns implements DnsResolver {
  mx = new Map<string, string[]>();
  a = new Map<string, string>();
  txt = new Map<string, string[]>();
  resolveMx = (n: string) => (this.mx.has(n) ? Promise.resolve(this.mx.get(n)!.map((exchange, i) => ({ exchange, priority: 10 * (i + 1) }))) : notFound(n));
  resolve4 = (n: string) => (this.a.has(n) ? Promise.resolve([this.a.get(n)!]) : notFound(n));
  resolve6 = (n: string) => notFound(n);
  resolveTxt = (n: string) => (this.txt.has(n) ? Promise.resolve(this.txt.get(n)!.map((t) => [t])) : notFound(n));
}

export interface MxHost {
  name: string;
  address: string;
  /** The leaf certificate. */
  certPem: string;
  server: FakeSmtpServer;
}

export class TestBed {
  readonly pki: TestPki;
  readonly dns = new MapDns();
  readonly policies = new Map<string, { status?: number; type?: string; body: string }>();
  readonly fetches = new Map<string, number>();
  /** Bodies POSTed to the HTTPS host (TLS-RPT reports), with their path and content type. */
  readonly posts: { path: string; type: string; body: Buffer }[] = [];
  readonly mx = new Map<string, MxHost>();
  #https: HttpsServer | undefined;
  #cleanups: (() => Promise<void>)[] = [];
  #nextAddress = 2;
  httpsPort = 0;

  private constructor(readonly dir: string, readonly mxPort: number) {
    this.pki = new TestPki(dir);
  }

  static async create(): Promise<TestBed> {
    const dir = await mkdtemp(join(tmpdir(), 'postern-outbound-'));
    const bed = new TestBed(dir, await freePort());
    bed.#cleanups.push(() => rm(dir, { recursive: true, force: true }));
    return bed;
  }

  /** Starts a remote MX host `name` on its own 127.0.0.x, published in the map DNS. */
  async addMx(name: string, o: FakeSmtpOptions & { cert?: 'valid' | 'self-signed' | 'expired' | { for: string } } = {}): Promise<MxHost> {
    const address = `127.0.0.${this.#nextAddress++}`;
    const kind = o.cert ?? 'valid';
    const issued = kind === 'valid' ? this.pki.issue(name) : kind === 'self-signed' ? this.pki.issue(name, { selfSigned: true })
      : kind === 'expired' ? this.pki.issue(name, { days: -1 }) : this.pki.issue(kind.for);
    // A server sends its chain: the leaf, then the CA (which DANE-TA records name).
    const certificate = kind === 'self-signed' ? issued : { keyPem: issued.keyPem, certPem: issued.certPem + this.pki.caPem };
    const server = await startFakeSmtpServer({ starttls: true, ...o, host: address, port: this.mxPort, certificate });
    this.#cleanups.push(() => server.close());
    this.dns.a.set(name, address);
    const h = { name, address, server, certPem: issued.certPem };
    this.mx.set(name, h);
    return h;
  }

  /** The HTTPS host answering for every mta-sts.<domain> (SNI picks no certificate: it names them all). */
  async startPolicyHost(domains: string[]): Promise<void> {
    const cert = this.pki.issue(domains.map((d) => `mta-sts.${d}`));
    const server = createHttpsServer({ key: cert.keyPem, cert: cert.certPem }, (req, res) => {
      if (req.method === 'POST') {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          this.posts.push({ path: req.url ?? '', type: String(req.headers['content-type']), body: Buffer.concat(chunks) });
          res.writeHead(201).end();
        });
        return;
      }
      const domain = (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^mta-sts\./, '');
      this.fetches.set(domain, (this.fetches.get(domain) ?? 0) + 1);
      const p = req.url === '/.well-known/mta-sts.txt' ? this.policies.get(domain) : undefined;
      if (!p) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(p.status ?? 200, { 'content-type': p.type ?? 'text/plain' }).end(p.body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    this.httpsPort = (server.address() as AddressInfo).port;
    this.#https = server;
    this.#cleanups.push(() => new Promise((r) => server.close(() => r())));
  }

  /** Publishes an MTA-STS policy for `domain` (TXT record and file). */
  publishSts(domain: string, id: string, mode: 'enforce' | 'testing' | 'none', mx: string[], maxAge = 86400): void {
    this.dns.txt.set(`_mta-sts.${domain}`, [`v=STSv1; id=${id};`]);
    this.policies.set(domain, { body: `version: STSv1\r\nmode: ${mode}\r\n${mx.map((m) => `mx: ${m}\r\n`).join('')}max_age: ${maxAge}\r\n` });
  }

  /** Points every policy host name at the HTTPS host. */
  readonly lookup: LookupFunction = (_host, opts, cb) => {
    if ((opts as { all?: boolean }).all) (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: '127.0.0.1', family: 4 }]);
    else cb(null, '127.0.0.1', 4);
  };

  async queue(tlsPolicy: TlsPolicy, o: { store?: SqliteStore; now?: () => Date; resolver?: DnsResolver; log?: Logger } = {}): Promise<{
    queue: Queue; store: SqliteStore;
    /** Queues MESSAGE (or `content`) from alice@example.org (or `sender`, not a local address) to `rcpt`. */
    enqueue(rcpt: string | string[], o?: { requireTls?: boolean; content?: string | Buffer; sender?: string }): Promise<number>;
    inbox(): Promise<Buffer[]>;
  }> {
    const store = o.store ?? (await SqliteStore.open({ dir: await mkdtemp(join(this.dir, 'store-')), recover: true }));
    if (!o.store) {
      await store.createAccount('alice', 'alice@example.org');
      this.#cleanups.push(() => store.close());
    }
    const config = { dir: this.dir, hostname: 'mail.example.org', transports: {}, outbound: { allowPrivateAddresses: true } } as unknown as Config;
    const ctx = { store, config, log: o.log ?? silentLogger, shutdown: new AbortController().signal } as unknown as ServerContext;
    const queue = new Queue(ctx, { resolver: o.resolver ?? this.dns, mxPort: this.mxPort, tlsPolicy, timeouts: { connect: 5000, greeting: 5000, command: 5000, data: 5000 }, ...(o.now && { now: o.now }) });
    return {
      queue, store,
      async enqueue(rcpt, eo = {}) {
        const blob = await store.stageBlob(Buffer.from(eo.content ?? MESSAGE));
        const alice = (await store.getAccount('alice'))!;
        const from = eo.sender === undefined ? { id: alice.id, address: 'alice@example.org' } : { id: null, address: eo.sender };
        return (await store.enqueue(from.id, from.address, Array.isArray(rcpt) ? rcpt : [rcpt], blob, { requireTls: eo.requireTls ?? false })).id;
      },
      async inbox() {
        const alice = (await store.getAccount('alice'))!;
        const mb = (await store.getMailbox(alice.id, 'INBOX'))!;
        return Promise.all((await store.listMessages(mb.id)).map((m) => store.readBlob(m.fileId)));
      },
    };
  }

  async close(): Promise<void> {
    for (const c of this.#cleanups.reverse()) await c();
  }
}
