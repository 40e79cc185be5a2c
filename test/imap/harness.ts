// Narrative test harness for the IMAP server: starts the real listeners (plain/STARTTLS and implicit
// TLS) on ephemeral ports on 127.0.0.1 with a SqliteStore in a temp dir and an account with a
// password, and a tiny raw client that sends a command and returns the tagged status and the
// untagged lines, so tests read like transcripts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, TLSSocket } from 'node:tls';
import { deriveCredentials } from '../../src/auth/password.js';
import { StoreAuthenticator } from '../../src/auth/store-authenticator.js';
import { SessionRegistry } from '../../src/auth/session-registry.js';
import type { Config, ImapLimits } from '../../src/config/types.js';
import { DEFAULT_IMAP_LIMITS } from '../../src/config/defaults.js';
import { silentLogger } from '../../src/log/logger.js';
import type { ServerContext } from '../../src/server/context.js';
import { SqliteStore } from '../../src/store/index.js';
import { testServerCertificate } from '../../src/tls/tls-test-support.js';
import { startImapListener, type ImapListener } from '../../src/imap/server/index.js';
import { ServerTls } from '../../src/tls/server-tls.js';

export const USER = 'mjl@example.org';
export const PASSWORD = 'testtest-password';

export const DEFAULT_LIMITS: ImapLimits = { ...DEFAULT_IMAP_LIMITS };

export interface Harness {
  store: SqliteStore;
  ctx: ServerContext;
  plainPort: number;
  tlsPort: number;
  accountId: number;
  dir: string;
  /** A connected client; `login` logs in over implicit TLS (default), else a plain connection. */
  client(opts?: { tls?: boolean; login?: boolean }): Promise<Client>;
  close(): Promise<void>;
}

