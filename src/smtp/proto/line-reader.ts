// Incremental line splitter for SMTP command (server) and reply (client) streams.
//
// Pull-based so the caller can change modes mid-buffer: after a DATA or BDAT command line,
// `takeBuffered()` hands the pipelined bytes that followed it (RFC 2920) to the data or BDAT
// reader, and whatever those leave after the message is pushed back here.
//
// Memory is bounded by the largest chunk pushed plus one partial line of at most
// maxLineLength bytes: a line that grows past the limit is dropped while it is read.

const LF = 0x0a;
const CR = 0x0d;

export interface LineEventLine {
  readonly type: 'line';
  /** Line content without its terminator. May share memory with a pushed chunk. */
  readonly line: Buffer;
  /** The line ended in a bare LF instead of CRLF (RFC 5321 2.3.8 forbids it). */
  readonly bareLf: boolean;
  /** A CR not followed by LF occurs inside the line. */
  readonly bareCr: boolean;
  /** A NUL byte occurs in the line. */
  readonly nul: boolean;
  /** A byte >= 0x80 occurs in the line (UTF-8 or garbage; the command parser decides). */
  readonly eightBit: boolean;
}

export interface LineEventOverlong {
  readonly type: 'overlong';
  /** Length of the overlong line with its CRLF, as far as seen when it was reported: content
   * bytes + 2, like maxLineLength counts (so always more than maxLineLength). */
  readonly length: number;
}

export type LineEvent = LineEventLine | LineEventOverlong;

export interface LineReaderOptions {
  /** Maximum line length in bytes including the CRLF terminator. */
  maxLineLength: number;
}

export class LineReader {
  #max: number;
  #buf: Buffer = Buffer.alloc(0);
  /** Bytes of #buf already searched for LF without finding one. */
  #scanned = 0;
  /** Dropping the rest of an overlong line until its LF. */
  #discarding = false;

  constructor(opts: LineReaderOptions) {
    this.#max = checkMax(opts.maxLineLength);
  }

  get maxLineLength(): number {
    return this.#max;
  }

  /** Changes the limit for the following lines, e.g. MAX_AUTH_LINE during a SASL exchange. */
  setMaxLineLength(n: number): void {
    this.#max = checkMax(n);
  }

  /** Bytes held that have not been returned as lines. */
  get buffered(): number {
    return this.#buf.length;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
  }

  /** Next complete line or overlong event, or undefined when more bytes are needed. */
  next(): LineEvent | undefined {
    for (;;) {
      const lf = this.#buf.indexOf(LF, this.#scanned);
      if (lf < 0) {
        this.#scanned = this.#buf.length;
        if (this.#discarding) {
          this.#buf = Buffer.alloc(0);
          this.#scanned = 0;
          return undefined;
        }
        // A CR at the end may still become the CRLF, so it does not count yet.
        const contentSoFar = this.#buf.length - (this.#buf[this.#buf.length - 1] === CR ? 1 : 0);
        if (contentSoFar > this.#max - 2) {
          // The line is known to be overlong before its CRLF arrives; count that CRLF as the
          // complete-line case below does, else the length could be maxLineLength - 1.
          const length = contentSoFar + 2;
          this.#buf = Buffer.alloc(0);
          this.#scanned = 0;
          this.#discarding = true;
          return { type: 'overlong', length };
        }
        return undefined;
      }
      const raw = this.#buf.subarray(0, lf);
      this.#buf = this.#buf.subarray(lf + 1);
      this.#scanned = 0;
      if (this.#discarding) {
        this.#discarding = false;
        continue;
      }
      const crlf = raw.length > 0 && raw[raw.length - 1] === CR;
      const line = crlf ? raw.subarray(0, raw.length - 1) : raw;
      if (line.length > this.#max - 2) return { type: 'overlong', length: line.length + 2 };
      let bareCr = false;
      let nul = false;
      let eightBit = false;
      for (let i = 0; i < line.length; i++) {
        const b = line[i]!;
        if (b === CR) bareCr = true;
        else if (b === 0) nul = true;
        else if (b >= 0x80) eightBit = true;
      }
      return { type: 'line', line, bareLf: !crlf, bareCr, nul, eightBit };
    }
  }

  /** Removes and returns the bytes not yet returned as lines, to hand them to a DATA or BDAT
   * reader. An overlong line being dropped is dropped for good. */
  takeBuffered(): Buffer {
    const b = this.#discarding ? Buffer.alloc(0) : this.#buf;
    this.#buf = Buffer.alloc(0);
    this.#scanned = 0;
    this.#discarding = false;
    return b;
  }
}

function checkMax(n: number): number {
  if (!Number.isSafeInteger(n) || n < 3) throw new RangeError(`maxLineLength must be an integer >= 3, got ${n}`);
  return n;
}
