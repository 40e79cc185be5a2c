// Incremental command reader: fed with Buffers from the socket, it owns line and literal state and
// yields whole commands (text segments plus literals) for the parser. It enforces spec 4:
// - a string literal is checked against the per-literal size, the literal count and the per-command
//   total (a smaller one until the caller sets `authenticated`), in that order, when its
//   announcement `{n}` / `{n+}` / `~{n}` is seen, before any of its bytes is accepted;
// - a synchronizing literal over a limit gets no continuation, the command is dropped and the
//   connection stays usable (the client does not send the data) (RFC 9051 4.3);
// - a non-synchronizing literal over a limit is fatal: the server cannot know where the data ends
//   (RFC 7888 4);
// - APPEND and REPLACE message literals are not counted: they are handed out in chunks as they arrive (the caller
//   streams them to disk) after the caller accepted them (APPENDLIMIT is checked by the caller).
// Pure: no sockets, no storage. The caller calls push() with data and next() until it returns null.

import type { ReaderLimits } from './limits.js';
import { MAX_LITERAL_DIGITS } from './limits.js';

/** A literal inside a command: string data, or an APPEND message streamed out of band. */
export type LiteralPart =
  | { kind: 'data'; data: Buffer; binary: boolean }
  | { kind: 'message'; size: number; binary: boolean };

/** Text of one line up to (not including) a literal announcement, followed by that literal. */
export interface CommandPart {
  text: Buffer;
  literal?: LiteralPart;
}

export type ReaderEvent =
  /** A complete command (or a continuation line, e.g. an AUTHENTICATE response or DONE). */
  | { kind: 'command'; parts: CommandPart[] }
  /** A synchronizing string literal was accepted: send a `+` continuation. */
  | { kind: 'continue' }
  /**
   * A literal over a limit. sync: answer `<tag> BAD [TOOBIG]`, the reader goes on with the next line.
   * !sync: answer `* BYE [ALERT]` and `<tag> BAD [TOOBIG]` and close; the reader is dead.
   */
  | { kind: 'toobig'; tag: string | null; sync: boolean; message: string }
  /** A line over the length limit: fatal (no way to find the next command reliably). */
  | { kind: 'line-too-long'; tag: string | null }
  /**
   * An APPEND message literal is announced. The reader waits for acceptMessage() (then yields
   * message-data chunks and message-end) or rejectMessage().
   */
  | { kind: 'message-literal'; prefix: CommandPart[]; size: number; sync: boolean; binary: boolean }
  | { kind: 'message-data'; chunk: Buffer }
  | { kind: 'message-end' };

type State =
  | { s: 'line' }
  | { s: 'literal'; size: number; binary: boolean; chunks: Buffer[]; got: number }
  | { s: 'decide'; size: number; sync: boolean; binary: boolean }
  | { s: 'message'; remaining: number }
  | { s: 'skip'; remaining: number; then: 'discard' }
  | { s: 'discard' }
  | { s: 'dead' };

const LF = 0x0a;
const CR = 0x0d;
const ANNOUNCE = /(~?)\{(\d+)(\+?)\}$/;
const EMPTY = Buffer.alloc(0);

export class CommandReader {
  /** Received, unconsumed data as a queue of chunks: no copying of literal or message data. */
  private chunks: Buffer[] = [];
  private total = 0;
  /** Where to resume looking for LF in chunks[0]. */
  private scanFrom = 0;
  private state: State = { s: 'line' };
  private parts: CommandPart[] = [];
  private literalCount = 0;
  private literalBytes = 0;
  private pendingText: Buffer = EMPTY;
  /** Set by the caller at login: the per-command literal total goes up to the after-login limit. */
  authenticated = false;

  constructor(private readonly limits: ReaderLimits) {}

  /** Bytes received and not consumed yet (the caller pauses the socket when this grows). */
  get buffered(): number {
    return this.total;
  }

  get dead(): boolean {
    return this.state.s === 'dead';
  }

  /** True while a message literal waits for acceptMessage/rejectMessage. */
  get awaitingDecision(): boolean {
    return this.state.s === 'decide';
  }

  push(data: Buffer): void {
    if (this.state.s === 'dead' || data.length === 0) return;
    this.chunks.push(data);
    this.total += data.length;
  }

  /**
   * Removes and returns the unread bytes. COMPRESS (RFC 4978 3): everything after the command's
   * CRLF is compressed, so the caller inflates what was received after it rather than parse it.
   */
  takeUnread(): Buffer[] {
    const chunks = this.chunks;
    this.chunks = [];
    this.total = 0;
    this.scanFrom = 0;
    return chunks;
  }

