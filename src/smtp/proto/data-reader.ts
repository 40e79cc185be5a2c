// Streaming decoder for the DATA phase, RFC 5321 4.1.1.4 and 4.5.2.
//
// Fed with socket chunks; passes the unstuffed message to a sink in slices (never holding the
// message), and stops at CRLF.CRLF, returning the bytes after it (pipelined commands, RFC 2920)
// so the caller can push them back into its LineReader.
//
// Only CRLF "." CRLF ends the data, never LF "." LF or variants: accepting those is what made SMTP
// smuggling possible (a message read differently by two servers). A line of a single "." ended
// by a bare LF, or one that follows a line ended by a bare LF, is content.
//
// The size limit does not stop reading: bytes beyond it are counted and dropped until the end of
// the data, so the session can answer 552 5.3.4 at the right moment (RFC 5321 4.5.3.1.10) and
// stay in sync with the client.

import { isAscii } from 'node:buffer';
import { MAX_MESSAGE_SIZE, MAX_TEXT_LINE } from './limits.js';

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;

/** What to do with a line ended by LF alone. Whatever the choice, `bareLf` is counted. */
export type BareLfPolicy =
  /** Pass through as is. */
  | 'keep'
  /** Write CRLF instead (Postfix `smtpd_forbid_bare_newline = normalize`). */
  | 'convert';

export interface DataReaderOptions {
  /** Receives message bytes. Slices may share memory with pushed chunks: copy to keep them
   * past the call. */
  sink: (chunk: Buffer) => void;
  /** Bytes passed to the sink at most; default MAX_MESSAGE_SIZE. */
  maxSize?: number;
  bareLf?: BareLfPolicy;
  /** Lines longer than this (CRLF included) are counted in `longLines`; default MAX_TEXT_LINE. */
  maxLineLength?: number;
}

export interface DataResult {
  /** Size of the decoded message (after unstuffing and conversion), including any bytes beyond
   * the limit. */
  readonly size: number;
  /** size > maxSize; the sink got only the first maxSize bytes. Answer 552 5.3.4. */
  readonly exceeded: boolean;
  /** Some byte >= 0x80 (needs 8BITMIME, RFC 6152). */
  readonly eightBit: boolean;
  /** Number of NUL bytes. */
  readonly nul: number;
  /** Number of lines ended by LF without CR. */
  readonly bareLf: number;
  /** Number of CRs not followed by LF. */
  readonly bareCr: number;
  /** Longest line in bytes, terminator excluded. */
  readonly maxLineLength: number;
  /** Lines longer than maxLineLength (RFC 5321 4.5.3.1.6). */
  readonly longLines: number;
  /** Bytes received after the terminator (the next pipelined commands). */
  readonly rest: Buffer;
}

const enum S {
  /** At the start of a line. */
  LineStart,
  /** Inside a line. */
  Line,
  /** Inside a line, after a CR. */
  Cr,
  /** After "." at the start of a line (the dot is held back). */
  Dot,
  /** After "." CR at the start of a line (both held back). */
  DotCr,
}

const DOT_BUF = Buffer.from('.');
const CR_BUF = Buffer.from('\r');
const CRLF_BUF = Buffer.from('\r\n');
const DOT_CRLF_BUF = Buffer.from('.\r\n');

export class DataReader {
  readonly #sink: (chunk: Buffer) => void;
  readonly #max: number;
  readonly #convert: boolean;
  readonly #maxLine: number;
  // Right after "354" the reader is at the start of a line: ".\r\n" is the empty message.
  #state: S = S.LineStart;
  /** The current line started after a bare LF, so it cannot be the terminator. */
  #afterBareLf = false;
  #done = false;
  #size = 0;
  #exceeded = false;
  #eightBit = false;
  #nul = 0;
  #bareLf = 0;
  #bareCr = 0;
  #lineLen = 0;
  #maxLineSeen = 0;
  #longLines = 0;

  constructor(opts: DataReaderOptions) {
    this.#sink = opts.sink;
    this.#max = opts.maxSize ?? MAX_MESSAGE_SIZE;
    this.#convert = (opts.bareLf ?? 'keep') === 'convert';
    this.#maxLine = opts.maxLineLength ?? MAX_TEXT_LINE;
  }

  get done(): boolean {
    return this.#done;
  }

  /** Bytes of message seen so far. */
  get size(): number {
    return this.#size;
  }

