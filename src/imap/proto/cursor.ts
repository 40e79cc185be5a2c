// Low-level lexing over a command's parts (RFC 9051 9, formal syntax): atoms, strings, numbers,
// lists. Every failure throws ImapSyntaxError with a message that says what was expected where.

import type { CommandPart, LiteralPart } from './command-reader.js';
import { ImapSyntaxError } from './syntax-error.js';

const SP = 0x20;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;

/** RFC 9051 9: atom-specials = "(" / ")" / "{" / SP / CTL / list-wildcards / quoted-specials / resp-specials */
export function isAtomChar(c: number): boolean {
  if (c <= 0x20 || c === 0x7f || c >= 0x80) return false;
  return !(c === 0x28 || c === 0x29 || c === 0x7b || c === 0x25 || c === 0x2a || c === DQUOTE || c === BACKSLASH || c === 0x5d);
}

/** ASTRING-CHAR = ATOM-CHAR / resp-specials */
export function isAstringChar(c: number): boolean {
  return isAtomChar(c) || c === 0x5d;
}

/** list-char = ATOM-CHAR / list-wildcards / resp-specials; UTF-8 is allowed in mailbox names (RFC 9051). */
function isListChar(c: number): boolean {
  return isAstringChar(c) || c === 0x25 || c === 0x2a || c >= 0x80;
}

export class Cursor {
  private part = 0;
  private pos = 0;

  constructor(private readonly parts: CommandPart[]) {}

  private get text(): Buffer {
    return this.parts[this.part]!.text;
  }

  /** True at a literal (end of a part's text that has one). */
  atLiteral(): boolean {
    return this.pos >= this.text.length && this.parts[this.part]!.literal !== undefined;
  }

  atEnd(): boolean {
    return this.pos >= this.text.length && this.parts[this.part]!.literal === undefined;
  }

  /** The next byte, or -1 at a literal or the end. */
  peek(): number {
    return this.pos < this.text.length ? this.text[this.pos]! : -1;
  }

  /** Case-insensitive look-ahead for ASCII text. */
  peekWord(word: string): boolean {
    const t = this.text;
    if (this.pos + word.length > t.length) return false;
    return t.toString('latin1', this.pos, this.pos + word.length).toUpperCase() === word.toUpperCase();
  }

  /** Consumes `word` when it is next (case-insensitive). */
  take(word: string): boolean {
    if (!this.peekWord(word)) return false;
    this.pos += word.length;
    return true;
  }

  expect(word: string, what = `"${word}"`): void {
    if (!this.take(word)) this.fail(`expected ${what}`);
  }

  sp(): void {
    if (this.peek() !== SP) this.fail('expected a space');
    this.pos++;
  }

  /** Consumes a space when one is next. */
  maybeSp(): boolean {
    if (this.peek() !== SP) return false;
    this.pos++;
    return true;
  }

  end(): void {
    if (!this.atEnd()) this.fail('unexpected data at end of command');
  }

  fail(msg: string): never {
    let where: string;
    if (this.atLiteral()) where = 'at a literal';
    else if (this.pos >= this.text.length) where = 'at end of line';
    else {
      const near = this.text.toString('latin1', this.pos, Math.min(this.text.length, this.pos + 20)).replace(/[^\x20-\x7e]/g, '?');
      where = `near "${near}"`;
    }
    throw new ImapSyntaxError(`${msg} ${where}`);
  }

  private literal(): LiteralPart {
    const lit = this.parts[this.part]!.literal!;
    this.part++;
    this.pos = 0;
    return lit;
  }

  /** Takes a literal from a command part, as a Buffer (APPEND message literals are handled by the caller). */
  literalData(): Buffer {
    if (!this.atLiteral()) this.fail('expected a literal');
    const lit = this.literal();
    if (lit.kind !== 'data') throw new ImapSyntaxError('unexpected message literal');
    return lit.data;
  }

  /** An APPEND message literal placeholder. */
  messageLiteral(): { size: number; binary: boolean } {
    if (!this.atLiteral()) this.fail('expected a message literal');
    const lit = this.literal();
    if (lit.kind !== 'message') throw new ImapSyntaxError('expected a message literal');
    return { size: lit.size, binary: lit.binary };
  }

  /** atom = 1*ATOM-CHAR */
  atom(what = 'an atom'): string {
    const start = this.pos;
    const t = this.text;
    while (this.pos < t.length && isAtomChar(t[this.pos]!)) this.pos++;
    if (this.pos === start) this.fail(`expected ${what}`);
    return t.toString('latin1', start, this.pos);
  }

  /** Characters while `pred` holds (may be empty). */
  takeWhile(pred: (c: number) => boolean): string {
    const start = this.pos;
    const t = this.text;
    while (this.pos < t.length && pred(t[this.pos]!)) this.pos++;
    return t.toString('utf8', start, this.pos);
  }

