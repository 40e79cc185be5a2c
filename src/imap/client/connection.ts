// The wire: one socket, tagged commands one at a time, literals both ways, untagged responses
// handed to the client as they arrive. Invariants:
// - at most one command is in flight; the next starts after the previous tagged response;
// - every untagged response goes to `onUntagged` (mailbox state, events) and is also collected
//   for the command in flight;
// - after a STARTTLS OK nothing more is read from the plain socket (RFC 9051 6.2.1: data the
//   server sent before the handshake could be injected by an attacker, so it is an error);
// - once the socket closes, every pending and later command fails with a 'connection' error.

import type { Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import type { Logger } from '../../log/logger.js';
import type { CommandPart } from './command-args.js';
import { ImapClientError } from './errors.js';
import { LITERAL_MINUS_MAX } from './limits.js';
import { parseResponse } from './parse-response.js';
import type { Response, StatusResponse } from './response.js';
import { ResponseReader } from './response-reader.js';

/** How literals in commands are sent: RFC 7888 LITERAL+ (all non-synchronising), LITERAL- (up to 4096), or synchronising. */
export type LiteralMode = 'sync' | 'plus' | 'minus';

export interface CommandOptions {
  /** `+` responses after the command line was sent (AUTHENTICATE challenges, IDLE). */
  onContinuation?: (text: string) => void;
  /** Exempt from the command timeout (IDLE). */
  noTimeout?: boolean;
  /** Do not log the command's arguments (LOGIN, AUTHENTICATE). */
  secret?: boolean;
  /** Stop reading after the tagged response (STARTTLS: the TLS handshake follows). */
  lastBeforeTls?: boolean;
}

export interface CommandResult {
  status: StatusResponse;
  /** Untagged responses received while the command ran. */
  untagged: Response[];
}

interface Pending {
  tag: string;
  untagged: Response[];
  opts: CommandOptions;
  resolve(r: CommandResult): void;
  reject(err: Error): void;
  /** Waiting for `+` before a synchronising literal. */
  literalWaiter?: { resolve(): void; reject(err: Error): void };
  done: boolean;
}

export class Connection {
  private socket: Socket;
  private reader = new ResponseReader();
  private tagCounter = 0;
  private current: Pending | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private greetingWaiter: { resolve(r: StatusResponse): void; reject(err: Error): void } | undefined;
  private earlyGreeting: StatusResponse | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closedError: ImapClientError | undefined;
  private byeText: string | undefined;
  private readonly onData = (d: Buffer) => this.receive(d);
  private readonly onClose = () => this.fail(new ImapClientError('connection', this.byeText !== undefined ? `connection closed: ${this.byeText}` : 'connection closed'));
  private readonly onError = (err: Error) => this.fail(new ImapClientError('connection', `connection failed: ${err.message}`, { cause: err }));
  literalMode: LiteralMode = 'sync';
  /** Called for every untagged response, before the command in flight sees it. */
  onUntagged: (r: Response) => void = () => {};
  /** Called once when the connection closes or fails. */
  onClosed: (err: ImapClientError) => void = () => {};

  constructor(
    socket: Socket,
    private readonly commandTimeout: number,
    private readonly log?: Logger,
  ) {
    this.socket = socket;
    this.attach();
  }

  get tls(): boolean {
    return 'encrypted' in this.socket && (this.socket as TLSSocket).encrypted === true;
  }

  get tlsSocket(): TLSSocket | undefined {
    return this.tls ? (this.socket as TLSSocket) : undefined;
  }

  get closed(): boolean {
    return this.closedError !== undefined;
  }

  private attach(): void {
    this.socket.on('data', this.onData);
    this.socket.on('close', this.onClose);
    this.socket.on('error', this.onError);
  }

  private detach(): void {
    this.socket.off('data', this.onData);
    this.socket.off('close', this.onClose);
    this.socket.off('error', this.onError);
  }

  /** The first response: `* OK`, `* PREAUTH` or `* BYE` (RFC 9051 7.1). */
  readGreeting(timeoutMs: number): Promise<StatusResponse> {
    if (this.earlyGreeting) return Promise.resolve(this.earlyGreeting);
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => this.fail(new ImapClientError('timeout', `no greeting within ${timeoutMs} ms`)), timeoutMs);
      this.greetingWaiter = {
        resolve: (r) => (clearTimeout(t), resolve(r)),
        reject: (e) => (clearTimeout(t), reject(e)),
      };
    });
  }

  /** Runs a command; resolves with the tagged response whatever its status (callers check NO/BAD). */
  run(parts: CommandPart[], opts: CommandOptions = {}): Promise<CommandResult> {
    const next = this.chain.then(() => this.execute(parts, opts));
    this.chain = next.catch(() => {});
    return next;
  }

  /** Sends a line while a command is in flight (AUTHENTICATE responses, IDLE's DONE). */
  writeLine(line: string, secret = false): void {
    if (this.closedError) return;
    this.log?.debug('imap client send', { line: secret ? '<redacted>' : line });
    this.socket.write(line + '\r\n');
  }

  private async execute(parts: CommandPart[], opts: CommandOptions): Promise<CommandResult> {
    if (this.closedError) throw this.closedError;
    const tag = `A${++this.tagCounter}`;
    const result = new Promise<CommandResult>((resolve, reject) => {
      this.current = { tag, untagged: [], opts, resolve, reject, done: false };
    });
    const p = this.current!;
    this.armTimer(p);
    const logged: string[] = [tag];
    let text = tag;
    try {
      for (const part of parts) {
        if (typeof part === 'string') {
          text += (part === ')' ? '' : ' ') + part; // a lone ")" closes a group opened earlier
          logged.push(opts.secret ? '<redacted>' : part);
          continue;
        }
        const n = part.literal.length;
        const nonSync = this.literalMode === 'plus' || (this.literalMode === 'minus' && n <= LITERAL_MINUS_MAX);
        text += ` ${part.binary ? '~' : ''}{${n}${nonSync ? '+' : ''}}\r\n`;
        logged.push(`{${n}${nonSync ? '+' : ''}}`);
        if (!nonSync) {
          const go = new Promise<void>((resolve, reject) => (p.literalWaiter = { resolve, reject }));
          this.socket.write(text);
          text = '';
          await go; // RFC 9051 7.5: the server's "+" says it accepts the literal
        } else {
          this.socket.write(text);
          text = '';
        }
        this.socket.write(part.literal);
      }
      this.socket.write(text + '\r\n');
      this.log?.debug('imap client send', { line: logged.join(' ') });
    } catch (err) {
      // The command ended (NO/BAD instead of "+") or the connection failed: the result says which.
      if (!p.done) throw err;
    }
    return result;
  }

  private armTimer(p: Pending): void {
    clearTimeout(this.timer);
    if (p.opts.noTimeout || p.done) return;
    this.timer = setTimeout(() => this.fail(new ImapClientError('timeout', `no response within ${this.commandTimeout} ms`)), this.commandTimeout);
  }

  private receive(data: Buffer): void {
    let responses: Buffer[];
    try {
      responses = this.reader.push(data);
    } catch (err) {
      this.fail(new ImapClientError('protocol', (err as Error).message, { cause: err }));
      return;
    }
    if (this.current) this.armTimer(this.current);
    for (let i = 0; i < responses.length; i++) {
      if (this.closedError) return;
      let r: Response;
      try {
        r = parseResponse(responses[i]);
      } catch (err) {
        this.fail(new ImapClientError('protocol', `cannot parse response: ${(err as Error).message}`, { cause: err }));
        return;
      }
      this.log?.debug('imap client recv', { line: responses[i].subarray(0, 200).toString('latin1') });
      const stop = this.dispatch(r);
      if (stop) {
        // STARTTLS: anything after the OK came before the handshake.
        this.detach();
        if (i < responses.length - 1 || this.reader.hasBuffered()) {
          this.fail(new ImapClientError('protocol', 'server sent data after its STARTTLS reply'));
        }
        return;
      }
    }
  }

  /** Returns true when reading must stop (after the STARTTLS reply). */
  private dispatch(r: Response): boolean {
    if (this.greetingWaiter || (!this.earlyGreeting && !this.current && this.tagCounter === 0)) {
      if (r.kind !== 'status' || r.tag !== '*' || !['OK', 'PREAUTH', 'BYE'].includes(r.status)) {
        this.fail(new ImapClientError('protocol', 'server greeting is not OK, PREAUTH or BYE'));
        return false;
      }
      if (r.status === 'BYE') {
        this.byeText = r.text;
        this.fail(new ImapClientError('connection', `server refused the connection: ${r.text}`));
        return false;
      }
      const w = this.greetingWaiter;
      this.greetingWaiter = undefined;
      if (w) w.resolve(r);
      else this.earlyGreeting = r;
      return false;
    }
    const p = this.current;
    if (r.kind === 'continuation') {
      if (p?.literalWaiter) {
        const w = p.literalWaiter;
        p.literalWaiter = undefined;
        w.resolve();
      } else if (p?.opts.onContinuation) {
        try {
          p.opts.onContinuation(r.text);
        } catch (err) {
          this.fail(err instanceof ImapClientError ? err : new ImapClientError('protocol', (err as Error).message, { cause: err }));
        }
      } else {
        this.fail(new ImapClientError('protocol', 'unexpected continuation request'));
      }
      return false;
    }
    if (r.kind === 'status' && r.tag !== '*') {
      if (!p || r.tag !== p.tag) {
        this.fail(new ImapClientError('protocol', `response for unknown tag ${r.tag}`));
        return false;
      }
      p.done = true;
      this.current = undefined;
      clearTimeout(this.timer);
      p.literalWaiter?.reject(new ImapClientError(r.status === 'NO' ? 'no' : 'bad', r.text, { response: r }));
      p.resolve({ status: r, untagged: p.untagged });
      return p.opts.lastBeforeTls === true && r.status === 'OK';
    }
    if (r.kind === 'status' && r.status === 'BYE') this.byeText = r.text;
    this.onUntagged(r);
    p?.untagged.push(r);
    return false;
  }

  /** Replaces the socket with TLS on top of it (after a STARTTLS OK). */
  async upgrade(options: ConnectionOptions, timeoutMs: number): Promise<TLSSocket> {
    if (this.closedError) throw this.closedError;
    this.detach();
    const plain = this.socket;
    const secure = tlsConnect({ ...options, socket: plain });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new ImapClientError('timeout', `TLS handshake took longer than ${timeoutMs} ms`)), timeoutMs);
      secure.once('secureConnect', () => (clearTimeout(t), resolve()));
      secure.once('error', (err) => (clearTimeout(t), reject(new ImapClientError('tls', `TLS handshake failed: ${err.message}`, { cause: err }))));
    }).catch((err) => {
      secure.destroy();
      this.fail(err);
      throw err;
    });
    this.socket = secure;
    this.attach();
    return secure;
  }

  /** Ends the connection now; pending commands fail with `err` (default: 'aborted'). */
  destroy(err?: ImapClientError): void {
    this.fail(err ?? new ImapClientError('aborted', 'connection closed by the client'));
  }

  private fail(err: ImapClientError): void {
    if (this.closedError) return;
    this.closedError = err;
    clearTimeout(this.timer);
    this.detach();
    this.socket.on('error', () => {}); // late errors after destroy must not crash the process
    this.socket.destroy();
    this.greetingWaiter?.reject(err);
    this.greetingWaiter = undefined;
    const p = this.current;
    this.current = undefined;
    if (p && !p.done) {
      p.done = true;
      p.literalWaiter?.reject(err);
      p.reject(err);
    }
    this.onClosed(err);
  }
}