  /** Accept the announced message literal: the caller sends `+` first when it was synchronizing. */
  acceptMessage(): void {
    if (this.state.s !== 'decide') throw new Error('no message literal to accept');
    this.parts.push({ text: this.pendingText, literal: { kind: 'message', size: this.state.size, binary: this.state.binary } });
    this.pendingText = EMPTY;
    this.state = { s: 'message', remaining: this.state.size };
  }

  /**
   * Refuse the announced message literal (the caller answered the command already). A synchronizing
   * literal is never sent; a non-synchronizing one is skipped together with the rest of the command,
   * unless `fatal`: then the reader is dead (the caller closes the connection).
   */
  rejectMessage(fatal = false): void {
    if (this.state.s !== 'decide') throw new Error('no message literal to reject');
    if (fatal) {
      this.die();
      return;
    }
    const st = this.state;
    this.resetCommand();
    this.state = st.sync ? { s: 'line' } : { s: 'skip', remaining: st.size, then: 'discard' };
  }

  /** The next event, or null when more data is needed (or a decision is pending, or the reader is dead). */
  next(): ReaderEvent | null {
    for (;;) {
      const st = this.state;
      switch (st.s) {
        case 'dead':
        case 'decide':
          return null;
        case 'message': {
          if (st.remaining === 0) {
            this.state = { s: 'line' };
            return { kind: 'message-end' };
          }
          if (this.total === 0) return null;
          const chunk = this.take(st.remaining);
          st.remaining -= chunk.length;
          return { kind: 'message-data', chunk };
        }
        case 'skip': {
          while (st.remaining > 0 && this.total > 0) st.remaining -= this.take(st.remaining).length;
          if (st.remaining > 0) return null;
          this.state = { s: 'discard' };
          continue;
        }
        case 'literal': {
          while (st.got < st.size && this.total > 0) {
            const c = this.take(st.size - st.got);
            st.chunks.push(c);
            st.got += c.length;
          }
          if (st.got < st.size) return null;
          this.parts.push({ text: this.pendingText, literal: { kind: 'data', data: Buffer.concat(st.chunks), binary: st.binary } });
          this.pendingText = EMPTY;
          this.state = { s: 'line' };
          continue;
        }
        case 'line':
        case 'discard': {
          const line = this.takeLine();
          if (line === undefined) {
            if (this.total > this.limits.maxLineLength + 2) {
              const tag = this.parts.length ? tagOf(this.parts[0]!.text) : tagOf(this.chunks[0]!);
              this.die();
              return { kind: 'line-too-long', tag };
            }
            return null;
          }
          if (line.length > this.limits.maxLineLength) {
            const tag = this.parts.length ? tagOf(this.parts[0]!.text) : tagOf(line);
            this.die();
            return { kind: 'line-too-long', tag };
          }
          const ev = st.s === 'discard' ? this.discardLine(line) : this.onLine(line);
          if (ev) return ev;
          continue;
        }
      }
    }
  }

  private discardLine(line: Buffer): ReaderEvent | null {
    const m = ANNOUNCE.exec(line.toString('latin1'));
    if (m && m[3] === '+' && m[2]!.length <= MAX_LITERAL_DIGITS) {
      this.state = { s: 'skip', remaining: Number(m[2]), then: 'discard' };
    } else {
      this.state = { s: 'line' };
    }
    return null;
  }

  private onLine(line: Buffer): ReaderEvent | null {
    const m = ANNOUNCE.exec(line.subarray(Math.max(0, line.length - MAX_LITERAL_DIGITS - 5)).toString('latin1'));
    if (!m) {
      const parts = this.parts;
      parts.push({ text: line });
      this.resetCommand();
      return { kind: 'command', parts };
    }
    const binary = m[1] === '~';
    const sync = m[3] !== '+';
    const text = line.subarray(0, line.length - m[0].length);
    const digits = m[2]!;
    const size = digits.length > MAX_LITERAL_DIGITS ? Infinity : Number(digits);
    if (isMessageLiteral(this.parts, text)) {
      this.pendingText = text;
      this.state = { s: 'decide', size, sync, binary };
      return { kind: 'message-literal', prefix: this.parts.concat({ text }), size, sync, binary };
    }
    // Spec 4: per-literal size, then count, then total; before accepting any byte.
    let problem: string | null = null;
    if (size > this.limits.maxLiteralSize) problem = `literal of ${digits} bytes is over the limit of ${this.limits.maxLiteralSize}`;
    else if (this.literalCount + 1 > this.limits.maxLiteralsPerCommand) problem = `more than ${this.limits.maxLiteralsPerCommand} literals in one command`;
    else if (this.literalBytes + size > this.totalLimit) problem = `literals of one command over ${this.totalLimit} bytes${this.authenticated ? '' : ' before login'}`;
    if (problem) {
      const tag = tagOf(this.parts.length ? this.parts[0]!.text : text);
      if (sync) {
        this.resetCommand();
        this.state = { s: 'line' };
      } else {
        this.die();
      }
      return { kind: 'toobig', tag, sync, message: problem };
    }
    this.literalCount++;
    this.literalBytes += size;
    this.pendingText = text;
    this.state = { s: 'literal', size, binary, chunks: [], got: 0 };
    return sync ? { kind: 'continue' } : null;
  }

