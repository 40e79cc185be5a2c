// Canonical line ends for message content sent to another server: CRLF stays, and a bare CR or a
// bare LF becomes CRLF (RFC 5321 2.3.8: lines end in CRLF, and CR and LF appear only together).
// A receiver that takes a lone CR or LF as a line end then reads the same lines as one that does
// not, so "<CR>.<CR>" or "<LF>.<LF>" in the content can never be read as the end of the data by
// the next hop (SMTP smuggling). Streaming, nothing held: a CR at the end of a chunk is passed on
// at once, and the LF it lacks is added in front of the next chunk (or by end()).

const CR = 0x0d;
const LF = 0x0a;
const LF_BUF = Buffer.from('\n');
const CRLF_BUF = Buffer.from('\r\n');
const EMPTY = Buffer.alloc(0);

export class LineEndCanonicalizer {
  /** The output so far ends with a CR whose LF is still to come (or to be added). */
  #lastCr = false;
  #ended = false;
  /** Bare CRs turned into CRLF so far. */
  bareCr = 0;
  /** Bare LFs turned into CRLF so far. */
  bareLf = 0;

  /** Canonical bytes for a chunk; the chunk itself when nothing changes (no copy). */
  push(chunk: Buffer): Buffer {
    if (this.#ended) throw new Error('LineEndCanonicalizer: push after end');
    const n = chunk.length;
    if (n === 0) return chunk;
    const parts: Buffer[] = [];
    let start = 0;
    let i = 0;
    if (this.#lastCr) {
      this.#lastCr = false;
      if (chunk[0] === LF) i = 1;
      else {
        parts.push(LF_BUF);
        this.bareCr++;
      }
    }
    let nextCr = chunk.indexOf(CR, i);
    let nextLf = chunk.indexOf(LF, i);
    while (nextCr >= 0 || nextLf >= 0) {
      if (nextCr >= 0 && (nextLf < 0 || nextCr < nextLf)) {
        const p = nextCr;
        if (p + 1 === n) {
          this.#lastCr = true;
          break;
        }
        if (chunk[p + 1] === LF) {
          i = p + 2;
          nextLf = chunk.indexOf(LF, i);
        } else {
          // RFC 5321 2.3.8: a CR alone is not allowed in content; it ends the line here.
          parts.push(chunk.subarray(start, p + 1), LF_BUF);
          start = i = p + 1;
          this.bareCr++;
        }
        nextCr = chunk.indexOf(CR, i);
      } else {
        const p = nextLf;
        parts.push(chunk.subarray(start, p), CRLF_BUF);
        start = i = p + 1;
        this.bareLf++;
        nextLf = chunk.indexOf(LF, i);
      }
    }
    if (parts.length === 0) return chunk;
    parts.push(chunk.subarray(start));
    return Buffer.concat(parts);
  }

  /** The bytes that complete the content: LF after a final bare CR, else nothing. */
  end(): Buffer {
    if (this.#ended) throw new Error('LineEndCanonicalizer: end called twice');
    this.#ended = true;
    if (!this.#lastCr) return EMPTY;
    this.#lastCr = false;
    this.bareCr++;
    return LF_BUF;
  }
}

/** Canonical line ends for a whole message, with counts of what was changed. */
export function canonicalLineEnds(message: Buffer): { data: Buffer; bareCr: number; bareLf: number } {
  const c = new LineEndCanonicalizer();
  const head = c.push(message);
  const tail = c.end();
  return { data: tail.length ? Buffer.concat([head, tail]) : head, bareCr: c.bareCr, bareLf: c.bareLf };
}
