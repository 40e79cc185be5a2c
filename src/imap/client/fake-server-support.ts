// A scripted fake IMAP server for the client's unit tests: each connection runs `script`,
// which reads the client's lines and bytes and writes whatever it likes, byte for byte.

import { createServer, type AddressInfo, type Socket } from 'node:net';

export interface FakeSession {
  socket: Socket;
  /** Writes text as is (include your own CRLFs). */
  send(text: string | Buffer): void;
  /** The next line from the client, without CRLF. */
  line(): Promise<string>;
  /** Exactly n bytes from the client (literal data). */
  bytes(n: number): Promise<Buffer>;
  /** Resolves when the client closed the connection. */
  closed: Promise<void>;
}

export async function startFakeServer(script: (s: FakeSession) => Promise<void>): Promise<{ port: number; close(): Promise<void>; errors: unknown[] }> {
  const errors: unknown[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    let buf = Buffer.alloc(0);
    let wake: (() => void) | undefined;
    let ended = false;
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      wake?.();
    });
    const closed = new Promise<void>((resolve) =>
      socket.once('close', () => {
        ended = true;
        wake?.();
        resolve();
      }),
    );
    socket.on('error', () => {});
    const waitFor = async (ready: () => boolean): Promise<void> => {
      while (!ready()) {
        if (ended) throw new Error('client closed the connection');
        await new Promise<void>((resolve) => (wake = resolve));
      }
    };
    const session: FakeSession = {
      socket,
      send: (t) => socket.write(t),
      async line() {
        await waitFor(() => buf.includes('\r\n'));
        const i = buf.indexOf('\r\n');
        const l = buf.subarray(0, i).toString('utf8');
        buf = buf.subarray(i + 2);
        return l;
      },
      async bytes(n) {
        await waitFor(() => buf.length >= n);
        const b = buf.subarray(0, n);
        buf = buf.subarray(n);
        return Buffer.from(b);
      },
      closed,
    };
    script(session).catch((err) => errors.push(err));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    errors,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
