import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { channelBindingOf } from './channel-binding.js';
import { loopback } from './tls-test-support.js';
import { createSaslClient } from '../sasl/client.js';
import { createSaslServer } from '../sasl/server.js';
import { credentialsFor, runExchange, testContext } from '../sasl/test-support.js';

for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
  test(`${version}: both ends compute the same channel binding, fresh and resumed`, async () => {
    const lb = await loopback(true);
    try {
      const first = await lb.connect({ minVersion: version, maxVersion: version });
      const s1 = channelBindingOf(first.server, true);
      const c1 = channelBindingOf(first.client, false);
      assert.equal(s1?.type, version === 'TLSv1.3' ? 'tls-exporter' : 'tls-unique');
      assert.deepEqual(s1, c1);
      assert.equal(s1!.data.length, version === 'TLSv1.3' ? 32 : 12);
      assert.equal(first.client.isSessionReused(), false);

      const second = await lb.connect({ minVersion: version, maxVersion: version, session: await first.session });
      assert.equal(second.client.isSessionReused(), true, 'resumed');
      assert.equal(second.server.isSessionReused(), true, 'resumed on the server too');
      const s2 = channelBindingOf(second.server, true);
      assert.deepEqual(s2, channelBindingOf(second.client, false));
      assert.notDeepEqual(s2!.data, s1!.data, 'each connection binds differently');

      // SCRAM-SHA-256-PLUS over the real binding data succeeds; another connection's fails.
      const creds = { alice: await credentialsFor('pw12345678') };
      const ok = await runExchange(
        createSaslClient('SCRAM-SHA-256-PLUS', { username: 'alice', password: 'pw12345678', channelBinding: c1 }),
        createSaslServer('SCRAM-SHA-256-PLUS', testContext(creds, { channelBinding: s1 })),
      );
      assert.equal(ok.kind, 'success');
      const mitm = await runExchange(
        createSaslClient('SCRAM-SHA-256-PLUS', { username: 'alice', password: 'pw12345678', channelBinding: c1 }),
        createSaslServer('SCRAM-SHA-256-PLUS', testContext(creds, { channelBinding: s2 })),
      );
      assert.equal(mitm.kind === 'failure' && mitm.reason, 'channel-binding-mismatch');
    } finally {
      await lb.close();
    }
  });
}

test('TLS 1.3 tls-exporter equals what an OpenSSL client exports (no context = empty context)', async (t) => {
  const lb = await loopback(false);
  try {
    // openssl s_client -keymatexport exports without a context; RFC 8446 7.5 makes that equal to an empty one.
    const port = lb.port;
    const serverSide = lb.nextServerSocket();
    const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-tls1_3', '-keymatexport', 'EXPORTER-Channel-Binding', '-keymatexportlen', '32'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const serverSocket = await serverSide;
    const serverCb = channelBindingOf(serverSocket, true);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    await new Promise((resolve) => setTimeout(resolve, 300));
    serverSocket.destroy();
    child.stdin.end();
    await new Promise((resolve) => child.on('close', resolve));
    const m = /Keying material: ([0-9A-F]+)/.exec(out);
    if (m === null) return t.skip('openssl s_client did not print keying material');
    assert.equal(m[1].toLowerCase(), serverCb!.data.toString('hex'));
  } finally {
    await lb.close();
  }
});
