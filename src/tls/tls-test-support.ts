// Helpers for the TLS unit tests: a loopback server/client pair.

import { connect, createServer, type ConnectionOptions, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { listenerTlsOptions } from './server-context.js';
import { generateServerCertificate, type KeyAndCertificate } from './generate.js';

let serverCert: KeyAndCertificate | undefined;
export function testServerCertificate(): KeyAndCertificate {
  serverCert ??= generateServerCertificate('localhost');
  return serverCert;
}

export interface Connected {
  server: TLSSocket;
  client: TLSSocket;
  /** The client's session (for resumption), available after the handshake. */
  session: Promise<Buffer>;
}

/** Starts a listener with our options; connect() makes one connection and waits for both ends. */
export async function loopback(requestClientCertificate: boolean) {
  const { keyPem, certPem } = testServerCertificate();
  const server = createServer(listenerTlsOptions({ key: keyPem, cert: certPem, requestClientCertificate }));
  const accepted: ((s: TLSSocket) => void)[] = [];
  server.on('secureConnection', (s) => accepted.shift()?.(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const sockets: TLSSocket[] = [];
  const nextServerSocket = () => new Promise<TLSSocket>((resolve) => accepted.push(resolve));
  return {
    port,
    /** The next connection's server end, after its handshake (for foreign clients). */
    nextServerSocket,
    async connect(options: ConnectionOptions): Promise<Connected> {
      const serverSide = nextServerSocket();
      const client = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options });
      const session = new Promise<Buffer>((resolve) => client.once('session', resolve));
      await new Promise<void>((resolve, reject) => {
        client.once('secureConnect', resolve);
        client.once('error', reject);
      });
      const s = await serverSide;
      sockets.push(client, s);
      // TLS 1.3 tickets arrive after the handshake; a little traffic makes the client read them.
      s.write('x');
      await new Promise((resolve) => client.once('data', resolve));
      return { server: s, client, session };
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
