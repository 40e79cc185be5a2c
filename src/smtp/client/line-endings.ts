// Canonical line ends for BDAT, which sends bytes as they are (RFC 3030 2): the DATA path does the
// same inside DotStuffer, so both transfer the same message. RFC 5321 2.3.8: lines end in CRLF,
// and a bare CR or LF becomes CRLF (proto/line-ends.ts: no smuggling sequence reaches the next
// hop). Also notes 8-bit bytes on the way, for messages streamed without a declared body type.

import { isAscii } from 'node:buffer';
import { LineEndCanonicalizer } from '../proto/line-ends.js';

export class LineEndingNormalizer {
  readonly #canon = new LineEndCanonicalizer();
  #eightBit = false;

  /** Whether any byte seen so far is above 127. */
  get eightBit(): boolean {
    return this.#eightBit;
  }

  push(chunk: Buffer): Buffer {
    if (!this.#eightBit && hasEightBit(chunk)) this.#eightBit = true;
    return this.#canon.push(chunk);
  }

  /** What completes the content (LF after a final bare CR), else an empty buffer. */
  end(): Buffer {
    return this.#canon.end();
  }
}

/** True when a byte is above 127 (needs 8BITMIME, RFC 6152). */
export function hasEightBit(b: Uint8Array): boolean {
  return b.length > 0 && !isAscii(b);
}
