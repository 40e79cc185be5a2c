// Binding a listener: resolves with the bound port (port 0 picks a free one), rejects on a bind
// error (EADDRINUSE, EACCES) so that `postern serve` fails with that error instead of running
// without the listener.

import type { Server } from 'node:net';

export async function listen(server: Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  return typeof addr === 'object' && addr ? addr.port : port;
}
