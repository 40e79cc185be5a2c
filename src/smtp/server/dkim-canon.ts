// DKIM "relaxed" canonicalization (RFC 6376 3.4.2 header, 3.4.4 body) and the split of a streamed
// message into its header section and body. The body side is incremental: chunks may break
// anywhere (between CR and LF, inside a WSP run) and nothing but a few flags is carried over.
//
// Line ends: the spool is CRLF-normalized, but a bare LF is still treated as a line end (as
// mailauth and most verifiers do); a CR not followed by LF is an ordinary character.
// Strings here are 'latin1', so every byte maps to one char and back.

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;

/** One header field as written: `raw` has its continuation lines joined by CRLF, no final CRLF. */
export interface HeaderField {
  /** The field name as written (without WSP before the colon); '' when the line has no colon. */
  readonly name: string;
  /** `name` in lower case, for matching. */
  readonly key: string;
  readonly raw: string;
}

/** Fields of a header section (latin1 bytes, with or without its final line break). */
export function parseHeaderFields(head: Buffer): HeaderField[] {
  const lines = head.toString('latin1').split(/\r?\n/);
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  const raws: string[] = [];
  for (const line of lines) {
    const c = line.charCodeAt(0);
    if ((c === SP || c === HTAB) && raws.length) raws[raws.length - 1] += '\r\n' + line;
    else raws.push(line);
  }
  return raws.map((raw) => {
    const colon = raw.indexOf(':');
    const name = colon < 0 ? '' : raw.slice(0, colon).replace(/[ \t\r\n]+$/, '');
    return { name, key: asciiLower(name), raw };
  });
}

/** Lower case for A-Z only: toLowerCase would also change Latin-1 letters (one char per byte here). */
function asciiLower(s: string): string {
  return /[^\x00-\x7f]/.test(s) ? s.replace(/[A-Z]+/g, (m) => m.toLowerCase()) : s.toLowerCase();
}

/**
 * RFC 6376 3.4.2: lower-case name, unfolded, WSP runs to one SP, no WSP at the end or around the
 * colon. Without the trailing CRLF.
 */
export function relaxedHeader(raw: string): string {
  // Most fields are one line with single spaces: only the spaces around the colon and at the end
  // change, found without the regular expressions below.
  if (raw.indexOf('\n') < 0 && raw.indexOf('\t') < 0 && raw.indexOf('  ') < 0) {
    const colon = raw.indexOf(':');
    if (colon >= 0) {
      let nameEnd = colon;
      while (nameEnd > 0 && raw.charCodeAt(nameEnd - 1) === SP) nameEnd--;
      let start = colon + 1;
      if (raw.charCodeAt(start) === SP) start++;
      let end = raw.length;
      if (end > start && raw.charCodeAt(end - 1) === SP) end--;
      return `${asciiLower(raw.slice(0, nameEnd))}:${raw.slice(start, end)}`;
    }
  }
  const unfolded = raw.replace(/\r?\n/g, '');
  const colon = unfolded.indexOf(':');
  if (colon < 0) return asciiLower(unfolded.replace(/[ \t]+/g, ' ').replace(/ $/, ''));
  const name = asciiLower(unfolded.slice(0, colon).replace(/[ \t]+$/, ''));
  const value = unfolded.slice(colon + 1).replace(/[ \t]+/g, ' ').replace(/^ /, '').replace(/ $/, '');
  return `${name}:${value}`;
}

/**
 * The fields to sign among `fields`, for the lower-case names in `names`: every instance, from the
 * bottom up — the order in which a verifier picks instances for repeated names in h=
 * (RFC 6376 5.4.2).
 */
export function selectSignedFields(fields: readonly HeaderField[], names: ReadonlySet<string>): HeaderField[] {
  const out: HeaderField[] = [];
  for (let i = fields.length - 1; i >= 0; i--) if (names.has(fields[i]!.key)) out.push(fields[i]!);
  return out;
}