  private get totalLimit(): number {
    return this.authenticated ? this.limits.maxLiteralBytesPerCommand : Math.min(this.limits.maxLiteralBytesBeforeAuth, this.limits.maxLiteralBytesPerCommand);
  }

  private takeLine(): Buffer | undefined {
    for (;;) {
      const head = this.chunks[0];
      if (!head) return undefined;
      const idx = head.indexOf(LF, this.scanFrom);
      if (idx >= 0) {
        const end = idx > 0 && head[idx - 1] === CR ? idx - 1 : idx;
        const line = Buffer.from(head.subarray(0, end));
        this.take(idx + 1);
        return line;
      }
      // No line end yet: join with the next chunk (lines are short; the caller enforces the limit).
      if (this.chunks.length < 2 || head.length > this.limits.maxLineLength + 2) {
        this.scanFrom = head.length;
        return undefined;
      }
      this.scanFrom = head.length;
      this.chunks.splice(0, 2, Buffer.concat([head, this.chunks[1]!]));
    }
  }

  /** Removes and returns up to `max` bytes from the front (a view of one received chunk). */
  private take(max: number): Buffer {
    const head = this.chunks[0]!;
    this.scanFrom = 0;
    if (head.length <= max) {
      this.chunks.shift();
      this.total -= head.length;
      return head;
    }
    this.chunks[0] = head.subarray(max);
    this.total -= max;
    return head.subarray(0, max);
  }

  private resetCommand(): void {
    this.parts = [];
    this.literalCount = 0;
    this.literalBytes = 0;
    this.pendingText = EMPTY;
  }

  private die(): void {
    this.state = { s: 'dead' };
    this.chunks = [];
    this.total = 0;
    this.resetCommand();
  }
}

/** The tag of a command line, when it looks like one (for error replies). */
export function tagOf(line: Buffer): string | null {
  const sp = line.indexOf(0x20);
  const tag = line.subarray(0, sp < 0 ? Math.min(line.length, 64) : Math.min(sp, 64)).toString('latin1');
  return /^[\x21-\x7e]+$/.test(tag) && !/[(){%*"\\+]/.test(tag) ? tag : null;
}

const APPEND_PREFIX = /^[^ ]+ append /i;
const REPLACE_PREFIX = /^[^ ]+ (?:uid )?replace /i;
/** `tag [UID] REPLACE id `: a literal right here is the mailbox name. */
const REPLACE_AT_MAILBOX = /^[^ ]+ (?:uid )?replace [^ ]+ $/i;
/** `... URL `: a literal right here is a CATENATE URL (RFC 4469 5), a string, not message data. */
const AT_CATENATE_URL = /[ (]url $/i;
const CATENATE_OPEN = /catenate \(/i;

/** A CATENATE URL given as a literal: after "URL " once a CATENATE list has opened (a mailbox named
 * "url" is not one: `tag APPEND url {n}` is a message). */
function atCatenateUrl(prefix: CommandPart[], text: Buffer): boolean {
  if (!AT_CATENATE_URL.test(text.subarray(Math.max(0, text.length - 5)).toString('latin1'))) return false;
  return [...prefix.map((p) => p.text), text].some((t) => CATENATE_OPEN.test(t.toString('latin1')));
}

/**
 * Whether the literal announced at the end of `text` is an APPEND or REPLACE message (streamed)
 * rather than a string. In `tag APPEND mailbox [flags] [date] literal ...` (RFC 9051 6.3.12, RFC 3502
 * MULTIAPPEND, RFC 6855 UTF8 (~{n})) and `tag [UID] REPLACE id mailbox [flags] [date] literal`
 * (RFC 8508) every literal except the mailbox name itself is a message, and so is a CATENATE TEXT part
 * (RFC 4469 5); a CATENATE URL is a string.
 */
export function isMessageLiteral(prefix: CommandPart[], text: Buffer): boolean {
  if (atCatenateUrl(prefix, text)) return false;
  const first = prefix.length ? prefix[0]!.text : text;
  const head = first.subarray(0, 64).toString('latin1');
  const m = APPEND_PREFIX.exec(head);
  if (m) {
    // The first literal right after "tag APPEND " is the mailbox name.
    return !(prefix.length === 0 && text.length === m[0].length);
  }
  if (!REPLACE_PREFIX.test(head)) return false;
  return !(prefix.length === 0 && REPLACE_AT_MAILBOX.test(text.toString('latin1')));
}
