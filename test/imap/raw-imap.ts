// A byte-exact IMAP client for comparing servers: responses stay Buffers (8-bit header bytes are not
// re-decoded), and a small parser turns response data into a value tree. Test support only.
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

/** IMAP response data: NIL is null, numbers are numbers, strings (quoted or literal) are Buffers. */
export type RawValue = null | number | Buffer | { atom: string } | RawValue[];

export class RawImap {
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  private closed = false;
  private n = 0;

  private constructor(private readonly sock: TLSSocket) {
    sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      for (const w of this.waiters.splice(0)) w();
    });
    sock.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
    sock.on('error', () => undefined);
  }

  /** Implicit TLS without certificate checks (both servers use throw-away certificates), then LOGIN. */
  static async login(port: number, user: string, password: string): Promise<RawImap> {
    const sock = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => {
      sock.once('secureConnect', () => resolve());
      sock.once('error', reject);
    });
    const c = new RawImap(sock);
    await c.until((b) => b.indexOf('\r\n') >= 0);
    c.buf = Buffer.alloc(0);
    await c.ok(`LOGIN "${user}" "${password}"`);
    return c;
  }

  private async until(done: (b: Buffer) => boolean, timeoutMs = 10_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!done(this.buf)) {
      if (this.closed) throw new Error(`connection closed; have ${this.buf.toString('latin1').slice(-300)}`);
      const left = end - Date.now();
      if (left <= 0) throw new Error(`timeout; have ${this.buf.toString('latin1').slice(-300)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => (clearTimeout(t), resolve()));
      });
    }
  }

  /** Sends a command and returns every byte up to and including its tagged reply, which must be OK. */
  async ok(command: string): Promise<Buffer> {
    const tag = `x${++this.n}`;
    this.sock.write(`${tag} ${command}\r\n`);
    return this.tagged(tag);
  }

  private async tagged(tag: string): Promise<Buffer> {
    let at = -1;
    await this.until((b) => (at = findTagged(b, tag)) >= 0);
    const eol = this.buf.indexOf('\r\n', at);
    const out = this.buf.subarray(0, eol + 2);
    this.buf = this.buf.subarray(eol + 2);
    const status = out.subarray(at).toString('latin1');
    if (!status.startsWith(`${tag} OK`)) throw new Error(`command failed: ${status.trim()}`);
    return out;
  }

  /** APPEND; `date` is an INTERNALDATE date-time ("01-Jan-2024 10:00:00 +0000") when given. */
  async append(mailbox: string, message: Buffer, date?: string): Promise<void> {
    const tag = `x${++this.n}`;
    this.sock.write(`${tag} APPEND "${mailbox}"${date ? ` "${date}"` : ''} {${message.length}}\r\n`);
    await this.until((b) => b.indexOf('+') === 0 || findTagged(b, tag) >= 0);
    if (this.buf[0] !== 0x2b) await this.tagged(tag);
    this.buf = this.buf.subarray(this.buf.indexOf('\r\n') + 2);
    this.sock.write(Buffer.concat([message, Buffer.from('\r\n')]));
    await this.tagged(tag);
  }

  close(): void {
    this.sock.destroy();
  }
}

/** Offset of the line that starts with "<tag> ", skipping literal contents; -1 when not there yet. */
function findTagged(b: Buffer, tag: string): number {
  let pos = 0;
  while (pos < b.length) {
    const eol = b.indexOf('\r\n', pos);
    if (eol < 0) return -1;
    if (b.toString('latin1', pos, pos + tag.length + 1) === `${tag} `) return pos;
    const m = /\{(\d+)\+?\}$/.exec(b.toString('latin1', Math.max(pos, eol - 20), eol));
    pos = eol + 2 + (m ? Number(m[1]) : 0);
    if (m && pos > b.length) return -1;
    // A literal ends mid-line: the rest of that line is part of the same response.
    if (m) {
      const next = b.indexOf('\r\n', pos);
      if (next < 0) return -1;
      pos = next + 2;
    }
  }
  return -1;
}

/** Parses one response value starting at `pos`; returns it and the offset after it. */
export function parseValue(b: Buffer, pos: number): [RawValue, number] {
  while (b[pos] === 0x20) pos++;
  const c = b[pos];
  if (c === 0x28) {
    const list: RawValue[] = [];
    pos++;
    for (;;) {
      while (b[pos] === 0x20) pos++;
      if (b[pos] === 0x29) return [list, pos + 1];
      if (pos >= b.length) throw new Error('unterminated list');
      const [v, next] = parseValue(b, pos);
      list.push(v);
      pos = next;
    }
  }
  if (c === 0x22) {
    const bytes: number[] = [];
    for (pos++; b[pos] !== 0x22; pos++) {
      if (pos >= b.length) throw new Error('unterminated string');
      if (b[pos] === 0x5c) pos++;
      bytes.push(b[pos]!);
    }
    return [Buffer.from(bytes), pos + 1];
  }
  if (c === 0x7b || (c === 0x7e && b[pos + 1] === 0x7b)) {
    const close = b.indexOf('}', pos);
    const n = Number(b.toString('latin1', b.indexOf('{', pos) + 1, close).replace('+', ''));
    const start = close + 3; // "}\r\n"
    return [b.subarray(start, start + n), start + n];
  }
  let end = pos;
  while (end < b.length && ![0x20, 0x28, 0x29, 0x0d].includes(b[end]!)) end++;
  const word = b.toString('latin1', pos, end);
  if (word === 'NIL') return [null, end];
  if (/^\d+$/.test(word)) return [Number(word), end];
  return [{ atom: word }, end];
}

/** The FETCH responses in `resp`: message sequence number to the attribute list as name -> value. */
export function fetchResponses(resp: Buffer): Map<number, Map<string, RawValue>> {
  const out = new Map<number, Map<string, RawValue>>();
  const re = /\* (\d+) FETCH /g;
  const text = resp.toString('latin1');
  let m: RegExpExecArray | null;
  let from = 0;
  while ((m = re.exec(text))) {
    if (m.index < from) continue; // inside a literal of the previous response
    const [list, end] = parseValue(resp, m.index + m[0].length);
    from = end;
    const attrs = new Map<string, RawValue>();
    const items = list as RawValue[];
    for (let i = 0; i + 1 < items.length; i += 2) attrs.set((items[i] as { atom: string }).atom.toUpperCase(), items[i + 1]!);
    out.set(Number(m[1]), attrs);
  }
  return out;
}

/** A value tree as JSON-friendly data: strings as latin1 text (each byte one character), atoms marked. */
export function plain(v: RawValue): unknown {
  if (v === null || typeof v === 'number') return v;
  if (Buffer.isBuffer(v)) return v.toString('latin1');
  if (Array.isArray(v)) return v.map(plain);
  return `atom:${v.atom}`;
}