/** The header-hash input for `fields`: each canonicalized and followed by CRLF. */
export function relaxedHeaders(fields: readonly HeaderField[]): string {
  let s = '';
  for (const f of fields) s += relaxedHeader(f.raw) + '\r\n';
  return s;
}

/**
 * Finds the end of the header section in a stream: the first empty line. `push` returns the part
 * of the chunk after the empty line (the start of the body) once found, else undefined; `header`
 * then holds the header section including its last field's line break. A message without an
 * empty line is all header (and `finish` says so).
 */
export class HeaderSplitter {
  private parts: Buffer[] = [];
  /** 0 mid-line, 1 at a line start, 2 after CR at a line start. */
  private state = 1;
  header: Buffer | null = null;

  push(chunk: Buffer): Buffer | undefined {
    if (this.header) return chunk;
    let st = this.state;
    for (let i = 0; i < chunk.length; i++) {
      if (st === 0) {
        // Mid-line nothing matters until the line's LF: jump there.
        const nl = chunk.indexOf(LF, i);
        if (nl < 0) break;
        i = nl;
        st = 1;
        continue;
      }
      const b = chunk[i]!;
      if (b === LF) {
        if (st !== 0) {
          // Empty line: header is everything before the line's start.
          const emptyLineLen = st === 2 ? 2 : 1;
          const endInChunk = i + 1 - emptyLineLen;
          this.parts.push(chunk.subarray(0, Math.max(0, endInChunk)));
          let header = Buffer.concat(this.parts);
          // The CR of "\r\n" may have been the last byte of the previous chunk.
          if (endInChunk < 0) header = header.subarray(0, header.length + endInChunk);
          this.header = header;
          this.parts = [];
          return chunk.subarray(i + 1);
        }
        st = 1;
      } else if (b === CR) {
        st = st === 1 ? 2 : 0;
      } else {
        st = 0;
      }
    }
    this.state = st;
    this.parts.push(chunk);
    return undefined;
  }

  /** The header section at the end of the input: everything when there was no empty line. */
  finish(): Buffer {
    if (!this.header) {
      this.header = Buffer.concat(this.parts);
      this.parts = [];
    }
    return this.header;
  }
}

const CRLF = Buffer.from('\r\n', 'latin1');
const TWO_SP = Buffer.from('  ', 'latin1');
const SP_CR = Buffer.from(' \r', 'latin1');
const SP_LF = Buffer.from(' \n', 'latin1');
const OUT_SIZE = 16 * 1024;
const SCRATCH = Buffer.allocUnsafe(OUT_SIZE);

/**
 * RFC 6376 3.4.4 body canonicalization, streaming to `sink`: WSP at line ends dropped, other WSP
 * runs made one SP, empty lines at the end dropped, a final CRLF added to a non-empty body that
 * lacks one. An empty body (or one of only empty lines) yields nothing at all. The sink must use
 * each buffer before returning (a hash update does); buffers are reused.
 */
export class RelaxedBodyCanonicalizer {
  /** Output staging, shared by all instances: it is always emptied before a call returns. */
  private readonly out = SCRATCH;
  private o = 0;
  /** Line ends seen since the last content byte; emitted only when more content follows. */
  private pendingLines = 0;
  private pendingWsp = false;
  private pendingCr = false;
  private nonEmpty = false;
  private ended = false;

  constructor(private readonly sink: (chunk: Buffer) => void) {}

