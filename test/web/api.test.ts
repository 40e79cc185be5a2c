// The JSON API of the account web interface (docs/web-api.md), over real HTTP and HTTPS: sessions,
// CSRF, the failed-auth limiter, TLS public keys with every refusal, password change, login
// attempts and client settings.

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { deriveCredentials } from '../../src/auth/password.js';
import { FailureLimiter } from '../../src/auth/rate-limit.js';
import type { AggregateReport } from '../../src/dmarc/aggregate-report.js';
import { takeReport } from '../../src/dmarc/report-intake.js';
import { reportMessage } from '../../src/dmarc/report-sender.js';
import { silentLogger } from '../../src/log/logger.js';
import { parseCertificate } from '../../src/tls/certificate.js';
import { certificateForKey, generateClientCertificate } from '../../src/tls/generate.js';
import { ALICE, ALICE_ALIAS, ALICE_PASSWORD, BOB, BOB_PASSWORD, startWebHarness, WebClient, type WebHarness } from './harness.js';

const KEYS = '/account/api/tlspubkeys';

describe('web API', () => {
  let h: WebHarness;
  before(async () => {
    h = await startWebHarness();
  });
  after(async () => {
    await h.close();
  });

  test('not logged in: 401 on every API route', async () => {
    const c = h.client();
    for (const [method, path] of [['GET', KEYS], ['GET', '/account/api/session'], ['GET', '/account/api/loginattempts'], ['GET', '/account/api/clientsettings'], ['GET', '/account/api/dmarc/received'], ['POST', KEYS], ['POST', '/account/api/password'], ['DELETE', `${KEYS}/${'A'.repeat(43)}`]] as const) {
      const r = await c.request(method, path, { json: method === 'GET' || method === 'DELETE' ? undefined : {} });
      assert.equal(r.status, 401, `${method} ${path}`);
      assert.equal(r.json.error.code, 'notloggedin');
    }
  });

  test('login: wrong password and unknown user get the same 401; attempts are recorded', async () => {
    const c = h.client();
    const wrong = await c.login(ALICE, 'not the password');
    assert.equal(wrong.status, 401);
    assert.deepEqual(wrong.json.error, { code: 'badcredentials', message: 'wrong email address or password', field: 'password' });
    assert.equal(wrong.headers['set-cookie'], undefined);
    const unknown = await c.login('nobody@example.org', 'whatever-password');
    assert.equal(unknown.status, 401);
    assert.equal(unknown.json.error.message, wrong.json.error.message);
    const attempts = await h.store.listLoginAttempts(h.aliceId, 10);
    assert.ok(attempts.some((a) => a.protocol === 'web' && a.result === 'badcreds' && a.address === ALICE));
    const missing = await c.request('POST', '/account/api/login', { json: { address: ALICE } });
    assert.equal(missing.status, 400);
    assert.equal(missing.json.error.field, 'password');
    const form = await c.request('POST', '/account/api/login', { body: `address=${ALICE}&password=${ALICE_PASSWORD}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(form.status, 415, 'a cross-site form post cannot log in');
  });

  test('login on plain HTTP (loopback): HttpOnly SameSite=Strict cookie; session info with CSRF token', async () => {
    const c = h.client();
    const r = await c.login(ALICE, ALICE_PASSWORD);
    assert.equal(r.status, 200);
    const cookie = String(r.headers['set-cookie']);
    assert.match(cookie, /^postern-session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict/);
    assert.doesNotMatch(cookie, /Secure/);
    assert.equal(r.json.address, ALICE);
    const s = await c.request('GET', '/account/api/session');
    assert.equal(s.status, 200);
    assert.equal(s.json.account, 'alice');
    assert.deepEqual([...s.json.addresses].sort(), [ALICE_ALIAS, ALICE].sort());
    assert.equal(s.json.csrfToken, c.csrf);
    assert.equal(s.headers['cache-control'], 'no-store');
  });

  test('login on HTTPS: __Host- cookie with Secure', async () => {
    const c = h.client({ tls: true });
    const r = await c.login(ALICE, ALICE_PASSWORD);
    assert.equal(r.status, 200);
    assert.match(String(r.headers['set-cookie']), /^__Host-postern-session=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+; Secure$/);
    assert.equal((await c.request('GET', KEYS)).status, 200);
    // The plain-HTTP cookie name is not accepted on HTTPS.
    const other = new WebClient(h.httpsPort, true);
    other.cookies.set('postern-session', [...c.cookies.values()][0]!);
    assert.equal((await other.request('GET', KEYS)).status, 401);
  });

  test('security headers: CSP without inline script, frames denied, no-store on the API', async () => {
    const c = h.client();
    const page = await c.request('GET', '/account/');
    assert.equal(page.status, 200);
    assert.match(page.text, /<script src="\/account\/app\.js" defer><\/script>/);
    assert.doesNotMatch(page.text, /<script>|<style>|style=|onclick=/);
    const csp = String(page.headers['content-security-policy']);
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(page.headers['x-frame-options'], 'DENY');
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    const js = await c.request('GET', '/account/app.js');
    assert.equal(js.status, 200);
    assert.match(String(js.headers['content-type']), /^text\/javascript/);
    assert.ok(js.text.length > 1000);
    const again = await c.request('GET', '/account/app.js', { headers: { 'if-none-match': String(js.headers.etag) } });
    assert.equal(again.status, 304);
    const css = await c.request('GET', '/account/app.css');
    assert.match(String(css.headers['content-type']), /^text\/css/);
    const api = await c.request('GET', KEYS);
    assert.equal(api.headers['cache-control'], 'no-store');
    assert.equal(api.headers['x-frame-options'], 'DENY');
    assert.equal((await c.request('GET', '/account')).headers.location, '/account/');
    const nf = await c.request('GET', '/account/api/nothing');
    assert.equal(nf.status, 404);
    const method = await c.request('PUT', KEYS, { json: {} });
    assert.equal(method.status, 405);
    assert.match(String(method.headers.allow), /GET/);
  });

  test('CSRF: state changes without the token, or with a wrong one, are refused with 403', async () => {
    const c = h.client();
    await c.loginOk(ALICE, ALICE_PASSWORD);
    const cert = generateClientCertificate('csrf test');
    const noToken = await c.request('POST', KEYS, { json: { certificate: cert.certPem }, headers: { 'x-csrf-token': '' } });
    assert.equal(noToken.status, 403);
    assert.equal(noToken.json.error.code, 'csrf');
    const wrong = await c.request('POST', KEYS, { json: { certificate: cert.certPem }, headers: { 'x-csrf-token': 'x'.repeat(43) } });
    assert.equal(wrong.status, 403);
    assert.equal(await h.store.getTlsPubKey(cert.fingerprint), null, 'nothing stored');
    // Another session's token does not work either.
    const other = h.client();
    await other.loginOk(ALICE, ALICE_PASSWORD);
    assert.equal((await c.request('POST', KEYS, { json: { certificate: cert.certPem }, headers: { 'x-csrf-token': other.csrf } })).status, 403);
    // DELETE, PATCH, password, logout too.
    const added = await c.request('POST', KEYS, { json: { certificate: cert.certPem } });
    assert.equal(added.status, 201);
    const path = `${KEYS}/${cert.fingerprint}`;
    assert.equal((await c.request('DELETE', path, { csrf: false, headers: {} , json: undefined })).status, 403);
    assert.equal((await c.request('PATCH', path, { json: { name: 'x' }, headers: { 'x-csrf-token': '' } })).status, 403);
    assert.equal((await c.request('POST', '/account/api/password', { json: { oldPassword: ALICE_PASSWORD, newPassword: 'zzzzzzzzzz' }, headers: { 'x-csrf-token': '' } })).status, 403);
    assert.equal((await c.request('POST', '/account/api/logout', { headers: { 'x-csrf-token': '' } })).status, 403);
    assert.ok(await h.store.getTlsPubKey(cert.fingerprint), 'still there');
    // With the token but from another origin.
    const cross = await c.request('DELETE', path, { headers: { origin: 'https://evil.example' } });
    assert.equal(cross.status, 403);
    assert.equal(cross.json.error.code, 'origin');
    const site = await c.request('DELETE', path, { headers: { 'sec-fetch-site': 'cross-site' } });
    assert.equal(site.status, 403);
    assert.equal((await c.request('DELETE', path, { headers: { origin: `http://127.0.0.1:${h.httpPort}` } })).status, 204);
  });

  test('add keys: PEM, DER (base64) and raw body; default name from the CN; fingerprint as the CLI', async () => {
    const c = h.client();
    await c.loginOk(ALICE, ALICE_PASSWORD);
    const pem = generateClientCertificate('phone', 'ecdsa-p256');
    const r1 = await c.request('POST', KEYS, { json: { certificate: pem.certPem, loginAddress: ALICE_ALIAS, noImapPreauth: true } });
    assert.equal(r1.status, 201, r1.text);
    assert.equal(r1.json.fingerprint, pem.fingerprint);
    assert.equal(r1.json.name, 'phone');
    assert.equal(r1.json.type, 'ecdsa-p256');
    assert.equal(r1.json.loginAddress, ALICE_ALIAS);
    assert.equal(r1.json.noImapPreauth, true);
    assert.equal(r1.json.lastUsed, null);

    const der = generateClientCertificate('tablet');
    const r2 = await c.request('POST', KEYS, { json: { certificateDer: der.certDer.toString('base64'), name: '  My tablet ' } });
    assert.equal(r2.status, 201, r2.text);
    assert.equal(r2.json.name, 'My tablet');
    assert.equal(r2.json.loginAddress, ALICE, 'defaults to the address logged in with');
    assert.equal(r2.json.noImapPreauth, false);

    const raw = generateClientCertificate('curl');
    const r3 = await c.request('POST', `${KEYS}?loginAddress=${encodeURIComponent(ALICE_ALIAS)}&noImapPreauth=true`, { body: raw.certPem, headers: { 'content-type': 'application/x-pem-file' } });
    assert.equal(r3.status, 201, r3.text);
    assert.equal(r3.json.fingerprint, raw.fingerprint);
    assert.equal(r3.json.noImapPreauth, true);
    const r4 = await c.request('POST', KEYS, { body: generateClientCertificate('derraw').certDer, headers: { 'content-type': 'application/pkix-cert' } });
    assert.equal(r4.status, 201, r4.text);

    const list = await c.request('GET', KEYS);
    const fps = list.json.keys.map((k: { fingerprint: string }) => k.fingerprint);
    for (const k of [pem, der, raw]) assert.ok(fps.includes(k.fingerprint));
    const one = await c.request('GET', `${KEYS}/${pem.fingerprint}`);
    assert.equal(one.status, 200);
    assert.equal(parseCertificate(one.json.certificatePem).fingerprint, pem.fingerprint);
    const stored = await h.store.getTlsPubKey(pem.fingerprint);
    assert.equal(stored?.accountId, h.aliceId);
  });

  test('add keys: every refusal is a 400/409 with the field, and nothing is stored', async () => {
    const c = h.client();
    await c.loginOk(ALICE, ALICE_PASSWORD);
    const before = (await h.store.listTlsPubKeys()).length;
    const expect = async (body: Record<string, unknown>, status: number, code: string, field: string, message?: RegExp) => {
      const r = await c.request('POST', KEYS, { json: body });
      assert.equal(r.status, status, `${JSON.stringify(body).slice(0, 80)}: ${r.text}`);
      assert.equal(r.json.error.code, code);
      assert.equal(r.json.error.field, field);
      if (message) assert.match(r.json.error.message, message);
    };
    await expect({}, 400, 'missing', 'certificate');
    await expect({ certificate: 'hello, I am not a certificate' }, 400, 'certificate', 'certificate', /malformed PEM|not a certificate/);
    await expect({ certificateDer: Buffer.from('random bytes, not DER').toString('base64') }, 400, 'certificate', 'certificate', /not a certificate/);
    const k = generateClientCertificate('secret');
    await expect({ certificate: k.keyPem }, 400, 'privatekey', 'certificate', /private key.*not stored/);
    await expect({ certificate: k.keyPem + k.certPem }, 400, 'privatekey', 'certificate', /private key/);
    await expect({ certificateDer: k.keyPkcs8Der.toString('base64') }, 400, 'privatekey', 'certificate', /private key/);
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    await expect({ certificateDer: certificateForKey(weak).toString('base64') }, 400, 'certificate', 'certificate', /too weak/);
    await expect({ certificate: k.certPem, loginAddress: BOB }, 400, 'invalid', 'loginAddress', /not an address of your account/);
    await expect({ certificate: k.certPem, loginAddress: 'nobody@example.org' }, 400, 'invalid', 'loginAddress');
    await expect({ certificate: k.certPem, loginAddress: 'not an address' }, 400, 'invalid', 'loginAddress');
    await expect({ certificate: k.certPem, name: 'x'.repeat(300) }, 400, 'invalid', 'name');
    await expect({ certificate: k.certPem, noImapPreauth: 'yes' }, 400, 'invalid', 'noImapPreauth');
    assert.equal((await h.store.listTlsPubKeys()).length, before, 'nothing stored');
    const privRaw = await c.request('POST', KEYS, { body: k.keyPem, headers: { 'content-type': 'application/x-pem-file' } });
    assert.equal(privRaw.status, 400);
    assert.equal(privRaw.json.error.code, 'privatekey');
    const bad = await c.request('POST', KEYS, { body: '{not json', headers: { 'content-type': 'application/json' } });
    assert.equal(bad.status, 400);

    // Duplicates: the same key again, in this account or in another, get one answer that names
    // nothing of the account holding it.
    assert.equal((await c.request('POST', KEYS, { json: { certificate: k.certPem, name: 'alice laptop' } })).status, 201);
    await expect({ certificate: k.certPem }, 409, 'exists', 'certificate', /already registered/);
    const own = await c.request('POST', KEYS, { json: { certificate: k.certPem } });
    const bob = h.client();
    await bob.loginOk(BOB, BOB_PASSWORD);
    const dup = await bob.request('POST', KEYS, { json: { certificate: k.certPem } });
    assert.equal(dup.status, 409);
    assert.deepEqual(dup.json, own.json, 'the same answer as for a key of ones own');
    assert.doesNotMatch(dup.text, /alice|laptop|another|other account/i);
    assert.equal((await h.store.getTlsPubKey(k.fingerprint))?.accountId, h.aliceId);
    // Another certificate for the same public key is the same key.
    const sameKey = certificateForKey(k.privateKey, { commonName: 'other cert, same key' });
    await expect({ certificateDer: sameKey.toString('base64') }, 409, 'exists', 'certificate');
  });

  test('adding a key is a step-up action: a login within 5 minutes, or the current password', async () => {
    const c = h.client();
    await c.loginOk(ALICE, ALICE_PASSWORD);
    const fresh = generateClientCertificate('fresh login');
    assert.equal((await c.request('POST', KEYS, { json: { certificate: fresh.certPem } })).status, 201, 'just logged in: no password needed');
    h.advanceClock(5 * 60_000 + 1000);
    const before = (await h.store.listTlsPubKeys(h.aliceId)).length;
    // The session cookie (and CSRF token) alone no longer adds a key, JSON or raw.
    const k = generateClientCertificate('stolen session');
    const bare = await c.request('POST', KEYS, { json: { certificate: k.certPem } });
    assert.equal(bare.status, 403, bare.text);
    assert.equal(bare.json.error.code, 'stepup');
    assert.equal(bare.json.error.field, 'password');
    const raw = await c.request('POST', KEYS, { body: k.certPem, headers: { 'content-type': 'application/x-pem-file' } });
    assert.equal(raw.status, 403);
    assert.equal(raw.json.error.code, 'stepup');
    // A key held by another account is not even looked up without the password.
    const bobKey = generateClientCertificate('bob key');
    await h.store.addTlsPubKey(h.bobId, { fingerprint: bobKey.fingerprint, type: 'ed25519', name: 'bob key', loginAddress: BOB, noImapPreauth: false, certDer: bobKey.certDer });
    const probe = await c.request('POST', KEYS, { json: { certificate: bobKey.certPem } });
    assert.equal(probe.status, 403, 'no duplicate answer without the password');
    // A wrong password is refused and counts as a failed login; the right one adds the key.
    const wrong = await c.request('POST', KEYS, { json: { certificate: k.certPem, password: 'not the password' } });
    assert.equal(wrong.status, 400, wrong.text);
    assert.equal(wrong.json.error.code, 'badpassword');
    assert.equal(wrong.json.error.field, 'password');
    const attempts = await c.request('GET', '/account/api/loginattempts');
    assert.equal(attempts.json.attempts[0].result, 'badcreds');
    assert.equal(attempts.json.attempts[0].protocol, 'web');
    assert.equal((await h.store.listTlsPubKeys(h.aliceId)).length, before, 'nothing stored without the password');
    const ok = await c.request('POST', KEYS, { json: { certificate: k.certPem, password: ALICE_PASSWORD } });
    assert.equal(ok.status, 201, ok.text);
    const viaHeader = generateClientCertificate('curl step-up');
    const okRaw = await c.request('POST', KEYS, { body: viaHeader.certPem, headers: { 'content-type': 'application/x-pem-file', 'x-current-password': ALICE_PASSWORD } });
    assert.equal(okRaw.status, 201, okRaw.text);
    // A non-ASCII password travels in the header as UTF-8 bytes.
    const unicode = 'pässwörd-ünïcode';
    await h.store.setCredentials(h.aliceId, await deriveCredentials(unicode));
    try {
      const u8 = h.client();
      await u8.loginOk(ALICE, unicode);
      h.advanceClock(5 * 60_000 + 1000);
      const u = await u8.request('POST', KEYS, { body: generateClientCertificate('unicode').certPem, headers: { 'content-type': 'application/x-pem-file', 'x-current-password': Buffer.from(unicode, 'utf8').toString('latin1') } });
      assert.equal(u.status, 201, u.text);
    } finally {
      await h.store.setCredentials(h.aliceId, await deriveCredentials(ALICE_PASSWORD));
    }
    // A new login opens the window again.
    const again = h.client();
    await again.loginOk(ALICE, ALICE_PASSWORD);
    assert.equal((await again.request('POST', KEYS, { json: { certificate: generateClientCertificate('new login').certPem } })).status, 201);
  });

  test('request body over the limit: 413', async () => {
    const c = h.client();
    await c.loginOk(ALICE, ALICE_PASSWORD);
    const r = await c.request('POST', KEYS, { json: { certificate: 'A'.repeat(100 * 1024) } });
    assert.equal(r.status, 413);
    assert.equal(r.json.error.code, 'toobig');
  });

  test('edit and remove: own keys only; a key of another account is 404 and untouched', async () => {
    const alice = h.client();
    await alice.loginOk(ALICE, ALICE_PASSWORD);
    const bob = h.client();
    await bob.loginOk(BOB, BOB_PASSWORD);
    const bobKey = generateClientCertificate('bob laptop');
    assert.equal((await bob.request('POST', KEYS, { json: { certificate: bobKey.certPem } })).status, 201);
    const bobPath = `${KEYS}/${bobKey.fingerprint}`;
    for (const [method, json] of [['GET', undefined], ['PATCH', { name: 'stolen' }], ['DELETE', undefined]] as const) {
      const r = await alice.request(method, bobPath, { json });
      assert.equal(r.status, 404, method);
      assert.equal(r.json.error.code, 'notfound');
    }
    const still = await h.store.getTlsPubKey(bobKey.fingerprint);
    assert.equal(still?.name, 'bob laptop');
    assert.ok(!(await alice.request('GET', KEYS)).json.keys.some((k: { fingerprint: string }) => k.fingerprint === bobKey.fingerprint));
    assert.equal((await alice.request('GET', `${KEYS}/not-a-fingerprint`)).status, 404);

    const mine = generateClientCertificate('mine');
    assert.equal((await alice.request('POST', KEYS, { json: { certificate: mine.certPem } })).status, 201);
    const path = `${KEYS}/${mine.fingerprint}`;
    const p = await alice.request('PATCH', path, { json: { name: 'renamed', loginAddress: ALICE_ALIAS, noImapPreauth: true } });
    assert.equal(p.status, 200, p.text);
    assert.deepEqual([p.json.name, p.json.loginAddress, p.json.noImapPreauth], ['renamed', ALICE_ALIAS, true]);
    const stored = await h.store.getTlsPubKey(mine.fingerprint);
    assert.deepEqual([stored?.name, stored?.loginAddress, stored?.noImapPreauth], ['renamed', ALICE_ALIAS, true]);
    const toBob = await alice.request('PATCH', path, { json: { loginAddress: BOB } });
    assert.equal(toBob.status, 400);
    assert.equal(toBob.json.error.field, 'loginAddress');
    const empty = await alice.request('PATCH', path, { json: { name: '   ' } });
    assert.equal(empty.status, 400);
    assert.equal(empty.json.error.field, 'name');
    assert.equal((await alice.request('PATCH', path, { json: { noImapPreauth: false } })).json.noImapPreauth, false);
    assert.equal((await alice.request('DELETE', path)).status, 204);
    assert.equal(await h.store.getTlsPubKey(mine.fingerprint), null);
    assert.equal((await alice.request('DELETE', path)).status, 404);
  });

  test('password change: wrong current password, too short; success ends the other sessions', async () => {
    const c = h.client();
    await c.loginOk(BOB, BOB_PASSWORD);
    const other = h.client();
    await other.loginOk(BOB, BOB_PASSWORD);
    const pw = '/account/api/password';
    const wrong = await c.request('POST', pw, { json: { oldPassword: 'wrong-password', newPassword: 'new-password-1' } });
    assert.equal(wrong.status, 400);
    assert.deepEqual([wrong.json.error.code, wrong.json.error.field], ['badpassword', 'oldPassword']);
    const short = await c.request('POST', pw, { json: { oldPassword: BOB_PASSWORD, newPassword: 'short' } });
    assert.equal(short.status, 400);
    assert.equal(short.json.error.field, 'newPassword');
    assert.match(short.json.error.message, /at least 8/);
    const control = await c.request('POST', pw, { json: { oldPassword: BOB_PASSWORD, newPassword: 'abc\u0001defghij' } });
    assert.equal(control.status, 400);
    assert.equal(control.json.error.field, 'newPassword');
    const ok = await c.request('POST', pw, { json: { oldPassword: BOB_PASSWORD, newPassword: 'new-password-1' } });
    assert.equal(ok.status, 204, ok.text);
    assert.equal((await c.request('GET', KEYS)).status, 200, 'this session goes on');
    const ended = await other.request('GET', KEYS);
    assert.equal(ended.status, 401, 'the other session ended');
    assert.equal((await h.client().login(BOB, BOB_PASSWORD)).status, 401);
    assert.equal((await h.client().login(BOB, 'new-password-1')).status, 200);
    // Put it back for other tests.
    assert.equal((await c.request('POST', pw, { json: { oldPassword: 'new-password-1', newPassword: BOB_PASSWORD } })).status, 204);
  });

  test('logout ends the session; a disabled account ends it too', async () => {
    const c = h.client();
    await c.loginOk(ALICE, ALICE_PASSWORD);
    const r = await c.request('POST', '/account/api/logout');
    assert.equal(r.status, 204);
    assert.match(String(r.headers['set-cookie']), /Max-Age=0/);
    assert.equal(c.cookies.size, 0);
    const c2 = h.client();
    await c2.loginOk(ALICE, ALICE_PASSWORD);
    const token = [...c2.cookies.values()][0]!;
    await c2.request('POST', '/account/api/logout');
    const replay = h.client();
    replay.cookies.set('postern-session', token);
    assert.equal((await replay.request('GET', KEYS)).status, 401, 'a logged-out token is dead');

    const c3 = h.client();
    await c3.loginOk(BOB, BOB_PASSWORD);
    await h.store.setLoginDisabled('bob', 'on holiday');
    try {
      assert.equal((await c3.request('GET', KEYS)).status, 401);
      const r2 = await h.client().login(BOB, BOB_PASSWORD);
      assert.equal(r2.status, 403);
      assert.equal(r2.json.error.code, 'disabled');
      // Only the right password learns that the account is disabled.
      const r3 = await h.client().login(BOB, 'not bobs password');
      assert.equal(r3.status, 401);
      assert.equal(r3.json.error.code, 'badcredentials');
      // The web tells "disabled" by the authenticator's reason code, not by reading its message.
      const result = await h.ctx.auth.passwordLogin(BOB, BOB_PASSWORD, { protocol: 'web', ip: '127.0.0.1', tls: null, cid: 't' }, { mechanism: 'web password' });
      assert.ok(!result.ok && result.reason === 'disabled');
    } finally {
      await h.store.setLoginDisabled('bob', null);
    }
  });

  test('received DMARC reports: the account\'s own domains only, per domain and day, with their rows', async () => {
    const report = (domain: string, org: string, id: string, begin: number, rows: [string, number, string, string, string][]): AggregateReport => ({
      orgName: org, email: `dmarc@${org}`, reportId: id, begin, end: begin + 86399,
      policy: { domain, adkim: 'r', aspf: 'r', p: 'reject', sp: 'reject', pct: 100 },
      records: rows.map(([ip, count, disposition, dkim, spf]) => ({
        sourceIp: ip, count, disposition, dkim, spf, envelopeFrom: domain, headerFrom: domain,
        authDkim: [{ domain, selector: 's1', result: dkim }], authSpf: [{ domain, result: spf }],
      })),
    });
    const day1 = Date.parse('2026-03-01T00:00:00Z') / 1000;
    const day2 = day1 + 86400;
    // Mailed reports, read as the intake reads them (gzip attachment, RFC 7489 7.2.1.1).
    for (const r of [
      report('example.org', 'google.test', 'g-1', day1, [['192.0.2.10', 12, 'none', 'pass', 'pass'], ['198.51.100.7', 3, 'reject', 'fail', 'fail']]),
      report('example.org', 'outlook.test', 'o-1', day1, [['192.0.2.10', 4, 'none', 'pass', 'fail']]),
      report('example.org', 'google.test', 'g-2', day2, [['192.0.2.10', 9, 'none', 'pass', 'pass']]),
      report('example.com', 'google.test', 'g-bob', day1, [['203.0.113.5', 2, 'quarantine', 'fail', 'fail']]),
      report('elsewhere.test', 'google.test', 'g-x', day1, [['203.0.113.9', 1, 'none', 'pass', 'pass']]),
    ]) {
      assert.equal(await takeReport(h.store, reportMessage(r, { hostname: r.orgName, to: ['dmarc@x.test'], now: new Date() }), silentLogger), true);
    }
    const alice = h.client();
    await alice.loginOk(ALICE, ALICE_PASSWORD);
    const a = await alice.request('GET', '/account/api/dmarc/received');
    assert.equal(a.status, 200, a.text);
    assert.deepEqual(a.json.domains.map((d: { domain: string }) => d.domain), ['example.org'], 'both of alice\'s addresses are in example.org');
    const days = a.json.domains[0].days;
    assert.deepEqual(days.map((d: { day: string }) => d.day), ['2026-03-02', '2026-03-01'], 'newest day first');
    assert.deepEqual(days[1].reports.map((r: { reporter: string }) => r.reporter), ['google.test', 'outlook.test']);
    const g = days[1].reports[0];
    assert.equal(g.reportId, 'g-1');
    assert.equal(g.begin, '2026-03-01T00:00:00.000Z');
    assert.equal(g.end, '2026-03-01T23:59:59.000Z');
    assert.equal(g.messages, 15);
    assert.equal(g.passed, 12);
    assert.deepEqual(g.rows.map((x: { sourceIp: string; count: number; disposition: string; dkim: string; spf: string }) => [x.sourceIp, x.count, x.disposition, x.dkim, x.spf]),
      [['192.0.2.10', 12, 'none', 'pass', 'pass'], ['198.51.100.7', 3, 'reject', 'fail', 'fail']]);
    assert.ok(!a.text.includes('example.com') && !a.text.includes('elsewhere.test') && !a.text.includes('g-bob'), "no other account's or nobody's domain");

    const bob = h.client();
    await bob.loginOk(BOB, BOB_PASSWORD);
    const b = await bob.request('GET', '/account/api/dmarc/received');
    assert.equal(b.status, 200);
    assert.deepEqual(b.json.domains.map((d: { domain: string; days: { reports: { reportId: string }[] }[] }) => [d.domain, d.days.flatMap((x) => x.reports.map((r) => r.reportId))]), [['example.com', ['g-bob']]]);
    assert.ok(!b.text.includes('example.org'));
  });

  test('login attempts of the account', async () => {
    const c = h.client();
    await c.loginOk(ALICE, ALICE_PASSWORD);
    const r = await c.request('GET', '/account/api/loginattempts');
    assert.equal(r.status, 200);
    const a = r.json.attempts[0];
    assert.deepEqual(Object.keys(a).sort(), ['address', 'ip', 'keyFingerprint', 'keyName', 'mechanism', 'protocol', 'reason', 'result', 'time']);
    assert.equal(a.protocol, 'web');
    assert.equal(a.mechanism, 'web password');
    assert.equal(a.result, 'ok');
    assert.equal(a.reason, 'logged in');
    assert.equal(r.json.attempts.find((x: { result: string }) => x.result === 'badcreds').reason, 'wrong password or unknown address');
    assert.equal(a.ip, '127.0.0.1');
    assert.ok(r.json.attempts.some((x: { result: string }) => x.result === 'badcreds'));
    assert.ok(!r.json.attempts.some((x: { address: string }) => x.address === BOB), "no other account's attempts");
  });

  test('login attempts: a certificate login is one row, named by its key while the key exists', async () => {
    const key = generateClientCertificate('attempts');
    await h.store.addTlsPubKey(h.aliceId, { fingerprint: key.fingerprint, type: 'ed25519', name: 'Work laptop', loginAddress: ALICE, noImapPreauth: false, certDer: key.certDer });
    const sock = tlsConnect({ host: '127.0.0.1', port: h.imapsPort, rejectUnauthorized: false, key: key.keyPem, cert: key.certPem });
    let greeting = '';
    for await (const d of sock) {
      greeting += d;
      if (greeting.includes('\r\n')) break;
    }
    sock.destroy();
    assert.match(greeting, /^\* PREAUTH /);
    const c = h.client();
    await c.loginOk(ALICE, ALICE_PASSWORD);
    const rows = async () => ((await c.request('GET', '/account/api/loginattempts')).json.attempts as { keyFingerprint: string | null; keyName: string | null; mechanism: string; reason: string }[]).filter((a) => a.keyFingerprint === key.fingerprint);
    const withKey = await rows();
    assert.deepEqual(withKey.map((a) => [a.mechanism, a.keyName, a.reason]), [['tlsclientauth', 'Work laptop', 'logged in']]);
    await h.store.removeTlsPubKey(key.fingerprint);
    assert.deepEqual((await rows()).map((a) => a.keyName), [null], 'a removed key keeps its fingerprint, not its name');
  });

  test('client settings, Thunderbird autoconfig and Apple profile', async () => {
    const c = h.client();
    await c.loginOk(ALICE, ALICE_PASSWORD);
    const s = await c.request('GET', '/account/api/clientsettings');
    assert.deepEqual(s.json, {
      address: ALICE,
      hostname: 'localhost',
      imap: [{ host: 'localhost', port: 10993, security: 'tls' }, { host: 'localhost', port: 10143, security: 'starttls' }],
      submission: [{ host: 'localhost', port: 10465, security: 'tls' }, { host: 'localhost', port: 10587, security: 'starttls' }],
    });
    const xml = await c.request('GET', '/account/api/clientsettings/autoconfig.xml');
    assert.equal(xml.status, 200);
    assert.match(String(xml.headers['content-disposition']), /attachment; filename="config-v1.1.xml"/);
    assert.match(xml.text, /<clientConfig version="1.1">/);
    assert.match(xml.text, /<incomingServer type="imap">\s*<hostname>localhost<\/hostname>\s*<port>10993<\/port>\s*<socketType>SSL<\/socketType>\s*<username>alice@example.org<\/username>/);
    assert.match(xml.text, /<outgoingServer type="smtp">\s*<hostname>localhost<\/hostname>\s*<port>10465<\/port>/);
    const mc = await c.request('GET', '/account/api/clientsettings/apple.mobileconfig');
    assert.equal(mc.status, 200);
    assert.equal(mc.headers['content-type'], 'application/x-apple-aspen-config');
    assert.match(mc.text, /<key>EmailAccountType<\/key>\s*<string>EmailTypeIMAP<\/string>/);
    assert.match(mc.text, /<key>IncomingMailServerPortNumber<\/key>\s*<integer>10993<\/integer>/);
    assert.match(mc.text, /<key>PayloadUUID<\/key>\s*<string>[0-9A-F]{8}-[0-9A-F]{4}-8[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}<\/string>/);
    assert.equal((await h.client().request('GET', '/account/api/clientsettings/apple.mobileconfig')).status, 401);
    const wk = await h.client().request('GET', '/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=alice%40example.org');
    assert.equal(wk.status, 200);
    assert.match(wk.text, /<emailProvider id="example.org">/);
    assert.match(wk.text, /<username>%EMAILADDRESS%<\/username>/);
  });

  test('plain HTTP on a non-loopback address only redirects to HTTPS', async () => {
    const port = await h.listen({ host: '0.0.0.0', tls: false });
    const c = new WebClient(port, false);
    for (const path of ['/account/', '/account/api/login']) {
      const r = await c.request(path.endsWith('login') ? 'POST' : 'GET', path, { json: path.endsWith('login') ? { address: ALICE, password: ALICE_PASSWORD } : undefined });
      assert.equal(r.status, 308);
      assert.equal(r.headers.location, `https://localhost:10443${path}`);
      assert.equal(r.headers['set-cookie'], undefined);
    }
  });

  test('plain HTTP on loopback answers only loopback or configured host names (DNS rebinding)', async () => {
    const c = h.client();
    assert.equal((await c.request('GET', '/account/', { headers: { host: 'evil.example:80' } })).status, 421);
    assert.equal((await c.request('GET', '/account/', { headers: { host: `localhost:${h.httpPort}` } })).status, 200);
    assert.equal((await c.request('GET', '/account/', { headers: { host: `[::1]:${h.httpPort}` } })).status, 200);
  });
});

describe('web API: failed-auth limiter', () => {
  let h: WebHarness;
  before(async () => {
    h = await startWebHarness({ limiter: new FailureLimiter([{ ms: 60_000, limits: [3, 100, 300] }]) });
  });
  after(async () => {
    await h.close();
  });

  test('over the budget, login is refused with 429 even with the right password; it says how long and is recorded', async () => {
    const c = h.client();
    for (let i = 0; i < 3; i++) assert.equal((await c.login(ALICE, `wrong ${i}`)).status, 401);
    const r = await c.login(ALICE, ALICE_PASSWORD);
    assert.equal(r.status, 429);
    assert.equal(r.json.error.code, 'blocked');
    // The first failure leaves the minute window in at most 60 s: Retry-After and the text agree.
    const after = Number(r.headers['retry-after']);
    assert.ok(after >= 1 && after <= 60, String(r.headers['retry-after']));
    assert.equal(r.json.error.message, `too many failed logins from your network; try again in ${after} seconds`);
    assert.equal(r.headers['set-cookie'], undefined);
    // The refused attempt is in the account's Login attempts, with a reason a person understands.
    const stored = await h.ctx.store.listLoginAttempts((await h.ctx.store.getAccount('alice'))!.id, 10);
    assert.equal(stored[0]!.result, 'refused');
    assert.equal(stored[0]!.mechanism, 'web password');
  });
});
