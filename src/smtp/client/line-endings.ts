// Bare LF to CRLF for BDAT, which sends bytes as they are (RFC 3030 2): the DATA path does the
// same inside DotStuffer, so both transfer the same message. RFC 5321 2.3.8: lines end in CRLF.
// Also notes 8-bit bytes on the way, for messages streamed without a declared body type.

import { isAscii } from 'node:buffer';

const CR = 0x0d;
const LF = 0x0a;
const CRLF = Buffer.from('\r\n');

export class LineEndingNormalizer {
  #lastCr = false;
  #eightBit = false;

  /** Whether any byte seen so far is above 127. */
  get eightBit(): boolean {
    return this.#eightBit;
  }

  push(chunk: Buffer): Buffer {
    if (!this.#eightBit && hasEightBit(chunk)) this.#eightBit = true;
    if (chunk.length === 0) return chunk;
    const parts: Buffer[] = [];
    let start = 0;
    for (let lf = chunk.indexOf(LF); lf >= 0; lf = chunk.indexOf(LF, lf + 1)) {
      const crBefore = lf > 0 ? chunk[lf - 1] === CR : this.#lastCr;
      if (crBefore) continue;
      parts.push(chunk.subarray(start, lf), CRLF);
      start = lf + 1;
    }
    this.#lastCr = chunk[chunk.length - 1] === CR;
    if (parts.length === 0) return chunk;
    parts.push(chunk.subarray(start));
    return Buffer.concat(parts);
  }
}

/** True when a byte is above 127 (needs 8BITMIME, RFC 6152). */
export function hasEightBit(b: Uint8Array): boolean {
  return b.length > 0 && !isAscii(b);
}
