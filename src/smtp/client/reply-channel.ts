// One socket's reply stream: bytes in, Reply values out in order, so pipelined replies
// (RFC 2920) are matched to their commands by position. Writes respect backpressure. Every wait
// has a timeout; a closed or failed socket fails every waiter with a 'connection' error.

import type { Socket } from 'node:net';
import type { Logger } from '../../log/logger.js';
import { ReplyReader, ReplySyntaxError, type Reply } from '../proto/reply.js';
import { replyText, SmtpClientError } from './errors.js';

export class ReplyChannel {
  readonly socket: Socket;
  readonly #reader = new ReplyReader();
  readonly #replies: Reply[] = [];
  #waiter: { resolve(r: Reply): void; reject(e: Error): void } | null = null;
  #failure: SmtpClientError | null = null;
  readonly #log?: Logger;
  readonly #onData = (chunk: Buffer) => this.#push(chunk);
  readonly #onError = (err: Error) => this.fail(new SmtpClientError('connection', `connection error: ${err.message}`, { cause: err }));
  readonly #onClose = () => this.fail(new SmtpClientError('connection', 'connection closed by server'));

  constructor(socket: Socket, log?: Logger) {
    this.socket = socket;
    this.#log = log;
    socket.on('data', this.#onData);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
  }

  /** Whether replies or parts of one arrived that nobody asked for yet. */
  get hasUnread(): boolean {
    return this.#replies.length > 0 || this.#reader.partial;
  }

  get failed(): SmtpClientError | null {
    return this.#failure;
  }

  #push(chunk: Buffer): void {
    let got: Reply[];
    try {
      got = this.#reader.push(chunk);
    } catch (err) {
      const msg = err instanceof ReplySyntaxError ? `${err.message}${err.line !== undefined ? `: ${JSON.stringify(err.line.slice(0, 100))}` : ''}` : String(err);
      this.fail(new SmtpClientError('protocol', `bad reply from server: ${msg}`, { cause: err }));
      this.socket.destroy();
      return;
    }
    for (const r of got) {
      this.#log?.debug('smtp reply', { reply: replyText(r) });
      const w = this.#waiter;
      if (w) {
        this.#waiter = null;
        w.resolve(r);
      } else {
        this.#replies.push(r);
      }
    }
  }

  /** The next reply. `command` names what it answers, for error messages. */
  read(timeoutMs: number, command: string): Promise<Reply> {
    const queued = this.#replies.shift();
    if (queued) return Promise.resolve(queued);
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#waiter) return Promise.reject(new Error('ReplyChannel: concurrent read'));
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = null;
        const e = new SmtpClientError('timeout', `timeout waiting for the reply to ${command} (${Math.round(timeoutMs / 1000)} s)`, { command });
        this.fail(e);
        this.socket.destroy();
        reject(e);
      }, timeoutMs);
      this.#waiter = {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }

  /**
   * Writes and resolves once the data is handed to the kernel or buffered under the high-water
   * mark; waits for 'drain' otherwise, failing when no progress is made for `timeoutMs`.
   */
  write(data: Buffer | string, timeoutMs: number): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.socket.write(data)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const done = (err?: SmtpClientError) => {
        clearTimeout(timer);
        this.socket.off('drain', onDrain);
        this.socket.off('close', onClose);
        if (err) reject(err);
        else resolve();
      };
      const onDrain = () => done();
      const onClose = () => done(this.#failure ?? new SmtpClientError('connection', 'connection closed while sending'));
      const timer = setTimeout(() => {
        const e = new SmtpClientError('timeout', `timeout sending data (${Math.round(timeoutMs / 1000)} s without progress)`);
        this.fail(e);
        this.socket.destroy();
        done(e);
      }, timeoutMs);
      this.socket.on('drain', onDrain);
      this.socket.on('close', onClose);
    });
  }

  /** Marks the channel failed: pending and later reads reject with `err`. */
  fail(err: SmtpClientError): void {
    if (this.#failure) return;
    this.#failure = err;
    const w = this.#waiter;
    this.#waiter = null;
    w?.reject(err);
  }

  /** Stops listening to the socket (before wrapping it in TLS) and returns it. */
  detach(): Socket {
    this.socket.off('data', this.#onData);
    this.socket.off('error', this.#onError);
    this.socket.off('close', this.#onClose);
    // The TLS socket on top reports failures; an unheard 'error' here would crash the process.
    this.socket.on('error', () => {});
    return this.socket;
  }
}
