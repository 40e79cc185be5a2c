// Sending the message content: DATA with dot-stuffing (RFC 5321 4.1.1.4, 4.5.2) or BDAT chunks
// (RFC 3030). Content is streamed; nothing but one chunk is held in memory.

import type { Reply } from '../proto/reply.js';
import { DotStuffer } from '../proto/dot-stuff.js';
import { SmtpClientError } from './errors.js';
import { hasEightBit, LineEndingNormalizer } from './line-endings.js';
import type { MessageSource } from './options.js';
import type { ReplyChannel } from './reply-channel.js';

/** BDAT chunk size: large enough that the command overhead does not matter, small enough to
 * keep memory flat. */
export const BDAT_CHUNK_SIZE = 256 * 1024;

export interface TransferOptions {
  /** No write progress / final reply wait, ms. */
  dataTimeout: number;
  /** The server lacks 8BITMIME: fail (closing the connection) if an 8-bit byte shows up. */
  refuseEightBit: boolean;
}

/** The source as Buffers. */
export async function* chunksOf(src: MessageSource): AsyncIterable<Buffer> {
  if (typeof src === 'string') yield Buffer.from(src, 'utf8');
  else if (src instanceof Uint8Array) yield Buffer.isBuffer(src) ? src : Buffer.from(src.buffer, src.byteOffset, src.byteLength);
  else {
    for await (const c of src) {
      yield typeof c === 'string' ? Buffer.from(c, 'utf8') : Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
    }
  }
}

function eightBitFound(ch: ReplyChannel): never {
  // RFC 5321 4.1.1.4: a connection closed before the end of data aborts the transaction, so
  // closing is the only safe way out of a half-sent message.
  const err = new SmtpClientError('capability', 'message has 8-bit data but the server does not support 8BITMIME (RFC 6152)', { permanent: true, extension: '8BITMIME' });
  ch.fail(err);
  ch.socket.destroy();
  throw err;
}

/** After a 354: sends the dot-stuffed content and the final dot; returns the server's reply. */
export async function transferData(ch: ReplyChannel, src: MessageSource, o: TransferOptions): Promise<Reply> {
  const stuffer = new DotStuffer();
  for await (const chunk of chunksOf(src)) {
    if (o.refuseEightBit && hasEightBit(chunk)) eightBitFound(ch);
    const out = stuffer.push(chunk);
    if (out.length) await ch.write(out, o.dataTimeout);
  }
  await ch.write(stuffer.end(), o.dataTimeout);
  return ch.read(o.dataTimeout, 'DATA');
}

/**
 * Sends the content as BDAT chunks, the last one with LAST. With pipelining the chunks go out
 * without waiting (RFC 3030 4.2 allows it) and the replies are read at the end. Returns the
 * first non-2xx reply, else the reply to the last chunk.
 */
export async function transferBdat(ch: ReplyChannel, src: MessageSource, o: TransferOptions & { pipelining: boolean }): Promise<Reply> {
  const norm = new LineEndingNormalizer();
  let pending: Buffer[] = [];
  let pendingSize = 0;
  let outstanding = 0;
  let failed: Reply | undefined;
  let lastReply: Reply | undefined;

  const readOne = async () => {
    const r = await ch.read(o.dataTimeout, 'BDAT');
    outstanding--;
    if (r.code >= 300 && !failed) failed = r;
    lastReply = r;
  };
  const sendChunk = async (last: boolean) => {
    const data = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingSize);
    pending = [];
    pendingSize = 0;
    try {
      await ch.write(Buffer.concat([Buffer.from(`BDAT ${data.length}${last ? ' LAST' : ''}\r\n`), data]), o.dataTimeout);
    } catch (err) {
      // The server may have refused and closed; its reply explains better than a reset.
      if (outstanding > 0) {
        const r = await ch.read(1, 'BDAT').catch(() => undefined);
        if (r && r.code >= 400) return r;
      }
      throw err;
    }
    outstanding++;
    if (!o.pipelining) await readOne();
    return undefined;
  };

  for await (const chunk of chunksOf(src)) {
    if (o.refuseEightBit && hasEightBit(chunk)) eightBitFound(ch);
    const data = norm.push(chunk);
    if (data.length === 0) continue;
    pending.push(data);
    pendingSize += data.length;
    if (pendingSize >= BDAT_CHUNK_SIZE) {
      const early = await sendChunk(false);
      if (early) return early;
      // Without pipelining a refused chunk ends the attempt (later chunks would get 503).
      if (failed && !o.pipelining) return failed;
    }
  }
  const tail = norm.end();
  if (tail.length) {
    pending.push(tail);
    pendingSize += tail.length;
  }
  const early = await sendChunk(true);
  if (early) return early;
  while (outstanding > 0) await readOne();
  return failed ?? lastReply!;
}
