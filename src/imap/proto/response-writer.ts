// Response serialisation (RFC 9051 4, 7, 9): atoms, quoted strings, literals, NIL and lists.
// Strings go out quoted when they can (short, no CR/LF/NUL, 8-bit only when the client accepts UTF-8,
// RFC 9051 4.3 / RFC 6855 3), otherwise as literals; binary data as literal8 `~{n}` (RFC 3516 4.3).

/** Octets kept as they were (one character per byte, latin1), e.g. non-UTF-8 header bytes: a string. */
export interface RawOctets {
  raw: string;
}

/** A value tree: null is NIL, a number a number, a string an IMAP string, an array a parenthesised list. */
export type ResponseValue = null | number | string | Buffer | RawOctets | Atom | ResponseValue[];

/** Text written as is (flags, keywords, response codes). */
export class Atom {
  constructor(readonly text: string) {}
}

export const atom = (text: string): Atom => new Atom(text);

const QUOTE_MAX = 1024;

export class ResponseBuilder {
  private readonly chunks: Buffer[] = [];
  private pending = '';

  constructor(private readonly utf8: boolean) {}

  /** Whether strings may go out as UTF-8 (what a serialisation kept for reuse depends on). */
  get acceptsUtf8(): boolean {
    return this.utf8;
  }

  /** Bytes already serialised by a builder of the same form (fetch-rendered.ts). */
  bytes(data: Buffer): this {
    this.flush();
    this.chunks.push(data);
    return this;
  }

  /** Raw protocol text (ASCII, or UTF-8 the caller has cleared). */
  text(s: string): this {
    this.pending += s;
    return this;
  }

  private flush(): void {
    if (this.pending) {
      this.chunks.push(Buffer.from(this.pending, 'utf8'));
      this.pending = '';
    }
  }

  literal(data: Buffer, binary = false): this {
    this.pending += `${binary ? '~' : ''}{${data.length}}\r\n`;
    this.flush();
    this.chunks.push(data);
    return this;
  }

  string(s: string | Buffer): this {
    // No IMAP string can hold NUL (RFC 9051 4.3: CHAR8 excludes it): a NUL in a header value is
    // sent as a space.
    if (typeof s === 'string' ? s.includes('\0') : s.includes(0)) s = withoutNulOctets(s);
    if (typeof s !== 'string') {
      if (s.length <= QUOTE_MAX && canQuoteBytes(s, this.utf8)) return this.text(quote(s.toString('utf8')));
      return this.literal(s);
    }
    if (s.length <= QUOTE_MAX && canQuote(s, this.utf8)) return this.text(quote(s));
    return this.literal(Buffer.from(s, 'utf8'));
  }

  nstring(s: string | Buffer | null): this {
    return s === null ? this.text('NIL') : this.string(s);
  }

  /** astring: an atom when possible (mailbox names), else a string. */
  astring(s: string): this {
    if (s.length > 0 && /^[\x21-\x7e]+$/.test(s) && !/[(){%*"\\]/.test(s)) return this.text(s);
    return this.string(s);
  }

  value(v: ResponseValue): this {
    if (v === null) return this.text('NIL');
    if (typeof v === 'number') return this.text(String(v));
    if (typeof v === 'string' || Buffer.isBuffer(v)) return this.string(v);
    if (v instanceof Atom) return this.text(v.text);
    if (!Array.isArray(v)) return this.string(Buffer.from(v.raw, 'latin1'));
    this.text('(');
    v.forEach((e, i) => {
      if (i) this.text(' ');
      this.value(e);
    });
    return this.text(')');
  }

  toBuffer(): Buffer {
    this.flush();
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
  }
}

/**
 * Gathers many response lines into few large writes: one socket write per line costs a TLS record
 * and a syscall each (FETCH 1:* on a big mailbox). `add` returns a promise only when it wrote.
 */
export class OutputBatch {
  private chunks: Buffer[] = [];
  private text = '';
  private size = 0;

  private waiting: Promise<void>[] = [];

  constructor(
    private readonly send: (data: Buffer) => Promise<void>,
    private readonly limit = 128 * 1024,
    private readonly ahead = 3,
  ) {}

  /** Protocol text (UTF-8). */
  addText(s: string): Promise<void> | undefined {
    this.text += s;
    this.size += s.length;
    return this.size >= this.limit ? this.flush() : undefined;
  }

  addBuffer(b: Buffer): Promise<void> | undefined {
    if (this.text) {
      this.chunks.push(Buffer.from(this.text, 'utf8'));
      this.text = '';
    }
    this.chunks.push(b);
    this.size += b.length;
    return this.size >= this.limit ? this.flush() : undefined;
  }

  async flush(): Promise<void> {
    if (this.text) {
      this.chunks.push(Buffer.from(this.text, 'utf8'));
      this.text = '';
    }
    if (!this.chunks.length) return;
    const data = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.chunks = [];
    this.size = 0;
    // The next chunk is built while this one drains: up to `ahead` writes wait for the peer, so
    // memory stays bounded (about ahead * limit) and generation overlaps with the socket.
    this.waiting.push(this.send(data));
    if (this.waiting.length > this.ahead) await this.waiting.shift();
  }

  /** Writes what is left and waits until every write was taken by the socket. */
  async end(): Promise<void> {
    await this.flush();
    while (this.waiting.length) await this.waiting.shift();
  }
}

function canQuote(s: string, utf8: boolean): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d) return false;
    if (c >= 0x80 && !utf8) return false;
  }
  return true;
}

function canQuoteBytes(b: Buffer, utf8: boolean): boolean {
  for (const c of b) {
    if (c === 0 || c === 0x0a || c === 0x0d) return false;
    if (c >= 0x80 && !utf8) return false;
  }
  // Only valid UTF-8 may be quoted.
  return !utf8 || Buffer.from(b.toString('utf8'), 'utf8').equals(b);
}

function withoutNulOctets(s: string | Buffer): string | Buffer {
  if (typeof s === 'string') return s.replace(/\0/g, ' ');
  const b = Buffer.from(s);
  for (let i = b.indexOf(0); i >= 0; i = b.indexOf(0, i + 1)) b[i] = 0x20;
  return b;
}

export function quote(s: string): string {
  // Most strings need no escape: a scan is cheaper than a replace with its regex run.
  if (!s.includes('"') && !s.includes('\\')) return '"' + s + '"';
  return '"' + s.replace(/[\\"]/g, '\\$&') + '"';
}

/** Text after a response code: one line, no CR/LF (RFC 9051 9 text). */
export function safeText(s: string): string {
  const t = s.replace(/[\r\n\0]+/g, ' ').trim();
  return t || 'done';
}
