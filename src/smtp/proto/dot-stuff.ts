// Client-side DATA encoder, RFC 5321 4.5.2: a "." at the start of a line is doubled, and the
// data ends with CRLF "." CRLF (a final CRLF is added when the message does not end with one,
// RFC 5321 4.1.1.4). Streaming: chunks go in, encoded chunks come out.
//
// Line ends are made canonical first (line-ends.ts: a bare CR or LF becomes CRLF), so the output
// has CR and LF only as CRLF pairs and every line after a CRLF is stuffed: no sequence in the
// content can end the data early at a next hop, however it reads line ends (SMTP smuggling).

import { Transform, type TransformCallback } from 'node:stream';
import { LineEndCanonicalizer } from './line-ends.js';

const LF = 0x0a;
const DOT = 0x2e;

export class DotStuffer {
  readonly #canon = new LineEndCanonicalizer();
  #atLineStart = true;
  /** Output ends with CRLF (or nothing was written), or with a CR the canonicalizer completes. */
  #endsLine = true;
  #ended = false;

  /** Bare CRs turned into CRLF so far. */
  get bareCr(): number {
    return this.#canon.bareCr;
  }

  /** Bare LFs turned into CRLF so far. */
  get bareLf(): number {
    return this.#canon.bareLf;
  }

  /** Encodes a chunk of message bytes. */
  push(chunk: Buffer): Buffer {
    if (this.#ended) throw new Error('DotStuffer: push after end');
    return this.#stuff(this.#canon.push(chunk));
  }

  /** Doubles dots at line starts of canonical content. Works line by line with indexOf, so plain
   * text costs one slice per line at most. */
  #stuff(chunk: Buffer): Buffer {
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
        break;
      }
      this.#atLineStart = true;
      pos = lf + 1;
    }
    // Canonical content: a final LF is part of a CRLF, and a final CR gets its LF later.
    this.#endsLine = chunk[n - 1] === LF;
    if (parts.length === 0) return chunk;
    parts.push(chunk.subarray(runStart));
    return Buffer.concat(parts);
  }

  /** The bytes that end the data: what completes the last line, CRLF if needed, then ".CRLF". */
  end(): Buffer {
    if (this.#ended) throw new Error('DotStuffer: end called twice');
    this.#ended = true;
    const tail = this.#canon.end();
    if (tail.length) return Buffer.concat([this.#stuff(tail), END_BUF]);
    return this.#endsLine ? END_BUF : CRLF_END_BUF;
  }
}

const DOT_BUF = Buffer.from('.');
const END_BUF = Buffer.from('.\r\n');
const CRLF_END_BUF = Buffer.from('\r\n.\r\n');

/** Encodes a whole message in one go. */
export function dotStuff(message: Buffer): Buffer {
  const s = new DotStuffer();
  return Buffer.concat([s.push(message), s.end()]);
}

/** A Transform stream around DotStuffer, for piping a message into a socket. */
export function createDotStuffStream(): Transform {
  const s = new DotStuffer();
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
