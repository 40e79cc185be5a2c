// BDAT chunk reading, RFC 3030 2: each chunk is exactly `size` octets, sent right after the
// BDAT command line, with no dot-stuffing and no terminator. A chunk may arrive split over many
// reads, and the reads may carry the next commands after it (RFC 3030 4.2 pipelining).

import { MAX_MESSAGE_SIZE } from './limits.js';

/** Outcome of one chunk. */
export interface BdatChunkResult {
  /** Bytes received after the chunk (pipelined commands or the next BDAT). */
  readonly rest: Buffer;
}

/** Reads exactly `size` bytes of one chunk into a sink. */
export class BdatChunkReader {
  #remaining: number;
  readonly #sink: (chunk: Buffer) => void;

  constructor(size: number, sink: (chunk: Buffer) => void) {
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`bad BDAT chunk size ${size}`);
    this.#remaining = size;
    this.#sink = sink;
  }

  /** Bytes of the chunk still to come. */
  get remaining(): number {
    return this.#remaining;
  }

  get done(): boolean {
    return this.#remaining === 0;
  }

  /** Feeds bytes; returns the leftover once the chunk is complete, else undefined. A zero-size
   * chunk is complete at once: call `finish()` or push an empty buffer. */
  push(chunk: Buffer): BdatChunkResult | undefined {
    const take = Math.min(this.#remaining, chunk.length);
    if (take > 0) {
      this.#sink(take === chunk.length ? chunk : chunk.subarray(0, take));
      this.#remaining -= take;
    }
    return this.#remaining === 0 ? { rest: chunk.subarray(take) } : undefined;
  }
}

export interface BdatMessageOptions {
  /** Receives message bytes; slices may share memory with pushed chunks. */
  sink: (chunk: Buffer) => void;
  /** Bytes passed to the sink at most; default MAX_MESSAGE_SIZE. */
  maxSize?: number;
}

/** A message assembled from BDAT chunks: counts the total, stops passing bytes past maxSize
 * (the chunks are still read, so the session stays in sync and answers 552 5.3.4), and notes
 * content that needs BODY=8BITMIME/BINARYMIME. */
export class BdatMessage {
  readonly #sink: (chunk: Buffer) => void;
  readonly #max: number;
  #size = 0;
  #exceeded = false;
  #eightBit = false;
  #nul = false;
  #last = false;

  constructor(opts: BdatMessageOptions) {
    this.#sink = opts.sink;
    this.#max = opts.maxSize ?? MAX_MESSAGE_SIZE;
  }

  get size(): number {
    return this.#size;
  }

  /** Total size exceeds maxSize; the sink got only the first maxSize bytes. */
  get exceeded(): boolean {
    return this.#exceeded;
  }

  /** Some byte >= 0x80 was seen. */
  get eightBit(): boolean {
    return this.#eightBit;
  }

  /** A NUL byte was seen (fine for BINARYMIME, not for 7BIT/8BITMIME text). */
  get nul(): boolean {
    return this.#nul;
  }

  /** The LAST chunk has been started. */
  get last(): boolean {
    return this.#last;
  }

  /** Starts reading the chunk of a BDAT command. */
  chunk(size: number, last: boolean): BdatChunkReader {
    if (this.#last) throw new Error('BdatMessage: chunk after LAST');
    this.#last = last;
    return new BdatChunkReader(size, (b) => this.#take(b));
  }

  #take(b: Buffer): void {
    if (!this.#eightBit || !this.#nul) {
      for (let i = 0; i < b.length; i++) {
        const c = b[i]!;
        if (c >= 0x80) this.#eightBit = true;
        else if (c === 0) this.#nul = true;
      }
    }
    const before = this.#size;
    this.#size += b.length;
    if (this.#exceeded) return;
    if (this.#size <= this.#max) {
      this.#sink(b);
      return;
    }
    this.#exceeded = true;
    if (this.#max > before) this.#sink(b.subarray(0, this.#max - before));
  }
}
