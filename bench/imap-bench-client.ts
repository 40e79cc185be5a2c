// A lean IMAP client for load generation: implicit TLS, one command at a time, literals skipped
// over without decoding, every wait bounded by a timeout. Responses are classified by their first
// bytes; untagged ones become strings only when asked for, so the client is not what limits a
// 100,000-line FETCH, and 10,000 idle connections stay cheap.
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';
import { constants as zlibConstants, createDeflateRaw, createInflateRaw, type DeflateRaw } from 'node:zlib';

export interface ConnectOptions {
  port: number;
  host?: string;
  /** PEM client certificate and key (Postern's PREAUTH). */
  cert?: string;
  key?: string;
  timeoutMs?: number;
  /** Source address; see loopbackSource. */
  localAddress?: string;
  /** TLS over a TCP socket of our own, so that wireBytes() counts what crosses the network. */
  countWire?: boolean;
}

/**
 * A loopback source address for client number `i`, `perAddress` clients each: Postern admits 50
 * connections per client IP (limits.imap.maxConnectionsPerIp), so thousands of
 * clients come from many addresses of 127.0.0.0/8, as they would from many hosts.
 */
export function loopbackSource(i: number, perAddress = 25): string {
  const k = Math.floor(i / perAddress);
  return `127.0.${1 + Math.floor(k / 250)}.${2 + (k % 250)}`;
}

export interface Reply {
  status: string;
  /** The tagged line after the tag. */
  text: string;
  untagged: number;
}

const CRLF = Buffer.from('\r\n');
const LITERAL_AT_END = /\{(\d+)\+?\}$/;

export class ImapBenchClient {
  greeting = '';
  private buf: Buffer = Buffer.alloc(0);
  private n = 0;
  private pending: { tag: string; untagged: number; lines?: string[]; resolve(r: Reply): void; reject(e: Error): void } | null = null;
  private continuation: ((line: string) => void) | null = null;
  private greetingWaiter: ((line: string) => void) | null = null;
  /** Called with the start of every untagged response (e.g. to watch for EXISTS during IDLE). */
  onUntagged: ((head: string) => void) | null = null;
  closed = false;
  /** After compress(): our commands go through this (RFC 4978), the server's responses through an inflater. */
  private deflate: DeflateRaw | null = null;
  private inflate: ((d: Buffer) => void) | null = null;
  private tcp: Socket | null = null;

  private constructor(readonly sock: TLSSocket) {
    sock.on('data', (d: Buffer) => (this.inflate ? this.inflate(d) : this.onData(d)));
    sock.on('error', () => undefined);
    sock.on('close', () => {
      this.closed = true;
      this.pending?.reject(new Error('connection closed'));
      this.pending = null;
    });
  }

