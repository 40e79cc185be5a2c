// One burst of response writes (a command's untagged lines, FETCH batches and tagged reply) leaves
// the process as one socket write: the socket is corked at the first write of the burst and
// uncorked when the burst ends (the connection calls flush() when a command is done and before it
// waits for the client), so Writable hands every chunk to the handle in one writev.
//
// What one writev costs in Node 20:
// - Plain TCP: one writev(2) syscall of all chunks (uv_try_write; libuv queues what the kernel
//   does not take).
// - TLS: TLSWrap::DoWrite copies the chunks into one buffer and calls SSL_write once, so the
//   burst becomes one TLS record per 16 KiB of plaintext instead of one per chunk (each record
//   costs a 22-byte header and tag, a cipher call, and the peer one decryption); EncOut then
//   writes all the records in one write/writev on the TCP socket.
// Without this, each send() was its own SSL_write, its own record and its own syscall, and the
// peer woke up for each.
//
// Back-pressure is Writable's own: while corked, write() still returns false once the buffered
// bytes reach the high-water mark. The 'drain' that the caller then waits for comes only after
// the buffer is written, so write() flushes at once in that case: memory stays bounded by the
// high-water mark as without corking, and the wait is the peer's (the idle timer applies).
import type { Socket } from 'node:net';

export class CoalescedOutput {
  /** We corked the socket and have not uncorked it yet. */
  private corked = false;
  private flushQueued = false;

  constructor(private readonly sock: Socket) {}

  /**
   * Writes `data` into the current burst. `soon`: no flush point is coming (a write made while
   * the connection waits for the client, such as an IDLE update), so the burst ends after this
   * turn of the event loop (setImmediate runs right after the poll phase that delivered the
   * change). Returns false when the caller must wait for 'drain'; the burst is flushed then.
   */
  write(data: Buffer | string, soon: boolean): boolean {
    const s = this.sock;
    if (!this.corked) {
      s.cork();
      this.corked = true;
    }
    if (!s.write(data)) {
      this.flush();
      return false;
    }
    if (soon) this.flushSoon();
    return true;
  }

  /** Ends the burst: what was written goes to the socket now (one writev). */
  flush(): void {
    if (!this.corked) return;
    this.corked = false;
    this.sock.uncork();
  }

  private flushSoon(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    setImmediate(() => {
      this.flushQueued = false;
      this.flush();
    });
  }
}