  update(chunk: Buffer): void {
    if (this.ended) throw new Error('update after end');
    if (!this.pendingCr && !this.pendingWsp && this.unchanged(chunk)) return;
    const out = this.out;
    let o = this.o;
    let pendingWsp = this.pendingWsp;
    let pendingCr = this.pendingCr;
    let pendingLines = this.pendingLines;
    for (let i = 0; i < chunk.length; i++) {
      let b = chunk[i]!;
      if (pendingCr) {
        pendingCr = false;
        if (b === LF) {
          pendingWsp = false;
          pendingLines++;
          continue;
        }
        // The CR was a lone one, so content: write it now and look at this byte again.
        i--;
        b = CR;
      } else if (b === CR) {
        pendingCr = true;
        continue;
      } else if (b === LF) {
        pendingWsp = false;
        pendingLines++;
        continue;
      } else if (b === SP || b === HTAB) {
        pendingWsp = true;
        continue;
      }
      // A content byte: the deferred line ends and WSP go first.
      if (pendingLines) {
        this.o = o;
        this.writeLines(pendingLines);
        pendingLines = 0;
        o = this.o;
      }
      if (o + 2 > OUT_SIZE) {
        this.sink(out.subarray(0, o));
        o = 0;
      }
      if (pendingWsp) {
        out[o++] = SP;
        pendingWsp = false;
      }
      out[o++] = b;
      this.nonEmpty = true;
    }
    this.o = o;
    this.pendingWsp = pendingWsp;
    this.pendingCr = pendingCr;
    this.pendingLines = pendingLines;
    this.flushOut();
  }

  /**
   * The common case, handled with native searches instead of the byte loop: a chunk that
   * canonicalization leaves as it is (no HTAB, no WSP run, no WSP before a line end, only CRLF
   * line ends) and that does not end inside something the next chunk could change (WSP or CR).
   * Its trailing line ends are held back as pending, like the byte loop does. False (nothing
   * consumed) when the chunk needs the byte loop.
   */
  private unchanged(chunk: Buffer): boolean {
    const n = chunk.length;
    if (n === 0) return true;
    const last = chunk[n - 1];
    if (last === SP || last === HTAB || last === CR) return false;
    if (chunk.indexOf(HTAB) >= 0 || chunk.indexOf(TWO_SP) >= 0 || chunk.indexOf(SP_CR) >= 0 || chunk.indexOf(SP_LF) >= 0) return false;
    // Every CR starts a CRLF (the last byte is no CR), and there are as many LFs: no bare LF.
    let crlf = 0;
    for (let i = chunk.indexOf(CR); i >= 0; i = chunk.indexOf(CR, i + 2)) {
      if (chunk[i + 1] !== LF) return false;
      crlf++;
    }
    let lf = 0;
    for (let i = chunk.indexOf(LF); i >= 0; i = chunk.indexOf(LF, i + 1)) lf++;
    if (lf !== crlf) return false;
    let e = n;
    while (e > 0 && chunk[e - 1] === LF) e -= 2;
    if (e > 0) {
      if (this.pendingLines) this.writeLines(this.pendingLines);
      this.pendingLines = 0;
      this.flushOut();
      this.sink(chunk.subarray(0, e));
      this.nonEmpty = true;
    }
    this.pendingLines += (n - e) / 2;
    return true;
  }

  /** Ends the body; the final CRLF of a non-empty body is emitted here. */
  end(): void {
    if (this.ended) return;
    if (this.pendingCr) {
      // A lone CR as the very last byte: content like any other. Any byte but CR, LF or WSP
      // takes the content path, and the CR goes out first.
      this.pendingCr = false;
      if (this.pendingLines) this.writeLines(this.pendingLines);
      this.pendingLines = 0;
      if (this.o + 2 > OUT_SIZE) this.flushOut();
      if (this.pendingWsp) this.out[this.o++] = SP;
      this.pendingWsp = false;
      this.out[this.o++] = CR;
      this.nonEmpty = true;
      this.flushOut();
    }
    this.ended = true;
    if (this.nonEmpty) this.sink(CRLF);
  }

  private writeLines(n: number): void {
    if (this.o + 2 * n <= OUT_SIZE) {
      for (let k = 0; k < n; k++) {
        this.out[this.o++] = CR;
        this.out[this.o++] = LF;
      }
      return;
    }
    this.flushOut();
    const block = Buffer.from('\r\n'.repeat(Math.min(n, OUT_SIZE / 2)), 'latin1');
    while (n > 0) {
      const k = Math.min(n, block.length / 2);
      this.sink(block.subarray(0, k * 2));
      n -= k;
    }
  }

  private flushOut(): void {
    if (!this.o) return;
    this.sink(this.out.subarray(0, this.o));
    this.o = 0;
  }
}
