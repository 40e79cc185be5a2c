// Frames the server's byte stream into whole responses. A response is one line, unless a line
// ends in a literal announcement `{n}` (or `~{n}`, RFC 3516 binary): then the n bytes that
// follow and the rest of the line belong to it too (RFC 9051 4.3, 7.5). The parser gets the
// response with its literals inline, so it never waits for the network.

import { MAX_RESPONSE_BYTES } from './limits.js';

/** Literal announcement at the end of a line, before CRLF. */
const LITERAL_AT_END = /~?\{(\d+)\}$/;

export class ResponseReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Where to look for the next CRLF in the joined buffer (bytes before are literal data or checked lines). */
  private scanFrom = 0;
  private readonly maxBytes: number;

  constructor(maxBytes = MAX_RESPONSE_BYTES) {
    this.maxBytes = maxBytes;
  }

  /** Bytes received that are not yet a whole response. */
  hasBuffered(): boolean {
    return this.buffered > 0;
  }

  /** Adds bytes and returns every response that is now complete (without its final CRLF). */
  push(data: Buffer): Buffer[] {
    this.chunks.push(data);
    this.buffered += data.length;
    const out: Buffer[] = [];
    let buf = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    this.chunks = [buf];
    for (;;) {
      const lf = buf.indexOf(0x0a, this.scanFrom);
      if (lf < 0) {
        if (this.buffered > this.maxBytes) throw new Error(`response longer than ${this.maxBytes} bytes`);
        break;
      }
      const lineEnd = lf > 0 && buf[lf - 1] === 0x0d ? lf - 1 : lf; // tolerate bare LF
      // Only the tail of the line can announce a literal; look at a short window.
      const tail = buf.subarray(Math.max(this.scanFrom, lineEnd - 24), lineEnd).toString('latin1');
      const m = LITERAL_AT_END.exec(tail);
      if (m) {
        const size = Number(m[1]);
        if (!Number.isSafeInteger(size) || lf + 1 + size > this.maxBytes) throw new Error(`literal of ${m[1]} bytes is over the limit`);
        if (buf.length < lf + 1 + size) {
          break; // wait for the literal's bytes; rescan this line later
        }
        this.scanFrom = lf + 1 + size;
        continue;
      }
      out.push(buf.subarray(0, lineEnd));
      buf = buf.subarray(lf + 1);
      this.chunks = [buf];
      this.buffered = buf.length;
      this.scanFrom = 0;
    }
    return out;
  }
}
