// Web listener hardening (issue 15): HSTS on HTTPS, Host checked on HTTPS as on loopback HTTP,
// and an Origin must match in scheme as well as host and port.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ALICE, ALICE_PASSWORD, startWebHarness, type WebHarness } from './harness.js';

let h: WebHarness;

before(async () => {
  h = await startWebHarness();
});

after(async () => {
  await h.close();
});

test('HSTS on every HTTPS response, never on plain HTTP', async () => {
  const https = h.client({ tls: true });
  for (const path of ['/account/', '/account/api/session', '/no/such/page']) {
    const r = await https.request('GET', path);
    assert.equal(r.headers['strict-transport-security'], 'max-age=31536000', path);
  }
  assert.equal((await h.client().request('GET', '/account/')).headers['strict-transport-security'], undefined);
});

test('HTTPS answers only our host names and addresses: 421 otherwise', async () => {
  const c = h.client({ tls: true });
  const get = async (host: string, path = '/account/') => (await c.request('GET', path, { headers: { host } })).status;
  assert.equal(await get(`localhost:${h.httpsPort}`), 200, 'the configured host name');
  assert.equal(await get(`LOCALHOST.:${h.httpsPort}`), 200, 'case and a trailing dot do not matter');
  assert.equal(await get(`127.0.0.1:${h.httpsPort}`), 200, 'the address we listen on');
  assert.equal(await get(`evil.example:${h.httpsPort}`), 421);
  assert.equal(await get('evil.example'), 421);
  assert.equal(await get(`192.0.2.7:${h.httpsPort}`), 421, 'an address that is not ours');
  assert.equal(await get(`localhost:${h.httpsPort}@evil.example`), 421, 'malformed');
  const r = await c.request('GET', '/account/', { headers: { host: 'evil.example' } });
  assert.equal(r.json.error.code, 'host');

  // Thunderbird's autoconfig lookups name the mail domain: answered there, and only there.
  assert.equal(await get('autoconfig.example.org', '/mail/config-v1.1.xml'), 200);
  assert.equal(await get('example.org', '/.well-known/autoconfig/mail/config-v1.1.xml'), 200);
  assert.equal(await get('autoconfig.example.org', '/account/'), 421);
  // Another domain's autoconfig or MTA-STS name reaches only those public files, which answer 404
  // (issue 17); everything else under such a name is 421.
  assert.equal(await get('autoconfig.evil.example', '/mail/config-v1.1.xml'), 404, 'not one of our domains');
  assert.equal(await get('evil.example', '/.well-known/autoconfig/mail/config-v1.1.xml'), 404);
  assert.equal(await get('mta-sts.evil.example', '/.well-known/mta-sts.txt'), 404);
  assert.equal(await get('mta-sts.example.org', '/account/'), 421);
});

test('Origin must match scheme, host and port: http:// pages are refused on the HTTPS listener', async () => {
  const https = h.client({ tls: true });
  const login = (c: typeof https, origin: string) => c.request('POST', '/account/api/login', { json: { address: ALICE, password: ALICE_PASSWORD }, headers: { origin } });
  const refused = await login(https, `http://127.0.0.1:${h.httpsPort}`);
  assert.equal(refused.status, 403);
  assert.equal(refused.json.error.code, 'origin');
  assert.equal((await login(https, `https://127.0.0.1:${h.httpsPort + 1}`)).status, 403, 'another port');
  assert.equal((await login(https, `https://127.0.0.1:${h.httpsPort}`)).status, 200);

  // The loopback HTTP listener (localserve) keeps working, for its own http:// origin only.
  const http = h.client();
  assert.equal((await login(http, `https://127.0.0.1:${h.httpPort}`)).status, 403);
  assert.equal((await login(http, `http://127.0.0.1:${h.httpPort}`)).status, 200);
});
