// SMTP replies: the type shared by server and client, the wire formatter, and the client-side
// incremental parser. RFC 5321 4.2, enhanced status codes RFC 2034 / RFC 3463.

import { LineReader } from './line-reader.js';
import { MAX_REPLY_LINE, MAX_REPLY_LINES } from './limits.js';

export interface Reply {
  /** Three-digit reply code, RFC 5321 4.2. */
  readonly code: number;
  /** Enhanced status code `class.subject.detail` (RFC 3463), absent for greetings and EHLO
   * replies (RFC 2034 3) or when the peer does not send one. */
  readonly enhanced?: string;
  /** Text lines without code and enhanced code; at least one (possibly empty). */
  readonly lines: readonly string[];
}

const ENHANCED_RE = /^([245])\.(\d{1,3})\.(\d{1,3})$/;

export function isEnhancedCode(s: string): boolean {
  return ENHANCED_RE.test(s);
}

export function reply(code: number, enhanced: string | undefined, ...lines: string[]): Reply {
  return { code, enhanced, lines: lines.length ? lines : [''] };
}

/** Replies of the named tables, frozen, to their wire text once formatted. */
const constants = new WeakMap<Reply, string | null>();

/** A table of named replies (functions in it are left alone): each constant is frozen, text
 * included, and formatReply formats it only once. */
export function constantReplies<T extends Record<string, unknown>>(table: T): T {
  for (const v of Object.values(table)) {
    if (!v || typeof v !== 'object') continue;
    Object.freeze((v as Reply).lines);
    constants.set(Object.freeze(v) as Reply, null);
  }
  return table;
}

/** The same reply with other text, e.g. a constant with a more specific reason. */
export function withText(r: Reply, ...lines: string[]): Reply {
  return { code: r.code, enhanced: r.enhanced, lines: lines.length ? lines : [''] };
}

/** Reply class digit: 2 positive, 3 intermediate, 4 transient, 5 permanent. RFC 5321 4.2.1. */
export function replyClass(r: Reply): 2 | 3 | 4 | 5 {
  const c = Math.floor(r.code / 100);
  if (c === 2 || c === 3 || c === 4 || c === 5) return c;
  throw new RangeError(`bad reply code ${r.code}`);
}

/** Formats a reply for the wire. Every line carries the enhanced code (RFC 2034 4). Text is
 * sanitised: embedded CR/LF would let a value (an address, a remote error) forge extra replies,
 * so they split lines instead, and other control characters become spaces. */
export function formatReply(r: Reply): string {
  const known = constants.get(r);
  if (known) return known;
  const text = formatReplyText(r);
  if (known === null) constants.set(r, text);
  return text;
}

function formatReplyText(r: Reply): string {
  if (!Number.isInteger(r.code) || r.code < 200 || r.code > 599) throw new RangeError(`bad reply code ${r.code}`);
  if (r.enhanced !== undefined && (!isEnhancedCode(r.enhanced) || r.enhanced[0] !== String(r.code)[0])) {
    throw new RangeError(`enhanced code ${r.enhanced} does not fit reply ${r.code}`);
  }
  const text: string[] = [];
  for (const l of r.lines.length ? r.lines : ['']) {
    for (const part of l.split(/\r\n|\r|\n/)) text.push(part.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, ' ').replace(/\t/g, ' '));
  }
  let out = '';
  text.forEach((t, i) => {
    const sep = i === text.length - 1 ? ' ' : '-';
    const body = [r.enhanced, t].filter(Boolean).join(' ');
    // A last line without text is the bare code (RFC 5321 4.2: Reply-code [ SP textstring ]).
    out += body ? `${r.code}${sep}${body}\r\n` : `${r.code}${sep === '-' ? '-' : ''}\r\n`;
  });
  return out;
}

/** A reply the peer sent that does not follow RFC 5321 4.2; the client must drop the connection
 * since it no longer knows where replies start. */
export class ReplySyntaxError extends Error {
  constructor(message: string, readonly line?: string) {
    super(message);
    this.name = 'ReplySyntaxError';
  }
}

/** Incremental reader of replies (client side). Push bytes; complete replies come out in order,
 * so pipelined replies (RFC 2920) can be matched to their commands. */
export class ReplyReader {
  readonly #lines: LineReader;
  readonly #maxLines: number;
  #code = 0;
  #raw: string[] = [];

  constructor(opts: { maxLineLength?: number; maxLines?: number } = {}) {
    this.#lines = new LineReader({ maxLineLength: opts.maxLineLength ?? MAX_REPLY_LINE });
    this.#maxLines = opts.maxLines ?? MAX_REPLY_LINES;
  }

  /** True while a multi-line reply has started but not ended. */
  get partial(): boolean {
    return this.#raw.length > 0 || this.#lines.buffered > 0;
  }

  /** Feeds bytes; returns the replies completed by them. Throws ReplySyntaxError. */
  push(chunk: Buffer): Reply[] {
    this.#lines.push(chunk);
    const out: Reply[] = [];
    for (let ev = this.#lines.next(); ev; ev = this.#lines.next()) {
      if (ev.type === 'overlong') throw new ReplySyntaxError(`reply line longer than ${this.#lines.maxLineLength} bytes`);
      // Replies are ASCII; tolerate UTF-8 text (RFC 6531 servers) and never throw on bad bytes.
      const line = ev.line.toString('utf8');
      const m = /^([2-5][0-9][0-9])(?:([ -])(.*))?$/s.exec(line);
      if (!m) throw new ReplySyntaxError('malformed reply line', line);
      const code = Number(m[1]);
      if (this.#raw.length && code !== this.#code) throw new ReplySyntaxError(`reply code changed from ${this.#code} to ${code} within a reply`, line);
      this.#code = code;
      this.#raw.push(m[3] ?? '');
      if (this.#raw.length > this.#maxLines) throw new ReplySyntaxError(`reply longer than ${this.#maxLines} lines`);
      if (m[2] !== '-') {
        out.push(parseReplyText(code, this.#raw));
        this.#raw = [];
      }
    }
    return out;
  }
}

/** Builds a Reply from the text after the codes, splitting off an enhanced code when the first
 * line has one whose class matches the reply code (RFC 3463 2, RFC 2034 4). */
export function parseReplyText(code: number, texts: readonly string[]): Reply {
  const first = /^([245]\.\d{1,3}\.\d{1,3})(?: |$)/.exec(texts[0] ?? '');
  const enhanced = first && first[1]![0] === String(code)[0] ? first[1] : undefined;
  const lines = texts.map((t) => {
    if (enhanced && (t === enhanced || t.startsWith(enhanced + ' '))) return t.slice(enhanced.length + 1);
    return t;
  });
  return { code, enhanced, lines: lines.length ? lines : [''] };
}

/** Parses complete reply text (as sent, CRLF-separated) into replies; for tests and callers that
 * already hold whole replies. */
export function parseReplies(text: string | Buffer): Reply[] {
  const r = new ReplyReader();
  const out = r.push(typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
  if (r.partial) throw new ReplySyntaxError('incomplete reply');
  return out;
}
