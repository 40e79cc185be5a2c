// Pull-based reading from the connection's socket: the session asks for the next chunk when it
// needs one, with a deadline (absolute, so slow input cannot stretch it chunk by chunk). Chunks that arrive meanwhile are queued up to INPUT_HIGH_WATER, then
// the socket is paused, so a client that pipelines without reading replies cannot grow our memory.

import type { Socket } from 'node:net';
import type { Reply } from '../proto/index.js';
import { DATA_PROGRESS_BLOCK, INPUT_HIGH_WATER } from './limits.js';

/** Ends the session: thrown by reads after a timeout, shutdown, revocation or the peer leaving.
 * `reply` is sent (if the socket still works) before closing. */
export class SessionEnd extends Error {
  constructor(
    readonly why: 'closed' | 'timeout' | 'shutdown' | 'revoked' | 'protocol',
    readonly reply?: Reply,
  ) {
    super(`session ended: ${why}`);
    this.name = 'SessionEnd';
  }
}

export class SocketInput {
  #sock: Socket;
  #queue: Buffer[] = [];
  #queued = 0;
  #eof = false;
  #abort: SessionEnd | null = null;
  #waiter: { resolve: () => void; timer: NodeJS.Timeout | null } | null = null;
  readonly #onData = (b: Buffer): void => {
    this.#queue.push(b);
    this.#queued += b.length;
    if (this.#queued > INPUT_HIGH_WATER) this.#sock.pause();
    this.#wake();
  };
  readonly #onEnd = (): void => {
    this.#eof = true;
    this.#wake();
  };

  constructor(sock: Socket) {
    this.#sock = sock;
    this.#attach(sock);
  }

  #attach(sock: Socket): void {
    sock.on('data', this.#onData);
    sock.on('end', this.#onEnd);
    sock.on('close', this.#onEnd);
    sock.on('error', this.#onEnd);
  }

  #detach(sock: Socket): void {
    sock.off('data', this.#onData);
    sock.off('end', this.#onEnd);
    sock.off('close', this.#onEnd);
    sock.off('error', this.#onEnd);
  }

  /** STARTTLS: stop reading the plain socket, drop what it sent after the command (RFC 3207 6:
   * plaintext injection), and read the TLS socket from now on. */
  switchTo(sock: Socket): void {
    this.#detach(this.#sock);
    this.#queue = [];
    this.#queued = 0;
    this.#eof = false;
    this.#sock = sock;
    this.#attach(sock);
  }

  #wake(): void {
    const w = this.#waiter;
    if (!w) return;
    this.#waiter = null;
    if (w.timer) clearTimeout(w.timer);
    w.resolve();
  }

  /** Ends pending and future reads with `end` (the first one wins). */
  abort(end: SessionEnd): void {
    this.#abort ??= end;
    this.#wake();
  }

  get aborted(): SessionEnd | null {
    return this.#abort;
  }

  /** The next chunk of input, waiting until `deadline` (a deadlineAfter() value) at most.
   * Queued input is returned even past the deadline. Throws SessionEnd. */
  async read(deadline: number): Promise<Buffer> {
    for (;;) {
      if (this.#abort) throw this.#abort;
      const b = this.#queue.shift();
      if (b) {
        this.#queued -= b.length;
        if (this.#queued <= INPUT_HIGH_WATER && this.#sock.isPaused()) this.#sock.resume();
        return b;
      }
      if (this.#eof) throw new SessionEnd('closed');
      const left = deadline - performance.now();
      if (left <= 0) throw new SessionEnd('timeout');
      await new Promise<void>((resolve) => {
        const timer = Number.isFinite(left) ? setTimeout(() => this.#wake(), Math.ceil(left)) : null;
        this.#waiter = { resolve, timer };
      });
    }
  }
}

/** A deadline `ms` from now on the monotonic clock; none (Infinity) for ms <= 0. */
export function deadlineAfter(ms: number): number {
  return ms > 0 ? performance.now() + ms : Infinity;
}

/** Deadline for message data (DATA, a BDAT chunk): `ms` for each DATA_PROGRESS_BLOCK bytes.
 * An idle timer restarted by every chunk never fires for a client that dribbles a byte at a time;
 * a single deadline for the whole message would cut a big upload on a slow link. So the clock
 * restarts only after real progress (RFC 5321 4.5.3.2: timeouts per data block, not per byte). */
export class ProgressDeadline {
  readonly #ms: number;
  readonly #block: number;
  #at: number;
  #progress = 0;

  constructor(ms: number, block = DATA_PROGRESS_BLOCK) {
    this.#ms = ms;
    this.#block = block;
    this.#at = deadlineAfter(ms);
  }

  /** The current deadline, for SocketInput.read(). */
  get at(): number {
    return this.#at;
  }

  /** Counts `n` bytes received; a completed block restarts the clock. */
  advance(n: number): void {
    this.#progress += n;
    if (this.#progress < this.#block) return;
    this.#progress %= this.#block;
    this.#at = deadlineAfter(this.#ms);
  }
}
