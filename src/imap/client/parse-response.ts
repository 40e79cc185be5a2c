// Parses one whole server response (as framed by ResponseReader, literals inline, no final
// CRLF) into a Response. Pure: bytes in, values out. Follows the RFC 9051 9 grammar, leniently
// where servers are known to differ (extra spaces, missing text after a response code, atoms
// with 8-bit bytes).

import { ImapParseError, type Atom, type Response, type ResponseCode, type Value } from './response.js';

const SP = 0x20;
const LPAREN = 0x28;
const RPAREN = 0x29;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const TILDE = 0x7e;
const CR = 0x0d;
const LF = 0x0a;

const STATUS_NAMES = new Set(['OK', 'NO', 'BAD', 'BYE', 'PREAUTH']);

export function parseResponse(buf: Buffer): Response {
  const p = new Parser(buf);
  if (buf[0] === 0x2b /* + */) {
    // RFC 9051 7.5: continue-req = "+" SP (resp-text / base64); some servers omit the SP.
    return { kind: 'continuation', text: buf.subarray(buf[1] === SP ? 2 : 1).toString('utf8') };
  }
  const tag = p.tagOrStar();
  p.spaces();
  let number: number | undefined;
  if (tag === '*' && isDigit(buf[p.pos])) {
    const n = p.bareAtom(false);
    if (!/^\d+$/.test(n)) throw new ImapParseError(`bad number "${n}"`);
    number = Number(n);
    p.spaces();
  }
  const name = p.bareAtom(false).toUpperCase();
  if (name === '') throw new ImapParseError('response has no name');
  if (number === undefined && STATUS_NAMES.has(name)) {
    if (tag !== '*' && (name === 'BYE' || name === 'PREAUTH')) throw new ImapParseError(`tagged ${name}`);
    const { code, text } = p.respText();
    return { kind: 'status', tag, status: name as 'OK', ...(code && { code }), text };
  }
  if (tag !== '*') throw new ImapParseError(`tagged response with status "${name}"`);
  return { kind: 'data', name, ...(number !== undefined && { number }), values: p.valuesToEnd() };
}

function isDigit(b: number | undefined): boolean {
  return b !== undefined && b >= 0x30 && b <= 0x39;
}

class Parser {
  pos = 0;
  constructor(private readonly buf: Buffer) {}

  private fail(what: string): never {
    const near = this.buf.subarray(this.pos, this.pos + 20).toString('latin1');
    throw new ImapParseError(`${what} at byte ${this.pos} (near "${near}")`);
  }

  atEnd(): boolean {
    return this.pos >= this.buf.length;
  }

  spaces(): void {
    while (this.buf[this.pos] === SP) this.pos++;
  }

  tagOrStar(): string {
    const t = this.bareAtom(false);
    if (t === '') this.fail('expected a tag');
    return t;
  }

  /**
   * Atom characters. `[` starts a section (`BODY[HEADER.FIELDS (TO)]<0>`) read through its `]`
   * so that a FETCH item name is one atom; in a response code, `]` ends the atom instead.
   */
  bareAtom(inCode: boolean): string {
    const start = this.pos;
    const b = this.buf;
    while (this.pos < b.length) {
      const c = b[this.pos];
      if (c <= SP || c === LPAREN || c === RPAREN || c === DQUOTE || c === LBRACE || c === 0x7f) break;
      if (c === RBRACKET && inCode) break;
      if (c === LBRACKET && !inCode) {
        const close = b.indexOf(RBRACKET, this.pos);
        if (close < 0) this.fail('unterminated section');
        this.pos = close + 1;
        continue;
      }
      this.pos++;
    }
    return b.toString('utf8', start, this.pos);
  }

