// Helpers shared by the authentication tests in test/auth: third-party binaries (a missing one fails
// the test and names its Debian package), client certificates on disk, raw IMAP and SMTP connections
// with a chosen source address and TLS version, and waiting for delivered mail.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, writeFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { ReplyReader, type Reply } from '../../src/smtp/proto/index.js';
import type { KeyAndCertificate } from '../../src/tls/generate.js';
import type { TestServer } from '../e2e/server-harness.js';
import { Client } from '../imap/harness.js';

export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';

/** The path of a binary (a name on PATH, or an absolute path); fails the test when it is missing. */
export function requireBinary(bin: string, debianPackage: string): string {
  const candidates = bin.includes('/') ? [bin] : (process.env.PATH ?? '').split(delimiter).map((d) => join(d, bin));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // try the next directory
    }
  }
  assert.fail(`${bin} is not installed: install the Debian package ${debianPackage}`);
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program to completion (killed after timeoutMs), feeding `input` on stdin. */
export function run(cmd: string, args: string[], opts: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** Registers a generated key for an account (spec 2.1). */
export async function registerKey(srv: TestServer, accountName: string, k: KeyAndCertificate, loginAddress: string, noImapPreauth = false): Promise<void> {
  const store = srv.server.ctx.store;
  const account = await store.getAccount(accountName);
  assert.ok(account, `account ${accountName}`);
  await store.addTlsPubKey(account.id, { fingerprint: k.fingerprint, type: 'ed25519', name: 'test device', loginAddress, noImapPreauth, certDer: k.certDer });
}

/** Key, certificate, and both in one file (what imtest -t wants), in a fresh temp directory. */
export function keyFiles(k: KeyAndCertificate): { keyFile: string; certFile: string; keyCertFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'postern-authkeys-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  const keyCertFile = join(dir, 'keycert.pem');
  writeFileSync(keyFile, k.keyPem, { mode: 0o600 });
  writeFileSync(certFile, k.certPem);
  writeFileSync(keyCertFile, k.keyPem + k.certPem, { mode: 0o600 });
  return { keyFile, certFile, keyCertFile };
}

/** Waits for a message with this Subject in the account's Inbox. */
export async function waitForMessage(srv: TestServer, accountName: string, subject: string, timeoutMs = 5000): Promise<Buffer> {
  const store = srv.server.ctx.store;
  const account = (await store.getAccount(accountName))!;
  const mb = (await store.getMailbox(account.id, 'INBOX'))!;
  const end = Date.now() + timeoutMs;
  for (;;) {
    for (const m of await store.listMessages(mb.id)) {
      const body = await store.readBlob(m.fileId);
      if (new RegExp(`^Subject: ${subject.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\r?$`, 'mi').test(body.toString('utf8'))) return body;
    }
    if (Date.now() > end) assert.fail(`no message with subject "${subject}" in ${accountName}'s Inbox`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface ConnectOptions {
  cert?: KeyAndCertificate;
  localAddress?: string;
  maxVersion?: TlsVersion;
}

function tlsOptions(o: ConnectOptions) {
  return { rejectUnauthorized: false, ...(o.maxVersion && { maxVersion: o.maxVersion }), ...(o.cert && { key: o.cert.keyPem, cert: o.cert.certPem }) };
}

async function connected<T extends Socket>(sock: T, event: 'connect' | 'secureConnect'): Promise<T> {
  await new Promise<void>((resolve, reject) => {
    sock.once(event, () => resolve());
    sock.once('error', reject);
  });
  return sock;
}

/** IMAPS (implicit TLS): the client and its greeting line. */
export async function imaps(port: number, o: ConnectOptions = {}): Promise<{ c: Client; greeting: string }> {
  const sock = await connected(tlsConnect({ host: '127.0.0.1', port, ...(o.localAddress && { localAddress: o.localAddress }), ...tlsOptions(o) }), 'secureConnect');
  const c = new Client(sock);
  return { c, greeting: await c.readLine() };
}

/** Port 143, then STARTTLS: the client on the TLS socket (the greeting was `* OK`). */
export async function imapStarttls(port: number, o: ConnectOptions = {}): Promise<Client> {
  const raw = await connected(netConnect({ host: '127.0.0.1', port, ...(o.localAddress && { localAddress: o.localAddress }) }), 'connect');
  const plain = new Client(raw);
  assert.match(await plain.readLine(), /^\* OK/);
  await plain.ok('STARTTLS');
  raw.removeAllListeners('data');
  raw.removeAllListeners('close');
  return new Client(await connected(tlsConnect({ socket: raw, ...tlsOptions(o) }), 'secureConnect'));
}

/** A raw SMTP client for transcripts (like test/smtp/harness.ts), with source address and TLS version. */
export class Smtp {
  private reader = new ReplyReader();
  private replies: Reply[] = [];
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(public sock: Socket | TLSSocket, private readonly o: ConnectOptions) {
    this.attach(sock);
  }

  static async connect(port: number, o: ConnectOptions & { tls?: boolean } = {}): Promise<Smtp> {
    const local = o.localAddress ? { localAddress: o.localAddress } : {};
    const sock = o.tls
      ? await connected(tlsConnect({ host: '127.0.0.1', port, ...local, ...tlsOptions(o) }), 'secureConnect')
      : await connected(netConnect({ host: '127.0.0.1', port, ...local }), 'connect');
    return new Smtp(sock, o);
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
    sock.on('error', () => undefined);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  get tlsSocket(): TLSSocket {
    return this.sock as TLSSocket;
  }

  async reply(timeoutMs = 5000): Promise<Reply> {
    const deadline = Date.now() + timeoutMs;
    while (this.replies.length === 0) {
      if (this.closed) throw new Error('connection closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timeout waiting for a reply');
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

  async expect(code: number, enhanced?: string, timeoutMs?: number): Promise<Reply> {
    const r = await this.reply(timeoutMs);
    assert.equal(r.code, code, `expected ${code}, got ${r.code} ${r.enhanced ?? ''} ${r.lines.join(' | ')}`);
    if (enhanced !== undefined) assert.equal(r.enhanced, enhanced, `reply ${r.code} ${r.enhanced} ${r.lines.join(' | ')}`);
    return r;
  }

  async cmd(line: string, code?: number, enhanced?: string): Promise<Reply> {
    this.sock.write(line + '\r\n');
    return code === undefined ? this.reply() : this.expect(code, enhanced);
  }

  /** EHLO; returns the extension lines. */
  async ehlo(name = 'client.example'): Promise<string[]> {
    return (await this.cmd(`EHLO ${name}`, 250)).lines.slice(1);
  }

  async startTls(cert?: KeyAndCertificate): Promise<void> {
    await this.cmd('STARTTLS', 220);
    this.sock.removeAllListeners('data');
    this.sock.removeAllListeners('close');
    this.sock = await connected(tlsConnect({ socket: this.sock, ...tlsOptions({ ...this.o, cert: cert ?? this.o.cert }) }), 'secureConnect');
    this.reader = new ReplyReader();
    this.attach(this.sock);
  }

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

export const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');

export function eml(from: string, to: string, subject: string): string {
  return `From: ${from}\r\nTo: ${to}\r\nSubject: ${subject}\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\nMessage-ID: <${subject.replace(/\W/g, '')}.${Date.now()}@example.test>\r\n\r\nHello.\r\n`;
}