  /** tag = 1*<any ASTRING-CHAR except "+"> */
  tag(): string {
    const s = this.maybeTag();
    if (s === null) this.fail('expected a tag');
    return s;
  }

  /**
   * A tag, or null (nothing consumed) when there is none: a line without a tag (an empty line, a
   * stray CRLF) is answered without building an exception, which costs more than the line itself.
   */
  maybeTag(): string | null {
    const s = this.takeWhile((c) => isAstringChar(c) && c !== 0x2b);
    return s || null;
  }

  /** number = 1*DIGIT (32-bit unsigned) */
  number(what = 'a number'): number {
    const s = this.takeWhile((c) => c >= 0x30 && c <= 0x39);
    if (!s || s.length > 10) this.fail(`expected ${what}`);
    const n = Number(s);
    if (n > 0xffffffff) this.fail(`${what} out of range`);
    return n;
  }

  nzNumber(what = 'a non-zero number'): number {
    const n = this.number(what);
    if (n === 0) this.fail(`expected ${what}`);
    return n;
  }

  /** mod-sequence-value: 1*DIGIT up to 2^63-1 (RFC 7162 7); returned as a JS number (safe to 2^53). */
  number64(what = 'a mod-sequence value'): number {
    const s = this.takeWhile((c) => c >= 0x30 && c <= 0x39);
    if (!s || s.length > 19) this.fail(`expected ${what}`);
    if (BigInt(s) > 0x7fffffffffffffffn) this.fail(`${what} out of range`);
    // Our MODSEQs stay far below 2^53; larger client values compare the same when clamped.
    return Math.min(Number(s), Number.MAX_SAFE_INTEGER);
  }

  /** quoted = DQUOTE *QUOTED-CHAR DQUOTE, as raw bytes. */
  private quotedBytes(): Buffer {
    this.pos++; // opening quote
    const t = this.text;
    const out: number[] = [];
    for (;;) {
      if (this.pos >= t.length) this.fail('unterminated quoted string');
      const c = t[this.pos++]!;
      if (c === DQUOTE) break;
      if (c === BACKSLASH) {
        const n = t[this.pos++];
        if (n !== DQUOTE && n !== BACKSLASH) this.fail('bad escape in quoted string');
        out.push(n);
        continue;
      }
      if (c === 0 || c === 0x0d || c === 0x0a) this.fail('control character in quoted string');
      out.push(c);
    }
    return Buffer.from(out);
  }

  /** string = quoted / literal, as raw bytes. */
  stringBytes(what = 'a string'): Buffer {
    if (this.atLiteral()) return this.literalData();
    if (this.peek() === DQUOTE) return this.quotedBytes();
    this.fail(`expected ${what}`);
  }

  string(what = 'a string'): string {
    return this.stringBytes(what).toString('utf8');
  }

  /** astring = 1*ASTRING-CHAR / string; UTF-8 bytes allowed in atoms of mailbox names (RFC 9051 9 allows UTF8 in astrings only via strings, but clients send it). */
  astringBytes(what = 'a string'): Buffer {
    if (this.atLiteral() || this.peek() === DQUOTE) return this.stringBytes(what);
    const start = this.pos;
    const t = this.text;
    while (this.pos < t.length && (isAstringChar(t[this.pos]!) || t[this.pos]! >= 0x80)) this.pos++;
    if (this.pos === start) this.fail(`expected ${what}`);
    return Buffer.from(t.subarray(start, this.pos));
  }

  astring(what = 'a string'): string {
    return this.astringBytes(what).toString('utf8');
  }

  /** nstring = string / NIL */
  nstring(what = 'a string or NIL'): string | null {
    if (!this.atLiteral() && this.peek() !== DQUOTE) {
      this.expect('NIL', what);
      return null;
    }
    return this.string(what);
  }

  /** list-mailbox = 1*list-char / string */
  listMailbox(): string {
    if (this.atLiteral() || this.peek() === DQUOTE) return this.string('a mailbox pattern');
    const s = this.takeWhile(isListChar);
    if (!s) this.fail('expected a mailbox pattern');
    return s;
  }

  /** "(" elem *(SP elem) ")", or the empty list when allowEmpty. */
  list<T>(elem: () => T, allowEmpty = true): T[] {
    this.expect('(');
    const out: T[] = [];
    if (this.take(')')) {
      if (!allowEmpty) this.fail('expected a non-empty list');
      return out;
    }
    for (;;) {
      out.push(elem());
      if (this.take(')')) return out;
      this.sp();
    }
  }

  /** A flag: "\" atom or a keyword atom (RFC 9051 9 flag). */
  flag(allowWildcard = false): string {
    if (this.take('\\')) {
      if (allowWildcard && this.take('*')) return '\\*';
      return '\\' + this.atom('a flag name');
    }
    return this.atom('a flag');
  }
}
