// Test support: a socket stand-in for the harness Client that turns on raw deflate (RFC 4978) when
// asked, with node:zlib as the client's compressor, and counts the bytes on the wire.
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { constants, createDeflateRaw, createInflateRaw, type DeflateRaw, type InflateRaw } from 'node:zlib';
import { Client, type Harness } from './harness.js';

export class DeflateSocket extends EventEmitter {
  private deflate: DeflateRaw | null = null;
  private inflate: InflateRaw | null = null;
  /** Bytes read from and written to the socket (compressed ones once compression is on). */
  wireIn = 0;
  wireOut = 0;
  /** Bytes after inflation (what the IMAP client sees). */
  plainIn = 0;
  inflateError: Error | null = null;

  constructor(readonly sock: Socket) {
    super();
    sock.on('data', (d: Buffer) => {
      this.wireIn += d.length;
      if (this.inflate) this.inflate.write(d);
      else this.deliver(d);
    });
    sock.on('close', () => {
      // What the server sent last (a BYE) may still be inflating.
      if (this.inflate && !this.inflate.destroyed) this.inflate.flush(() => this.emit('close'));
      else this.emit('close');
    });
    sock.on('error', (e) => this.emit('error', e));
  }

  private deliver(d: Buffer): void {
    this.plainIn += d.length;
    this.emit('data', d);
  }

  /** Everything after this is compressed both ways (call once the tagged OK was read). */
  enable(): void {
    this.deflate = createDeflateRaw({ windowBits: 15 });
    this.deflate.on('data', (c: Buffer) => {
      this.wireOut += c.length;
      this.sock.write(c);
    });
    this.inflate = createInflateRaw({ windowBits: 15 });
    this.inflate.on('data', (d: Buffer) => this.deliver(d));
    this.inflate.on('error', (e) => {
      this.inflateError = e;
      this.sock.destroy();
    });
  }

  get compressing(): boolean {
    return this.deflate !== null;
  }

  /** Writes compressed bytes as they are (a test that builds its own deflate stream). */
  writeRaw(d: Buffer): void {
    this.wireOut += d.length;
    this.sock.write(d);
  }

  write(data: string | Buffer): boolean {
    if (!this.deflate) {
      this.wireOut += Buffer.byteLength(data);
      return this.sock.write(data);
    }
    // One flush per write, as a client does per command.
    this.deflate.write(data);
    this.deflate.flush(constants.Z_SYNC_FLUSH);
    return true;
  }

  pause(): void {
    this.sock.pause();
  }

  resume(): void {
    this.sock.resume();
  }

  destroy(): void {
    this.sock.destroy();
    this.deflate?.close();
    this.inflate?.close();
  }
}

/** A client over a DeflateSocket on implicit TLS to any server (the greeting read). */
export async function deflateClientAt(port: number): Promise<{ c: Client; z: DeflateSocket }> {
  const sock = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, servername: 'localhost' });
  await new Promise<void>((resolve, reject) => {
    sock.once('secureConnect', () => resolve());
    sock.once('error', reject);
  });
  const z = new DeflateSocket(sock);
  const c = new Client(z as unknown as Socket);
  const greeting = await c.readLine();
  if (!greeting.startsWith('* OK')) throw new Error(greeting);
  return { c, z };
}

/** A harness client over a DeflateSocket (logged in over implicit TLS unless `login` is false). */
export async function deflateClient(h: Harness, login = true): Promise<{ c: Client; z: DeflateSocket }> {
  const plain = await h.client({ login });
  // The harness client listens on the real socket; move it onto the stand-in.
  plain.sock.removeAllListeners('data');
  plain.sock.removeAllListeners('close');
  const z = new DeflateSocket(plain.sock);
  const c = new Client(z as unknown as Socket);
  return { c, z };
}

/** COMPRESS DEFLATE, then compression on for the client too. */
export async function startCompress(c: Client, z: DeflateSocket): Promise<void> {
  const r = await c.cmd('COMPRESS DEFLATE');
  if (r.status !== 'OK') throw new Error(`COMPRESS -> ${r.status} ${r.text}`);
  z.enable();
}
