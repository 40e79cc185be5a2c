import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { ServerTls, type ListenerTls } from './server-tls.js';
import { RotatingTicketSecrets } from './ticket-keys.js';
import { testServerCertificate } from './tls-test-support.js';

/** A listener that accepts with `lt` and sends one byte; connect() returns both ends and the client's session. */
async function listen(lt: ListenerTls) {
  const accepted: ((t: TLSSocket) => void)[] = [];
  const server = createServer((raw) => lt.accept(raw, { onSecure: (t) => accepted.shift()?.(t) }));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const open: TLSSocket[] = [];
  return {
    async connect(o: ConnectionOptions): Promise<{ server: TLSSocket; client: TLSSocket; session: Promise<Buffer> }> {
      let take!: (t: TLSSocket) => void;
      const serverEnd = new Promise<TLSSocket>((r) => accepted.push((take = r)));
      const client = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...o });
      const session = new Promise<Buffer>((r) => client.once('session', r));
      try {
        await once(client, 'secureConnect');
      } catch (err) {
        accepted.splice(accepted.indexOf(take), 1);
        throw err;
      }
      const s = await serverEnd;
      open.push(client, s);
      // TLS 1.3 tickets come after the handshake: some traffic makes the client read them.
      s.write('x');
      await once(client, 'data');
      // A resumed TLS 1.2 session may bring no new one: `session` is awaited only where needed.
      return { server: s, client, session };
    },
    async close() {
      for (const s of open) s.destroy();
      lt.close();
      await new Promise((r) => server.close(r));
    },
  };
}

for (const maxVersion of ['TLSv1.2', 'TLSv1.3'] as const) {
  test(`${maxVersion}: sessions resume across listeners with the same certificate setting only, and not after a ticket key rotation`, async () => {
    const { keyPem, certPem } = testServerCertificate();
    const secrets = new RotatingTicketSecrets();
    const tls = new ServerTls(keyPem, certPem, secrets);
    // Another worker process fed by the same secret source (spec: keys shared, never on disk).
    const worker = new ServerTls(keyPem, certPem, secrets);
    const a = await listen(tls.listener({ requestClientCertificate: true }));
    const b = await listen(tls.listener({ requestClientCertificate: true }));
    const c = await listen(worker.listener({ requestClientCertificate: true }));
    const off = await listen(tls.listener({ requestClientCertificate: false }));
    try {
      const first = await a.connect({ maxVersion });
      const session = await first.session;
      assert.equal(first.server.isSessionReused(), false);
      assert.equal((await a.connect({ maxVersion, session })).server.isSessionReused(), true, 'same listener');
      assert.equal((await b.connect({ maxVersion, session })).server.isSessionReused(), true, 'same setting');
      assert.equal((await c.connect({ maxVersion, session })).server.isSessionReused(), true, 'another process, same secrets');
      assert.equal((await off.connect({ maxVersion, session })).server.isSessionReused(), false, 'other certificate setting');
      const offSession = await (await off.connect({ maxVersion })).session;
      assert.equal((await a.connect({ maxVersion, session: offSession })).server.isSessionReused(), false, 'and the other way round');

      secrets.rotate();
      assert.equal((await a.connect({ maxVersion, session })).server.isSessionReused(), false, 'old ticket key is gone');
      const fresh = await (await a.connect({ maxVersion })).session;
      assert.equal((await c.connect({ maxVersion, session: fresh })).server.isSessionReused(), true, 'every context follows the rotation');
    } finally {
      for (const l of [a, b, c, off]) await l.close();
      secrets.close();
    }
  });
}

test('suites: AEAD with forward secrecy only, chosen by the server; renegotiation refused', async () => {
  const { keyPem, certPem } = testServerCertificate();
  const tls = new ServerTls(keyPem, certPem);
  const l = await listen(tls.listener({ requestClientCertificate: false }));
  try {
    // The client prefers ChaCha20 and offers CBC too: the server picks its own first AES-GCM suite.
    const s = await l.connect({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES256-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256' });
    assert.match(s.server.getCipher().name, /^ECDHE-(ECDSA|RSA)-AES128-GCM-SHA256$/);
    await assert.rejects(l.connect({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:AES128-GCM-SHA256:ECDHE-ECDSA-AES128-CCM' }), 'CBC, CCM, static RSA');

    // Client-initiated renegotiation (TLS 1.2): refused with a no_renegotiation alert.
    const { client } = await l.connect({ maxVersion: 'TLSv1.2' });
    const err = await new Promise<Error | null>((resolve) => {
      client.once('error', resolve);
      client.renegotiate({ rejectUnauthorized: false }, resolve);
    });
    assert.equal((err as NodeJS.ErrnoException | null)?.code, 'ERR_SSL_NO_RENEGOTIATION');
  } finally {
    await l.close();
    tls.close();
  }
});
