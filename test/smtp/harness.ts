// Test harness for the SMTP server: the real listeners (incoming, submission with STARTTLS,
// submissions with implicit TLS) on ephemeral ports, over a SqliteStore in a temp directory, a
// real StoreAuthenticator and SessionRegistry, a generated server certificate and DKIM keys, and
// a DNS resolver that serves the test domains' records. Plus a transcript client that speaks SMTP
// line by line and asserts replies.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { deriveCredentials } from '../../src/auth/password.js';
import { SessionRegistry } from '../../src/auth/session-registry.js';
import { StoreAuthenticator } from '../../src/auth/store-authenticator.js';
import { DEFAULT_IMAP_LIMITS, DEFAULT_SMTP_LIMITS } from '../../src/config/defaults.js';
import type { Config, SmtpLimits } from '../../src/config/types.js';
import { createLogger, silentLogger } from '../../src/log/logger.js';
import type { ServerContext } from '../../src/server/context.js';
import { generateDkimKeys, startSmtpListener, type DkimKey, type DnsResolver } from '../../src/smtp/server/index.js';
import { ReplyReader, type Reply } from '../../src/smtp/proto/index.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { generateServerCertificate, type KeyAndCertificate } from '../../src/tls/generate.js';
import { ServerTls } from '../../src/tls/server-tls.js';

export const HOSTNAME = 'mail.example.test';
export const PASSWORD = 'alice-secret-pw';
export const BOB_PASSWORD = 'bob-secret-pw';

let serverCert: KeyAndCertificate | undefined;
function certificate(): KeyAndCertificate {
  serverCert ??= generateServerCertificate('localhost');
  return serverCert;
}