  /** RFC 9051 7.1: resp-text = ["[" resp-text-code "]" SP] text */
  respText(): { code?: ResponseCode; text: string } {
    this.spaces();
    let code: ResponseCode | undefined;
    if (this.buf[this.pos] === LBRACKET) {
      this.pos++;
      const name = this.bareAtom(true).toUpperCase();
      const argsStart = this.pos;
      let args: Value[] = [];
      try {
        for (;;) {
          this.spaces();
          if (this.atEnd()) this.fail('unterminated response code');
          if (this.buf[this.pos] === RBRACKET) {
            this.pos++;
            break;
          }
          args.push(this.value(true));
        }
      } catch (err) {
        // A code we cannot parse (a server's private extension) must not lose the response:
        // keep its arguments as one raw atom.
        const close = this.buf.indexOf(RBRACKET, argsStart);
        if (close < 0) throw err;
        args = [{ atom: this.buf.toString('utf8', argsStart, close).trim() }];
        this.pos = close + 1;
      }
      code = { name, args };
    }
    this.spaces();
    return { ...(code && { code }), text: this.buf.toString('utf8', this.pos) };
  }

  valuesToEnd(): Value[] {
    const out: Value[] = [];
    for (;;) {
      this.spaces();
      if (this.atEnd()) return out;
      out.push(this.value(false));
    }
  }

  value(inCode: boolean): Value {
    const c = this.buf[this.pos];
    if (c === LPAREN) return this.list(inCode);
    if (c === DQUOTE) return this.quoted();
    if (c === LBRACE || (c === TILDE && this.buf[this.pos + 1] === LBRACE)) return this.literal();
    const a = this.bareAtom(inCode);
    if (a === '') this.fail('unexpected character');
    if (a.length === 3 && a.toUpperCase() === 'NIL') return null;
    return { atom: a } satisfies Atom;
  }

  list(inCode: boolean): Value[] {
    this.pos++; // (
    const out: Value[] = [];
    for (;;) {
      this.spaces();
      if (this.atEnd()) this.fail('unterminated list');
      if (this.buf[this.pos] === RPAREN) {
        this.pos++;
        return out;
      }
      out.push(this.value(inCode));
    }
  }

  /** RFC 9051 9: quoted = DQUOTE *QUOTED-CHAR DQUOTE; `\` escapes `"` and `\`. 8-bit kept. */
  quoted(): Buffer {
    this.pos++;
    const parts: Buffer[] = [];
    let start = this.pos;
    const b = this.buf;
    for (;;) {
      if (this.pos >= b.length) this.fail('unterminated quoted string');
      const c = b[this.pos];
      if (c === DQUOTE) {
        parts.push(b.subarray(start, this.pos));
        this.pos++;
        return parts.length === 1 ? Buffer.from(parts[0]) : Buffer.concat(parts);
      }
      if (c === BACKSLASH) {
        parts.push(b.subarray(start, this.pos));
        this.pos++;
        if (this.pos >= b.length) this.fail('unterminated quoted string');
        start = this.pos; // the escaped byte starts the next run
        this.pos++;
        continue;
      }
      if (c === CR || c === LF) this.fail('line break in quoted string');
      this.pos++;
    }
  }

  /** RFC 9051 4.3 literal `{n}` CRLF bytes; RFC 3516 literal8 `~{n}`. */
  literal(): Buffer {
    if (this.buf[this.pos] === TILDE) this.pos++;
    const close = this.buf.indexOf(0x7d /* } */, this.pos);
    if (close < 0) this.fail('bad literal');
    const size = this.buf.toString('latin1', this.pos + 1, close).replace(/\+$/, '');
    if (!/^\d+$/.test(size)) this.fail('bad literal size');
    let p = close + 1;
    if (this.buf[p] === CR) p++;
    if (this.buf[p] !== LF) this.fail('literal size not followed by CRLF');
    p++;
    const n = Number(size);
    if (p + n > this.buf.length) this.fail('literal shorter than announced');
    this.pos = p + n;
    return Buffer.from(this.buf.subarray(p, p + n));
  }
}
