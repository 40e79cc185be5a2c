// connectionsPerProcess finds the connections a process holds on a local port, and only those.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { test } from 'node:test';
import { connectionsPerProcess, spreadText } from './proc-sockets.js';

test('counts the accepted connections on the port, not the client ends or other ports', async (t) => {
  const accepted: Socket[] = [];
  const server = createServer((s) => accepted.push(s));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const other = createServer(() => undefined);
  other.listen(0, '127.0.0.1');
  await once(other, 'listening');
  const port = (server.address() as AddressInfo).port;
  const clients = await Promise.all([0, 1, 2].map(async () => {
    const c = connect(port, '127.0.0.1');
    await once(c, 'connect');
    return c;
  }));
  const stray = connect((other.address() as AddressInfo).port, '127.0.0.1');
  await once(stray, 'connect');
  t.after(() => {
    for (const s of [...clients, stray, ...accepted]) s.destroy();
    server.close();
    other.close();
  });
  while (accepted.length < 3) await new Promise((r) => setTimeout(r, 10));
  // This process holds both ends; only the three server-side sockets have `port` as local port.
  const counts = connectionsPerProcess([process.pid, 2 ** 22 + 1], port);
  assert.equal(counts.get(process.pid), 3);
  assert.equal(counts.get(2 ** 22 + 1), 0, 'a process that does not exist holds none');
  assert.equal(spreadText(counts), `${process.pid}:3`);
  assert.equal(spreadText(connectionsPerProcess([process.pid], 1)), 'none');
});