export interface Harness {
  dir: string;
  store: SqliteStore;
  ctx: ServerContext;
  ports: { smtp: number; submission: number; submissions: number };
  alice: { id: number };
  bob: { id: number };
  dkimKeys: DkimKey[];
  /** TXT records the resolver serves, by lower-case name; tests may add more. */
  txt: Map<string, string[]>;
  resolver: DnsResolver;
  /** Raw messages in the account's INBOX, oldest first. */
  inbox(accountId: number): Promise<Buffer[]>;
  /** Raw messages in one of the account's mailboxes, oldest first. */
  mailbox(accountId: number, name: string): Promise<Buffer[]>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  smtpLimits?: Partial<SmtpLimits>;
  timeouts?: { commandMs?: number; greetingMs?: number };
  /** DNS for the listeners instead of the in-process TXT map (a real server the test runs). */
  resolver?: DnsResolver;
  dmarc?: Config['dmarc'];
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'postern-smtp-'));
  const store = await SqliteStore.open({ dir, recover: true });
  const alice = await store.createAccount('alice', 'alice@example.test');
  await store.addAddress('alice', 'alias@example.test');
  await store.setCredentials(alice.id, await deriveCredentials(PASSWORD));
  const bob = await store.createAccount('bob', 'bob@example.test');
  await store.setCredentials(bob.id, await deriveCredentials(BOB_PASSWORD));
  await store.createAccount('carol', 'carol@other.test');

  const cert = certificate();
  mkdirSync(join(dir, 'tls'));
  writeFileSync(join(dir, 'tls', 'cert.pem'), cert.certPem);
  writeFileSync(join(dir, 'tls', 'key.pem'), cert.keyPem, { mode: 0o600 });

  const dkimKeys = generateDkimKeys('example.test');
  mkdirSync(join(dir, 'dkim'));
  const dkim: Config['dkim'] = { 'example.test': [] };
  for (const k of dkimKeys) {
    const keyFile = join(dir, 'dkim', `${k.selector}.pem`);
    writeFileSync(keyFile, k.privateKeyPem, { mode: 0o600 });
    dkim['example.test']!.push({ selector: k.selector, keyFile });
  }

  const txt = new Map<string, string[]>();
  for (const k of dkimKeys) txt.set(k.dnsName, [k.dnsRecord]);
  const resolver: DnsResolver = async (name, rrtype) => {
    const key = name.toLowerCase().replace(/\.$/, '');
    if (rrtype === 'TXT' && txt.has(key)) return txt.get(key)!.map((r) => [r]);
    const err = new Error(`queryTxt ENOTFOUND ${name}`) as NodeJS.ErrnoException;
    err.code = 'ENOTFOUND';
    throw err;
  };

  const config: Config = {
    dir,
    hostname: HOSTNAME,
    tls: { certFile: join(dir, 'tls', 'cert.pem'), keyFile: join(dir, 'tls', 'key.pem') },
    listeners: [],
    limits: { imap: DEFAULT_IMAP_LIMITS, smtp: { ...DEFAULT_SMTP_LIMITS, ...opts.smtpLimits } },
    authFailureDelayMs: 0,
    dkim,
    transports: {},
    quota: { default: null },
    outbound: { allowPrivateAddresses: false, mtaSts: false, dnssecResolver: null },
    dns: { resolver: null },
    mtaSts: { mode: 'testing', maxAgeSeconds: 604800 },
    ...(opts.dmarc && { dmarc: opts.dmarc }),
  };
  const log = process.env.POSTERN_TEST_LOG ? createLogger({ level: 'debug' }) : silentLogger;
  const auth = new StoreAuthenticator({ store, log, hostname: HOSTNAME });
  const sessions = new SessionRegistry(store, auth, log, 50);
  const controller = new AbortController();
  const ctx: ServerContext = {
    store,
    config,
    auth,
    sessions,
    log,
    tls: new ServerTls(cert.keyPem, cert.certPem),
    shutdown: controller.signal,
  };
  const common = { host: '127.0.0.1', port: 0, resolver: opts.resolver ?? resolver, timeouts: opts.timeouts };
  const smtp = await startSmtpListener(ctx, { ...common, kind: 'smtp', implicitTls: false, requestClientCert: false });
  const submission = await startSmtpListener(ctx, { ...common, kind: 'submission', implicitTls: false, requestClientCert: true });
  const submissions = await startSmtpListener(ctx, { ...common, kind: 'submission', implicitTls: true, requestClientCert: true });

  async function mailbox(accountId: number, name: string): Promise<Buffer[]> {
    const mb = await store.getMailbox(accountId, name);
    const out: Buffer[] = [];
    if (mb) for (const m of await store.listMessages(mb.id)) out.push(await store.readBlob(m.fileId));
    return out;
  }

  return {
    dir,
    store,
    ctx,
    ports: { smtp: smtp.port, submission: submission.port, submissions: submissions.port },
    alice,
    bob,
    dkimKeys,
    txt,
    resolver,
    inbox: (accountId) => mailbox(accountId, 'INBOX'),
    mailbox,
    async close() {
      controller.abort();
      await Promise.all([smtp.close(), submission.close(), submissions.close()]);
      sessions.stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Value of the first header field `name` (unfolded), or null. */
export function header(msg: Buffer, name: string): string | null {
  return headers(msg, name)[0] ?? null;
}

export function headers(msg: Buffer, name: string): string[] {
  const text = msg.toString('utf8');
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end + 2);
  const out: string[] = [];
  const re = new RegExp(`^${name}:[ \\t]*((?:.*)(?:\\r\\n[ \\t].*)*)`, 'gim');
  for (let m = re.exec(head); m; m = re.exec(head)) out.push(m[1]!.replace(/\r\n[ \t]+/g, ' ').trim());
  return out;
}

/** An SMTP client for transcripts: send lines, read replies, assert codes. */
export class SmtpClient {
  private reader = new ReplyReader();
  private replies: Reply[] = [];
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(public sock: Socket | TLSSocket) {
    this.attach(sock);
  }

  private attach(sock: Socket): void {
    sock.on('data', (d: Buffer) => {
      this.replies.push(...this.reader.push(d));
      this.wake();
    });
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
    sock.on('error', () => {});
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** localAddress: a 127.0.0.x source address, for the SPF result a test wants. */
  static async connect(port: number, opts: { tls?: boolean; cert?: KeyAndCertificate; localAddress?: string } = {}): Promise<SmtpClient> {
    const sock = opts.tls
      ? tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...(opts.cert && { key: opts.cert.keyPem, cert: opts.cert.certPem }) })
      : netConnect({ host: '127.0.0.1', port, localAddress: opts.localAddress });
    await new Promise<void>((resolve, reject) => {
      sock.once(opts.tls ? 'secureConnect' : 'connect', () => resolve());
      sock.once('error', reject);
    });
    return new SmtpClient(sock);
  }

  /** The next reply; fails after 5 s or when the connection closed first. */
  async reply(): Promise<Reply> {
    const deadline = Date.now() + 5000;
    while (this.replies.length === 0) {
      if (this.closed) throw new Error('connection closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timeout waiting for reply');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.replies.shift()!;
  }

  async expect(code: number, enhanced?: string): Promise<Reply> {
    const r = await this.reply();
    assert.equal(r.code, code, `expected ${code}, got ${r.code} ${r.enhanced ?? ''} ${r.lines.join(' | ')}`);
    if (enhanced !== undefined) assert.equal(r.enhanced, enhanced, `reply ${r.code} ${r.enhanced} ${r.lines.join(' | ')}`);
    return r;
  }

  write(data: string | Buffer): void {
    this.sock.write(data);
  }

  /** Sends a command line and returns its reply. */
  async cmd(line: string, code?: number, enhanced?: string): Promise<Reply> {
    this.write(line + '\r\n');
    return code === undefined ? this.reply() : this.expect(code, enhanced);
  }

  async ehlo(name = 'client.example'): Promise<string[]> {
    const r = await this.cmd(`EHLO ${name}`, 250);
    return r.lines.slice(1);
  }

  async startTls(cert?: KeyAndCertificate): Promise<void> {
    await this.cmd('STARTTLS', 220);
    this.sock.removeAllListeners('data');
    this.sock.removeAllListeners('close');
    const t = tlsConnect({ socket: this.sock, rejectUnauthorized: false, ...(cert && { key: cert.keyPem, cert: cert.certPem }) });
    await new Promise<void>((resolve, reject) => {
      t.once('secureConnect', () => resolve());
      t.once('error', reject);
    });
    this.sock = t;
    this.reader = new ReplyReader();
    this.attach(t);
  }

  /** Waits until the server closed the connection. */
  async waitClosed(ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('connection still open');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  close(): void {
    this.sock.destroy();
  }
}

/** base64 of an AUTH PLAIN message. */
export function plain(user: string, pass: string, authzid = ''): string {
  return Buffer.from(`${authzid}\0${user}\0${pass}`).toString('base64');
}

export function message(from: string, to: string, subject = 'test', extra = ''): string {
  return `From: ${from}\r\nTo: ${to}\r\nSubject: ${subject}\r\n${extra}\r\nHello there.\r\n`;
}
