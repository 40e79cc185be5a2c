// Spec 3.4: a brute-force run of wrong passwords (IMAP LOGIN over TLS) from one address gets that
// address refused on every listener (`* BYE`, `421 4.7.0`), while another address still logs in.
// The server listens on 127.0.0.1; on Linux any 127.0.0.0/8 source address reaches it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as netConnect } from 'node:net';
import { startTestServer, ADDRESS, PASSWORD, type TestServer } from '../e2e/server-harness.js';
import { Client } from '../imap/harness.js';
import { b64, imaps, Smtp } from './support.js';

async function imapPlain(port: number, localAddress: string): Promise<{ c: Client; greeting: string }> {
  const sock = netConnect({ host: '127.0.0.1', port, localAddress });
  await once(sock, 'connect');
  const c = new Client(sock);
  return { c, greeting: await c.readLine() };
}

let srv: TestServer;

before(async () => {
  srv = await startTestServer({ services: ['imap', 'imaps', 'submission', 'submissions'] });
});

after(async () => {
  await srv.stop();
});

test('50 wrong passwords from 127.0.0.1: new connections from it are refused, 127.0.0.2 still gets in', async () => {
  const attacker = '127.0.0.1';
  let failures = 0;
  let refusedEarly: string | undefined;
  let c: Client | undefined;
  while (failures < 50) {
    if (!c || c.closed) {
      // The server may close a connection after several failures: reconnect, as an attacker would.
      const conn = await imaps(srv.ports.imaps!, { localAddress: attacker });
      if (/^\* BYE/.test(conn.greeting)) {
        refusedEarly = conn.greeting;
        conn.c.destroy();
        break;
      }
      assert.match(conn.greeting, /^\* OK /);
      c = conn.c;
    }
    let r;
    try {
      r = await c.cmd(`LOGIN ${ADDRESS} "guess ${failures}"`);
    } catch {
      continue; // closed while we asked: reconnect
    }
    assert.equal(r.status, 'NO', `guess ${failures}: ${r.status} ${r.text}`);
    failures++;
  }
  // Not so eager that a few typos lock a user out (spec 3.4: e.g. 10 per minute per address).
  assert.ok(failures >= 10, `refused after only ${failures} failures: ${refusedEarly}`);
  // Over the budget even the right password does not get in from this address.
  if (c && !c.closed) {
    await c.no(`LOGIN ${ADDRESS} ${PASSWORD}`);
    c.destroy();
  }

  // Every listener refuses 127.0.0.1 now, before any authentication.
  const refused = await imaps(srv.ports.imaps!, { localAddress: attacker });
  assert.match(refused.greeting, /^\* BYE .*too many auth(entication)? failures/i);
  await refused.c.expectClosed();
  const plain = await Smtp.connect(srv.ports.submission!, { localAddress: attacker });
  const bye = await plain.expect(421, '4.7.0');
  assert.match(bye.lines.join(' '), /too many auth/i);
  await plain.waitClosed();
  const implicit = await Smtp.connect(srv.ports.submissions!, { tls: true, localAddress: attacker });
  await implicit.expect(421, '4.7.0');
  implicit.close();
  const raw = await imapPlain(srv.ports.imap!, attacker);
  assert.match(raw.greeting, /^\* BYE /);
  raw.c.destroy();

  // Another address, even with the right password, is not affected.
  const other = '127.0.0.2';
  const { c: good, greeting } = await imaps(srv.ports.imaps!, { localAddress: other });
  assert.match(greeting, /^\* OK /);
  await good.ok(`LOGIN ${ADDRESS} ${PASSWORD}`);
  await good.ok('SELECT INBOX');
  good.destroy();
  const s = await Smtp.connect(srv.ports.submission!, { localAddress: other });
  await s.expect(220);
  await s.ehlo();
  await s.startTls();
  await s.ehlo();
  await s.cmd(`AUTH PLAIN ${b64(`\0${ADDRESS}\0${PASSWORD}`)}`, 235, '2.7.0');
  s.close();
});