export async function startHarness(limits: Partial<ImapLimits> = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'postern-imap-'));
  const store = await SqliteStore.open({ dir, recover: true });
  const account = await store.createAccount('mjl', USER);
  await store.setCredentials(account.id, (await deriveCredentials(PASSWORD)) as never);
  const { keyPem, certPem } = testServerCertificate();
  const abort = new AbortController();
  const config: Config = {
    dir,
    hostname: 'localhost',
    tls: null,
    listeners: [],
    limits: { imap: { ...DEFAULT_LIMITS, ...limits }, smtp: { maxMessageSize: 1 << 20, maxRecipients: 100, maxLineLength: 2048 } },
    authFailureDelayMs: 0,
  } as unknown as Config;
  // The lead's real authenticator (src/auth/store-authenticator.ts) and session registry.
  const auth = new StoreAuthenticator({ store, log: silentLogger, hostname: 'localhost' });
  const ctx: ServerContext = {
    store,
    config,
    auth,
    sessions: new SessionRegistry(store, auth, silentLogger),
    log: silentLogger,
    tls: new ServerTls(keyPem, certPem),
    shutdown: abort.signal,
  };
  const listeners: ImapListener[] = [
    await startImapListener(ctx, { host: '127.0.0.1', port: 0, implicitTls: false, requestClientCert: true }),
    await startImapListener(ctx, { host: '127.0.0.1', port: 0, implicitTls: true, requestClientCert: true }),
  ];
  const clients: Client[] = [];
  return {
    store,
    ctx,
    dir,
    accountId: account.id,
    plainPort: listeners[0]!.port,
    tlsPort: listeners[1]!.port,
    async client(opts = {}) {
      const useTls = opts.tls ?? true;
      const sock = useTls
        ? tlsConnect({ host: '127.0.0.1', port: listeners[1]!.port, rejectUnauthorized: false })
        : netConnect({ host: '127.0.0.1', port: listeners[0]!.port });
      await new Promise<void>((resolve, reject) => {
        sock.once(useTls ? 'secureConnect' : 'connect', () => resolve());
        sock.once('error', reject);
      });
      const c = new Client(sock);
      clients.push(c);
      const greeting = await c.readLine();
      assert.match(greeting, /^\* OK /);
      if (opts.login ?? useTls) await c.ok(`LOGIN ${USER} ${PASSWORD}`);
      return c;
    },
    async close() {
      for (const c of clients) c.destroy();
      abort.abort();
      await Promise.all(listeners.map((l) => l.close()));
      (ctx.sessions as SessionRegistry).stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Reply {
  status: 'OK' | 'NO' | 'BAD';
  /** The tagged line after the status. */
  text: string;
  untagged: string[];
}

/** A raw IMAP client: lines with literals inlined, one command at a time. */
export class Client {
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  private n = 0;
  closed = false;

  constructor(public sock: Socket | TLSSocket) {
    this.attach(sock);
  }

  private attach(sock: Socket): void {
    sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake();
    });
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
    sock.on('error', () => undefined);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private async more(timeoutMs: number): Promise<void> {
    if (this.closed) throw new Error('connection closed');
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timeout waiting for data; have ${JSON.stringify(this.buf.toString('latin1').slice(0, 200))}`)), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** One response line; a literal at its end is read and inlined. */
  async readLine(timeoutMs = 5000): Promise<string> {
    let line = '';
    for (;;) {
      const i = this.buf.indexOf('\r\n');
      if (i < 0) {
        await this.more(timeoutMs);
        continue;
      }
      const part = this.buf.subarray(0, i).toString('utf8');
      this.buf = this.buf.subarray(i + 2);
      line += part;
      const m = /~?\{(\d+)\}$/.exec(part);
      if (!m) return line;
      const n = Number(m[1]);
      while (this.buf.length < n) await this.more(timeoutMs);
      line += '\r\n' + this.buf.subarray(0, n).toString('latin1');
      this.buf = this.buf.subarray(n);
    }
  }

  /** Resolves when the server closed the connection; fails on other data or timeout. */
  async expectClosed(timeoutMs = 3000): Promise<string[]> {
    const lines: string[] = [];
    const end = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > end) throw new Error('connection not closed');
      try {
        lines.push(await this.readLine(Math.max(1, end - Date.now())));
      } catch (err) {
        if (this.closed) break;
        throw err;
      }
    }
    // The last lines (a BYE) may have arrived together with the close: they are still buffered.
    for (let i = this.buf.indexOf('\r\n'); i >= 0; i = this.buf.indexOf('\r\n')) {
      lines.push(this.buf.subarray(0, i).toString('utf8'));
      this.buf = this.buf.subarray(i + 2);
    }
    return lines;
  }

  write(data: string | Buffer): void {
    this.sock.write(data);
  }

  nextTag(): string {
    return `t${++this.n}`;
  }

  /** Reads lines until the tagged reply for `tag`. */
  async reply(tag: string, timeoutMs = 10000): Promise<Reply> {
    const untagged: string[] = [];
    for (;;) {
      const line = await this.readLine(timeoutMs);
      if (line.startsWith(tag + ' ')) {
        const m = /^\S+ (OK|NO|BAD) ?(.*)$/s.exec(line);
        assert.ok(m, `bad tagged line ${line}`);
        return { status: m[1] as Reply['status'], text: m[2]!, untagged };
      }
      untagged.push(line);
    }
  }

  async cmd(command: string): Promise<Reply> {
    const tag = this.nextTag();
    this.write(`${tag} ${command}\r\n`);
    return this.reply(tag);
  }

  async ok(command: string): Promise<Reply> {
    const r = await this.cmd(command);
    assert.equal(r.status, 'OK', `${command} -> ${r.status} ${r.text}`);
    return r;
  }

  async no(command: string, code?: string): Promise<Reply> {
    const r = await this.cmd(command);
    assert.equal(r.status, 'NO', `${command} -> ${r.status} ${r.text}`);
    if (code) assert.match(r.text, new RegExp(`^\\[${code}`));
    return r;
  }

  async bad(command: string): Promise<Reply> {
    const r = await this.cmd(command);
    assert.equal(r.status, 'BAD', `${command} -> ${r.status} ${r.text}`);
    return r;
  }

  /** APPEND with a synchronizing literal. */
  async append(mailbox: string, message: string | Buffer, flags = ''): Promise<Reply> {
    const data = typeof message === 'string' ? Buffer.from(message) : message;
    const tag = this.nextTag();
    this.write(`${tag} APPEND ${mailbox} ${flags ? `(${flags}) ` : ''}{${data.length}}\r\n`);
    const cont = await this.readLine();
    if (!cont.startsWith('+')) {
      const m = /^\S+ (OK|NO|BAD) ?(.*)$/.exec(cont)!;
      return { status: m[1] as Reply['status'], text: m[2]!, untagged: [] };
    }
    this.write(Buffer.concat([data, Buffer.from('\r\n')]));
    return this.reply(tag);
  }

  destroy(): void {
    this.sock.destroy();
  }
}

/** A client logged in over implicit TLS to any server on 127.0.0.1 (Dovecot in differential tests). */
export async function loginTls(port: number, user: string, password: string): Promise<Client> {
  const sock = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, servername: 'localhost' });
  await new Promise<void>((resolve, reject) => {
    sock.once('secureConnect', () => resolve());
    sock.once('error', reject);
  });
  const c = new Client(sock);
  await c.readLine();
  await c.ok(`LOGIN "${user}" "${password}"`);
  return c;
}

export function message(subject: string, body = 'Hello there.\r\n', extraHeaders = ''): string {
  return `From: Alice <alice@example.org>\r\nTo: mjl@example.org\r\nSubject: ${subject}\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.org>\r\n${extraHeaders}\r\n${body}`;
}