  static async connect(opts: ConnectOptions): Promise<ImapBenchClient> {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const where = { host: opts.host ?? '127.0.0.1', port: opts.port, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) };
    const tcp = opts.countWire ? tcpConnect(where) : null;
    const sock = connect({
      ...(tcp ? { socket: tcp } : where),
      rejectUnauthorized: false,
      ...(opts.cert ? { cert: opts.cert, key: opts.key } : {}),
    });
    const c = new ImapBenchClient(sock);
    c.tcp = tcp;
    // Plain listeners, not events.once: that would reject later, unhandled, on a socket error.
    try {
      c.greeting = await new Promise<string>((resolve, reject) => {
        const t = setTimeout(() => (sock.destroy(), reject(new Error('connect/greeting timeout'))), timeoutMs);
        c.greetingWaiter = (line) => (clearTimeout(t), resolve(line));
        sock.once('close', () => (clearTimeout(t), reject(new Error('closed before greeting'))));
      });
    } catch (err) {
      sock.destroy();
      throw err;
    }
    return c;
  }

  /** Pieces of a line not complete yet (a 7 MB `* SEARCH` line comes in hundreds of them). */
  private parts: Buffer[] = [];

  private onData(d: Buffer): void {
    // Without a line end in it (nor the LF of a CRLF split between pieces), a piece completes no
    // response: kept aside, so that a long line is joined and scanned once, not at every piece.
    if (d.indexOf(CRLF) < 0 && d[0] !== 0x0a) {
      this.parts.push(d);
      return;
    }
    if (this.parts.length) {
      this.parts.push(d);
      d = Buffer.concat(this.parts);
      this.parts = [];
    }
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    let start = 0;
    let scan = 0;
    for (;;) {
      const i = this.buf.indexOf(CRLF, scan);
      if (i < 0) break;
      // A line ending in a literal announcement ("{n}" or "{n+}") continues after the literal's bytes.
      if (i > start && this.buf[i - 1] === 0x7d /* } */) {
        const lit = LITERAL_AT_END.exec(this.buf.toString('latin1', Math.max(start, i - 16), i));
        if (lit) {
          const next = i + 2 + Number(lit[1]);
          if (next > this.buf.length) break;
          scan = next;
          continue;
        }
      }
      this.onResponse(start, i);
      start = scan = i + 2;
    }
    this.buf = start >= this.buf.length ? Buffer.alloc(0) : this.buf.subarray(start);
  }

  private onResponse(start: number, end: number): void {
    const b = this.buf;
    // Untagged data, the bulk of a big FETCH: counted without making strings unless asked for.
    if (b[start] === 0x2a /* * */ && b[start + 1] === 0x20 && !this.greetingWaiter) {
      if (this.pending) {
        this.pending.untagged++;
        this.pending.lines?.push(b.toString('latin1', start, end));
      }
      this.onUntagged?.(b.toString('latin1', start, Math.min(end, start + 200)));
      return;
    }
    const head = b.toString('latin1', start, Math.min(end, start + 200));
    if (this.greetingWaiter) {
      const w = this.greetingWaiter;
      this.greetingWaiter = null;
      w(head);
      return;
    }
    if (head.startsWith('+')) {
      const c = this.continuation;
      this.continuation = null;
      c?.(head);
      return;
    }
    const p = this.pending;
    if (p && head.startsWith(p.tag + ' ')) {
      this.pending = null;
      const text = b.toString('latin1', start + p.tag.length + 1, end);
      const sp = text.indexOf(' ');
      p.resolve({ status: sp < 0 ? text : text.slice(0, sp), text, untagged: p.untagged });
    }
  }

  private send(tag: string, data: string | Buffer, timeoutMs: number, keepLines: boolean): Promise<Reply & { lines?: string[] }> {
    if (this.closed) return Promise.reject(new Error('connection closed'));
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.pending = null;
        reject(new Error(`timeout after ${timeoutMs} ms: ${String(data).slice(0, 60)}`));
      }, timeoutMs);
      const lines = keepLines ? [] as string[] : undefined;
      this.pending = {
        tag,
        untagged: 0,
        lines,
        resolve: (r) => (clearTimeout(t), resolve({ ...r, lines })),
        reject: (e) => (clearTimeout(t), reject(e)),
      };
      this.write(data);
    });
  }

  private write(data: string | Buffer): void {
    if (!this.deflate) {
      this.sock.write(data);
      return;
    }
    // One sync flush per command, as real clients do (imapflow, Thunderbird).
    this.deflate.write(data);
    this.deflate.flush(zlibConstants.Z_SYNC_FLUSH);
  }

  /** COMPRESS DEFLATE (RFC 4978): both ways compressed after the server's OK. */
  async compress(): Promise<void> {
    await this.cmd('COMPRESS DEFLATE');
    const deflate = createDeflateRaw();
    deflate.on('data', (c: Buffer) => this.sock.write(c));
    const inflate = createInflateRaw();
    inflate.on('data', (d: Buffer) => this.onData(d));
    inflate.on('error', () => this.sock.destroy());
    this.deflate = deflate;
    this.inflate = (d) => inflate.write(d);
    this.sock.once('close', () => {
      deflate.close();
      inflate.close();
    });
  }

  /** Bytes sent and received on the TCP connection (TLS records included); needs countWire. */
  wireBytes(): { read: number; written: number } {
    return { read: this.tcp?.bytesRead ?? NaN, written: this.tcp?.bytesWritten ?? NaN };
  }

  nextTag(): string {
    return `b${++this.n}`;
  }

  /** Sends one command; rejects on timeout or a closed connection, and on NO/BAD unless allowed. */
  async cmd(command: string, opts: { timeoutMs?: number; allowNo?: boolean; lines?: boolean } = {}): Promise<Reply & { lines?: string[] }> {
    const tag = this.nextTag();
    const r = await this.send(tag, `${tag} ${command}\r\n`, opts.timeoutMs ?? 30_000, opts.lines ?? false);
    if (r.status !== 'OK' && !opts.allowNo) throw new Error(`${command.slice(0, 40)}: ${r.text}`);
    return r;
  }

  /** APPEND with a non-synchronizing literal (LITERAL+, both servers): one round trip. */
  async append(mailbox: string, flags: string, message: Buffer, timeoutMs = 30_000): Promise<Reply> {
    const tag = this.nextTag();
    const head = Buffer.from(`${tag} APPEND ${mailbox} (${flags}) {${message.length}+}\r\n`);
    const r = await this.send(tag, Buffer.concat([head, message, CRLF]), timeoutMs, false);
    if (r.status !== 'OK') throw new Error(`APPEND: ${r.text}`);
    return r;
  }

  /** Starts IDLE and resolves once the server's continuation arrived; `done()` ends it. */
  async idle(timeoutMs = 30_000): Promise<{ done(): Promise<Reply> }> {
    const tag = this.nextTag();
    let reply!: Promise<Reply>;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('IDLE: no continuation')), timeoutMs);
      this.continuation = () => (clearTimeout(t), resolve());
      // The tagged reply only comes after DONE; no timeout on it until then.
      reply = this.send(tag, `${tag} IDLE\r\n`, 24 * 3600_000, false);
      reply.catch((e) => (clearTimeout(t), reject(e)));
    });
    return {
      done: () => {
        this.write('DONE\r\n');
        return reply;
      },
    };
  }

  close(): void {
    this.sock.destroy();
  }
}

/** The UID from a tagged `[APPENDUID <validity> <uid>]` response code (RFC 4315). */
export function appendUid(r: Reply): number {
  const m = /\[APPENDUID \d+ (\d+)\]/i.exec(r.text);
  if (!m) throw new Error(`no APPENDUID in ${r.text}`);
  return Number(m[1]);
}