  /** Feeds a chunk. Returns the result once the terminator was seen, else undefined. */
  push(chunk: Buffer): DataResult | undefined {
    if (this.#done) throw new Error('DataReader: push after end of data');
    let state = this.#state;
    // [runStart, i) is a run of input bytes to pass through unchanged.
    let runStart = 0;
    const n = chunk.length;
    let i = 0;
    // One native scan per chunk spares the per-line checks in the common case.
    const chunkHasNul = chunk.indexOf(0) >= 0;
    const chunkHas8bit = !this.#eightBit && !isAscii(chunk);
    for (; i < n; i++) {
      if (state === S.Line) {
        // Fast path: the rest of the line up to LF, checked with native searches.
        const lf = chunk.indexOf(LF, i);
        const end = lf < 0 ? n : lf;
        const seg = chunk.subarray(i, end);
        const endsCr = seg.length > 0 && seg[seg.length - 1] === CR;
        let crs = 0;
        for (let k = seg.indexOf(CR); k >= 0; k = seg.indexOf(CR, k + 1)) crs++;
        if (endsCr) crs--;
        if (chunkHasNul) for (let k = seg.indexOf(0); k >= 0; k = seg.indexOf(0, k + 1)) this.#nul++;
        if (chunkHas8bit && !this.#eightBit && !isAscii(seg)) this.#eightBit = true;
        this.#bareCr += crs;
        this.#lineLen += seg.length - (endsCr ? 1 : 0);
        if (lf < 0) {
          // A CR at the chunk end may be half of a CRLF.
          if (endsCr) state = S.Cr;
          i = n;
          break;
        }
        if (endsCr) {
          this.#endLine();
          this.#afterBareLf = false;
        } else {
          this.#bareLf++;
          if (this.#convert) {
            this.#flush(chunk, runStart, lf);
            this.#emit(CRLF_BUF);
            runStart = lf + 1;
          }
          this.#endLine();
          this.#afterBareLf = true;
        }
        state = S.LineStart;
        i = lf;
        continue;
      }
      const b = chunk[i]!;
      switch (state) {
        case S.LineStart:
          if (b === DOT) {
            this.#flush(chunk, runStart, i);
            runStart = i + 1;
            state = S.Dot;
            continue;
          }
          state = S.Line;
          break;
        case S.Dot:
          if (b === CR) {
            runStart = i + 1;
            state = S.DotCr;
            continue;
          }
          // RFC 5321 4.5.2: a leading dot followed by more characters is deleted. A lone "."
          // ended by bare LF is no terminator; it stays content.
          if (b === LF) {
            this.#emit(DOT_BUF);
            this.#lineLen++;
          }
          state = S.Line;
          break;
        case S.DotCr:
          if (b === LF && this.#afterBareLf) {
            // "." CRLF after a line ended by bare LF: content, not the end (smuggling defence).
            this.#emit(DOT_CRLF_BUF);
            this.#lineLen = 1;
            this.#endLine();
            this.#afterBareLf = false;
            runStart = i + 1;
            state = S.LineStart;
            continue;
          }
          if (b === LF) {
            this.#done = true;
            this.#state = state;
            return this.#result(chunk.subarray(i + 1));
          }
          // "." CR x: the dot was stuffing; the CR is a bare CR in the content.
          this.#emit(CR_BUF);
          this.#bareCr++;
          this.#lineLen++;
          runStart = i;
          state = S.Line;
          break;
        case S.Cr:
          if (b === LF) {
            this.#endLine();
            this.#afterBareLf = false;
            state = S.LineStart;
            continue;
          }
          this.#bareCr++;
          this.#lineLen++;
          state = S.Line;
          break;
      }
      // state is Line here, b not yet accounted for.
      if (b === CR) {
        // Counted in the line only if it turns out to be a bare CR.
        state = S.Cr;
        continue;
      }
      if (b === LF) {
        this.#bareLf++;
        if (this.#convert) {
          this.#flush(chunk, runStart, i);
          this.#emit(CRLF_BUF);
          runStart = i + 1;
        }
        this.#endLine();
        this.#afterBareLf = true;
        state = S.LineStart;
        continue;
      }
      if (b === 0) this.#nul++;
      else if (b >= 0x80) this.#eightBit = true;
      this.#lineLen++;
    }
    // A held dot (and CR) is not in the run: runStart moved past them.
    this.#flush(chunk, runStart, n);
    this.#state = state;
    return undefined;
  }

  #endLine(): void {
    const len = this.#lineLen;
    this.#lineLen = 0;
    if (len > this.#maxLineSeen) this.#maxLineSeen = len;
    if (len + 2 > this.#maxLine) this.#longLines++;
  }

  #flush(chunk: Buffer, start: number, end: number): void {
    if (end > start) this.#emit(chunk.subarray(start, end));
  }

  #emit(buf: Buffer): void {
    const before = this.#size;
    this.#size += buf.length;
    if (this.#exceeded) return;
    if (this.#size <= this.#max) {
      this.#sink(buf);
      return;
    }
    this.#exceeded = true;
    if (this.#max > before) this.#sink(buf.subarray(0, this.#max - before));
  }

  #result(rest: Buffer): DataResult {
    return {
      size: this.#size,
      exceeded: this.#exceeded,
      eightBit: this.#eightBit,
      nul: this.#nul,
      bareLf: this.#bareLf,
      bareCr: this.#bareCr,
      maxLineLength: this.#maxLineSeen,
      longLines: this.#longLines,
      rest,
    };
  }
}
