// A bounded async channel of Buffers: the connection pushes APPEND literal chunks as they arrive and
// store.stageBlob consumes them, so a message is streamed to disk and never held whole in memory.
// push() resolves once the consumer has room, which lets the connection pause the socket.

const MAX_QUEUED_BYTES = 256 * 1024;

export class ChunkChannel implements AsyncIterable<Buffer> {
  private queue: Buffer[] = [];
  private queued = 0;
  private ended = false;
  /** Set when the consumer stopped (error or done): pushes are dropped. */
  private abandoned = false;
  private wakeConsumer: (() => void) | null = null;
  private wakeProducer: (() => void) | null = null;

  async push(chunk: Buffer): Promise<void> {
    if (this.abandoned) return;
    this.queue.push(chunk);
    this.queued += chunk.length;
    this.wakeConsumer?.();
    while (this.queued > MAX_QUEUED_BYTES && !this.abandoned) {
      await new Promise<void>((r) => (this.wakeProducer = r));
    }
  }

  end(): void {
    this.ended = true;
    this.wakeConsumer?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    try {
      for (;;) {
        if (this.queue.length) {
          const c = this.queue.shift()!;
          this.queued -= c.length;
          if (this.queued <= MAX_QUEUED_BYTES) this.wake();
          yield c;
          continue;
        }
        if (this.ended) return;
        await new Promise<void>((r) => (this.wakeConsumer = r));
        this.wakeConsumer = null;
      }
    } finally {
      this.abandoned = true;
      this.queue = [];
      this.queued = 0;
      this.wake();
    }
  }

  private wake(): void {
    const w = this.wakeProducer;
    this.wakeProducer = null;
    w?.();
  }
}
