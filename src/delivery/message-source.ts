// A message assembled from pieces without holding it in memory: new header lines (trace fields,
// signatures) in buffers, and ranges of the spooled file as received. Iterable many times, so one
// source can be staged once per recipient.

import { createReadStream } from 'node:fs';

export type SourcePart = Buffer | { readonly path: string; readonly start: number; readonly end: number };

export class MessageSource {
  readonly size: number;

  constructor(readonly parts: readonly SourcePart[]) {
    let n = 0;
    for (const p of parts) n += Buffer.isBuffer(p) ? p.length : Math.max(0, p.end - p.start);
    this.size = n;
  }

  /** The same message with `head` in front (e.g. Return-Path, Received). */
  prepend(head: Buffer): MessageSource {
    return head.length ? new MessageSource([head, ...this.parts]) : this;
  }

  async *chunks(): AsyncGenerator<Buffer> {
    for (const p of this.parts) {
      if (Buffer.isBuffer(p)) {
        if (p.length) yield p;
        continue;
      }
      if (p.end <= p.start) continue;
      // createReadStream's `end` is inclusive.
      for await (const chunk of createReadStream(p.path, { start: p.start, end: p.end - 1, highWaterMark: 256 * 1024 })) {
        yield chunk as Buffer;
      }
    }
  }

  /** At most the first `max` bytes (a header section for a DSN), without reading the rest. */
  async head(max: number): Promise<Buffer> {
    const out: Buffer[] = [];
    let n = 0;
    for await (const c of this.chunks()) {
      const take = c.subarray(0, max - n);
      out.push(take);
      n += take.length;
      if (n >= max) break;
    }
    return Buffer.concat(out, n);
  }

  async toBuffer(): Promise<Buffer> {
    if (this.parts.every((p) => Buffer.isBuffer(p))) return Buffer.concat(this.parts as Buffer[], this.size);
    const out: Buffer[] = [];
    for await (const c of this.chunks()) out.push(c);
    return Buffer.concat(out);
  }
}
