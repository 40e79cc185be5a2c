// Web sessions live in the store: two whole servers on one data directory (as two worker processes
// of `postern serve`) honour each other's sessions, a restart logs nobody out, and a password
// change made through one ends the account's other sessions on every server.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { ADDRESS, PASSWORD, startTestServer, type TestServer } from '../e2e/server-harness.js';
import { WebClient } from './harness.js';

/** A client of `srv` that carries the same cookie (the same browser, another server). */
async function sameBrowser(c: WebClient, srv: TestServer): Promise<WebClient> {
  const other = new WebClient(srv.ports.http!, false);
  other.cookies = new Map(c.cookies);
  other.csrf = c.csrf;
  return other;
}

test('web sessions: shared by two servers on one store, kept across a restart, ended everywhere by a password change', { timeout: 60_000 }, async () => {
  const first = await startTestServer({ services: ['http'] });
  const dir = first.dir;
  let second: TestServer | null = null;
  let third: TestServer | null = null;
  try {
    const browser = new WebClient(first.ports.http!, false);
    await browser.loginOk(ADDRESS, PASSWORD);
    assert.equal((await browser.request('GET', '/account/api/session')).status, 200);

    // A second server on the same data directory: the cookie made by the first works there.
    second = await startTestServer({ dir, services: ['http'] });
    const onSecond = await sameBrowser(browser, second);
    const s = await onSecond.request('GET', '/account/api/session');
    assert.equal(s.status, 200, s.text);
    assert.equal(s.json.address, ADDRESS);
    assert.equal(s.json.csrfToken, browser.csrf);
    // Another browser logs in on the second server.
    const laptop = new WebClient(second.ports.http!, false);
    await laptop.loginOk(ADDRESS, PASSWORD);

    // The first server restarts (stops, and a new one starts on the same directory): no one is
    // logged out.
    await first.server.stop();
    third = await startTestServer({ dir, services: ['http'] });
    const afterRestart = await sameBrowser(browser, third);
    assert.equal((await afterRestart.request('GET', '/account/api/session')).status, 200, 'the cookie survives the restart');
    assert.equal((await (await sameBrowser(laptop, third)).request('GET', '/account/api/session')).status, 200);

    // A password change through the restarted server ends the laptop's session on the second
    // server too; the session that made the change goes on, on both.
    const change = await afterRestart.request('POST', '/account/api/password', { json: { oldPassword: PASSWORD, newPassword: 'a-new-password-9' } });
    assert.equal(change.status, 204, change.text);
    const ended = await laptop.request('GET', '/account/api/session');
    assert.equal(ended.status, 401);
    assert.equal(ended.json.error.code, 'notloggedin');
    assert.equal((await onSecond.request('GET', '/account/api/session')).status, 200, 'the changing session carries on elsewhere');
    assert.equal((await afterRestart.request('GET', '/account/api/session')).status, 200);

    // Logging out on one server ends the session on the others.
    assert.equal((await onSecond.request('POST', '/account/api/logout')).status, 204);
    assert.equal((await afterRestart.request('GET', '/account/api/session')).status, 401);
  } finally {
    await second?.server.stop();
    await third?.server.stop();
    await first.server.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
});
