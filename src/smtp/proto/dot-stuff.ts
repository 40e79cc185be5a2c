// Client-side DATA encoder, RFC 5321 4.5.2: a "." at the start of a line is doubled, and the
// data ends with CRLF "." CRLF (a final CRLF is added when the message does not end with one,
// RFC 5321 4.1.1.4). Streaming: chunks go in, encoded chunks come out.

import { Transform, type TransformCallback } from 'node:stream';

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;

export interface DotStufferOptions {
  /** Turn a bare LF into CRLF (what sendmail and most clients need); default true. A bare CR
   * is left alone. */
  convertLf?: boolean;
}

export class DotStuffer {
  readonly #convert: boolean;
  #atLineStart = true;
  #lastCr = false;
  /** Output ends with CRLF (or nothing was written). */
  #endsCrlf = true;
  #ended = false;

  constructor(opts: DotStufferOptions = {}) {
    this.#convert = opts.convertLf ?? true;
  }

  /** Encodes a chunk of message bytes. Works line by line with indexOf, so plain text costs
   * one slice per line at most. */
  push(chunk: Buffer): Buffer {
    if (this.#ended) throw new Error('DotStuffer: push after end');
    const n = chunk.length;
    if (n === 0) return chunk;
    const parts: Buffer[] = [];
    let runStart = 0;
    let pos = 0;
    while (pos < n) {
      // pos is the start of a line (or of this chunk's part of a line).
      if (this.#atLineStart && chunk[pos] === DOT) {
        parts.push(chunk.subarray(runStart, pos), DOT_BUF);
        runStart = pos;
      }
      const lf = chunk.indexOf(LF, pos);
      if (lf < 0) {
        this.#atLineStart = false;
        this.#endsCrlf = false;
        this.#lastCr = chunk[n - 1] === CR;
        break;
      }
      const crBefore = lf > 0 ? chunk[lf - 1] === CR : this.#lastCr;
      if (this.#convert && !crBefore) {
        parts.push(chunk.subarray(runStart, lf), CRLF_BUF);
        runStart = lf + 1;
      }
      this.#endsCrlf = this.#convert || crBefore;
      this.#atLineStart = true;
      this.#lastCr = false;
      pos = lf + 1;
    }
    if (parts.length === 0) return chunk;
    parts.push(chunk.subarray(runStart));
    return Buffer.concat(parts);
  }

  /** The bytes that end the data: CRLF if needed, then ".CRLF". */
  end(): Buffer {
    if (this.#ended) throw new Error('DotStuffer: end called twice');
    this.#ended = true;
    return this.#endsCrlf ? END_BUF : CRLF_END_BUF;
  }
}

const DOT_BUF = Buffer.from('.');
const CRLF_BUF = Buffer.from('\r\n');
const END_BUF = Buffer.from('.\r\n');
const CRLF_END_BUF = Buffer.from('\r\n.\r\n');

/** Encodes a whole message in one go. */
export function dotStuff(message: Buffer, opts?: DotStufferOptions): Buffer {
  const s = new DotStuffer(opts);
  return Buffer.concat([s.push(message), s.end()]);
}

/** A Transform stream around DotStuffer, for piping a message into a socket. */
export function createDotStuffStream(opts?: DotStufferOptions): Transform {
  const s = new DotStuffer(opts);
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      const out = s.push(chunk);
      cb(null, out.length ? out : undefined);
    },
    flush(cb: TransformCallback) {
      cb(null, s.end());
    },
  });
}
