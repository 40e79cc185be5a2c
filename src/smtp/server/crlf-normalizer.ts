// Turns bare LF into CRLF in BDAT content, and counts bare CRs. DATA does both in the proto
// DataReader ('convert', Postfix's smtpd_forbid_bare_newline = normalize); BDAT chunks are raw
// octets (RFC 3030), so the same policy is applied here to keep every stored message in CRLF form,
// as IMAP expects. A bare CR is counted, not changed: the session refuses such a message.

const CR = 0x0d;
const LF = 0x0a;
const CR_BUF = Buffer.from([CR]);

export class CrlfNormalizer {
  #lastCr = false;
  /** Bare LFs converted so far. */
  converted = 0;
  /** CRs not followed by LF so far (a CR at the very end counts after finish()). */
  bareCr = 0;

  push(b: Buffer): Buffer[] {
    if (b.length === 0) return [];
    if (this.#lastCr && b[0] !== LF) this.bareCr++;
    const out: Buffer[] = [];
    let start = 0;
    for (let i = b.indexOf(LF); i >= 0; i = b.indexOf(LF, i + 1)) {
      const prevCr = i > 0 ? b[i - 1] === CR : this.#lastCr;
      if (!prevCr) {
        if (i > start) out.push(b.subarray(start, i));
        out.push(CR_BUF);
        start = i;
        this.converted++;
      }
    }
    for (let i = b.indexOf(CR); i >= 0 && i < b.length - 1; i = b.indexOf(CR, i + 1)) {
      if (b[i + 1] !== LF) this.bareCr++;
    }
    out.push(b.subarray(start));
    this.#lastCr = b[b.length - 1] === CR;
    return out;
  }

  /** The end of the message: a final CR is a bare CR. */
  finish(): void {
    if (this.#lastCr) this.bareCr++;
    this.#lastCr = false;
  }
}
