// Password hashing at its queue limit (one hashing thread, no waiting room): a login that cannot be
// checked now is refused at once with a temporary failure, IMAP `NO [UNAVAILABLE]`, SMTP
// `454 4.7.0`, web 503 with Retry-After, not counted as a failed login; a login the
// verified-credential cache knows still gets in while the hashing thread is busy.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, ADDRESS, PASSWORD, type TestServer } from '../e2e/server-harness.js';
import { WebClient } from '../web/harness.js';
import { b64, imaps, Smtp } from './support.js';

let srv: TestServer;
const FLOOD = 4;

before(async () => {
  srv = await startTestServer({
    services: ['imaps', 'submissions', 'http'],
    config: { limits: { passwords: { hashWorkers: 1, hashQueue: 0 } } },
  });
});

after(async () => {
  await srv.stop();
});

test('IMAP: concurrent wrong passwords get NO [UNAVAILABLE] beyond the hashing capacity; a cached login still succeeds', async () => {
  const { c: alice } = await imaps(srv.ports.imaps!);
  await alice.ok(`LOGIN ${ADDRESS} ${PASSWORD}`); // now cached
  await alice.ok('LOGOUT').catch(() => undefined);
  alice.destroy();
  const conns = await Promise.all(Array.from({ length: FLOOD }, () => imaps(srv.ports.imaps!)));
  const { c: cached } = await imaps(srv.ports.imaps!);
  const flood = Promise.all(conns.map(({ c }, i) => c.cmd(`LOGIN ${ADDRESS} "wrong ${i}"`)));
  const again = await cached.cmd(`LOGIN ${ADDRESS} ${PASSWORD}`); // while the thread is taken
  const replies = await flood;
  const texts = replies.map((r) => `${r.status} ${r.text}`);
  assert.ok(texts.every((t) => /^NO \[(UNAVAILABLE|AUTHENTICATIONFAILED)\]/.test(t)), texts.join('\n'));
  assert.ok(texts.some((t) => t.startsWith('NO [UNAVAILABLE]')), `no temporary failure among\n${texts.join('\n')}`);
  assert.ok(texts.some((t) => t.startsWith('NO [AUTHENTICATIONFAILED]')), 'the one that got the thread was checked');
  assert.equal(again.status, 'OK', `cached login: ${again.text}`);
  for (const { c } of conns) c.destroy();
  cached.destroy();
  // Not failed logins: the address is not closer to the failed-auth limit (only the checked one counted).
  const attempts = await srv.server.ctx.store.listLoginAttempts((await srv.server.ctx.store.getAccount('alice'))!.id, 50);
  assert.equal(attempts.filter((a) => a.result === 'badcreds').length, texts.filter((t) => t.startsWith('NO [AUTHENTICATIONFAILED]')).length);
});

test('SMTP: AUTH PLAIN beyond the hashing capacity gets 454 4.7.0', async () => {
  const conns = await Promise.all(Array.from({ length: FLOOD }, async () => {
    const s = await Smtp.connect(srv.ports.submissions!, { tls: true });
    await s.expect(220);
    await s.ehlo();
    return s;
  }));
  const replies = await Promise.all(conns.map((s, i) => s.cmd(`AUTH PLAIN ${b64(`\0${ADDRESS}\0wrong ${i}`)}`)));
  const codes = replies.map((r) => `${r.code} ${r.enhanced}`);
  assert.ok(codes.every((c) => c === '454 4.7.0' || c === '535 5.7.8'), codes.join(', '));
  assert.ok(codes.includes('454 4.7.0'), codes.join(', '));
  for (const s of conns) s.close();
});

test('web: login beyond the hashing capacity gets 503 unavailable with Retry-After', async () => {
  const replies = await Promise.all(Array.from({ length: FLOOD }, (_, i) => new WebClient(srv.ports.http!, false).login(ADDRESS, `wrong ${i}`)));
  const statuses = replies.map((r) => r.status);
  assert.ok(statuses.every((s) => s === 503 || s === 401), statuses.join(', '));
  const busy = replies.find((r) => r.status === 503);
  assert.ok(busy, statuses.join(', '));
  assert.equal(busy.json.error.code, 'unavailable');
  assert.equal(busy.headers['retry-after'], '1');
});
