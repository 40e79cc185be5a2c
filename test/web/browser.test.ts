// End to end in headless Chromium: log in, add a certificate made by openssl and see a TLS
// connection with it authenticate (and pre-authenticate IMAP), set no-preauth, remove it, generate a key in the browser and open the
// downloaded PKCS#12 with openssl (after confirming the password: the login is then over 5 minutes
// old) and the Apple profile holding it, have a state change without the CSRF token refused, and
// read the DMARC reports received for the account's domain.
// Screenshots of every page go to test-output/web/.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { connect as tlsConnect } from 'node:tls';
import { once } from 'node:events';
import { takeReport } from '../../src/dmarc/report-intake.js';
import { reportMessage } from '../../src/dmarc/report-sender.js';
import { silentLogger } from '../../src/log/logger.js';
import { parseCertificate } from '../../src/tls/certificate.js';
import { loopback } from '../../src/tls/tls-test-support.js';
import { ALICE, ALICE_PASSWORD, startWebHarness, type WebHarness } from './harness.js';

type Loopback = Awaited<ReturnType<typeof loopback>>;

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = resolve('test-output/web');

/**
 * What the authenticator that the IMAP and SMTP servers use makes of a TLS connection presenting
 * key/cert (PEM): a real handshake on a listener with our TLS options, then certificateLogin.
 */
async function certificateLogin(h: WebHarness, lb: Loopback, keyPem: string, certPem: string) {
  const { server, client } = await lb.connect({ key: keyPem, cert: certPem });
  try {
    return await h.ctx.auth.certificateLogin({ protocol: 'imap', ip: '127.0.0.1', tls: server, cid: 'e2e' });
  } finally {
    client.destroy();
    server.destroy();
  }
}

/** The greeting of the real IMAPS listener to a connection presenting key/cert: PREAUTH or OK. */
async function imapsGreeting(h: WebHarness, keyPem: string, certPem: string): Promise<string> {
  const sock = tlsConnect({ host: '127.0.0.1', port: h.imapsPort, key: keyPem, cert: certPem, rejectUnauthorized: false });
  try {
    const [line] = (await once(sock, 'data')) as [Buffer];
    return line.toString('utf8');
  } finally {
    sock.destroy();
  }
}

function pemBlock(text: string, label: string): string {
  const m = new RegExp(`-----BEGIN ${label}-----[\\s\\S]*?-----END ${label}-----\\n?`).exec(text);
  assert.ok(m, `no ${label} in ${text.slice(0, 200)}`);
  return m[0];
}

// Chromium is a required test peer (.ci/apt-packages): a missing browser fails the suite, never skips it.
describe('account pages in Chromium', () => {
  before(() => assert.ok(existsSync(CHROMIUM), `${CHROMIUM} not installed: apt-get install chromium`));
  let h: WebHarness;
  let browser: Browser;
  let page: Page;
  let dir: string;
  let base: string;
  let lb: Loopback;
  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'postern-web-e2e-'));
    h = await startWebHarness();
    lb = await loopback(true);
    base = `http://127.0.0.1:${h.httpPort}/account/`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(20_000);
  });
  after(async () => {
    await browser?.close();
    await lb?.close();
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('login: a wrong password is refused next to the field, the right one is accepted', async () => {
    await page.goto(base);
    await page.getByLabel('Email address').fill(ALICE);
    await page.getByLabel('Password', { exact: true }).fill('wrong password');
    await page.getByRole('button', { name: 'Log in' }).click();
    const err = page.locator('.field-error', { hasText: 'wrong email address or password' });
    await err.waitFor();
    assert.equal(await page.getByLabel('Password', { exact: true }).getAttribute('aria-invalid'), 'true');
    await shot('login');
    await page.getByLabel('Password', { exact: true }).fill(ALICE_PASSWORD);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'TLS public keys' }).waitFor();
    assert.match(await page.locator('header').innerText(), new RegExp(ALICE));
  });

  test('upload an openssl certificate: listed with its fingerprint, logs in over TLS with preauth; no-preauth; remove', async () => {
    const keyFile = join(dir, 'laptop.key.pem');
    const certFile = join(dir, 'laptop.cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ed25519', '-keyout', keyFile, '-out', certFile, '-nodes', '-subj', '/CN=openssl laptop', '-days', '36500'], { stdio: 'pipe' });
    const keyPem = readFileSync(keyFile, 'utf8');
    const certPem = readFileSync(certFile, 'utf8');
    const fp = parseCertificate(certPem).fingerprint;
    assert.equal(await certificateLogin(h, lb, keyPem, certPem), null, 'unknown key: not authenticated');
    assert.match(await imapsGreeting(h, keyPem, certPem), /^\* OK /, 'unknown key: IMAPS greets with OK');

    // The private key by mistake: refused next to the field, never stored.
    await page.getByLabel('Certificate file').setInputFiles(keyFile);
    await page.getByRole('button', { name: 'Add key' }).click();
    await page.locator('.field-error', { hasText: 'private key' }).waitFor();
    assert.equal((await h.store.listTlsPubKeys(h.aliceId)).length, 0);
    await shot('keys-private-key-refused');

    await page.getByLabel('Certificate file').setInputFiles(certFile);
    await page.getByRole('button', { name: 'Add key' }).click();
    const row = page.locator(`tr[data-fingerprint="${fp}"]`);
    await row.waitFor();
    assert.equal(await row.locator('code.fingerprint').innerText(), fp);
    assert.match(await row.innerText(), /openssl laptop/);
    assert.match(await row.innerText(), /ed25519/);
    assert.equal(await row.locator('td.preauth').innerText(), 'no');
    const login = await certificateLogin(h, lb, keyPem, certPem);
    assert.equal(login?.identity.accountId, h.aliceId);
    assert.equal(login?.identity.username, ALICE);
    assert.equal(login?.identity.keyFingerprint, fp);
    assert.equal(login?.noImapPreauth, false, 'IMAPS would greet with PREAUTH');
    assert.match(await imapsGreeting(h, keyPem, certPem), /^\* PREAUTH /, 'the uploaded certificate gets PREAUTH on IMAPS');

    // Edit: set no-preauth.
    await row.getByRole('button', { name: 'Edit openssl laptop' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('No IMAP preauth').check();
    await shot('keys-edit');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page.locator(`tr[data-fingerprint="${fp}"] td.preauth`, { hasText: 'yes' }).waitFor();
    assert.equal((await h.store.getTlsPubKey(fp))?.noImapPreauth, true);
    assert.equal((await certificateLogin(h, lb, keyPem, certPem))?.noImapPreauth, true, 'no-preauth: IMAPS must not greet with PREAUTH');
    assert.match(await imapsGreeting(h, keyPem, certPem), /^\* OK /, 'no-preauth: the next IMAPS connection is not preauthenticated');
    await page.reload();
    await page.locator(`tr[data-fingerprint="${fp}"]`).waitFor();
    await shot('keys');

    // Remove, with confirmation; cancelling keeps it.
    await page.getByRole('button', { name: 'Remove openssl laptop' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    assert.ok(await h.store.getTlsPubKey(fp));
    await page.getByRole('button', { name: 'Remove openssl laptop' }).click();
    await shot('keys-remove-confirm');
    await page.getByRole('dialog').getByRole('button', { name: 'Remove' }).click();
    await page.locator(`tr[data-fingerprint="${fp}"]`).waitFor({ state: 'detached' });
    assert.equal(await h.store.getTlsPubKey(fp), null);
    assert.equal(await certificateLogin(h, lb, keyPem, certPem), null, 'a removed key no longer authenticates');
    assert.match(await imapsGreeting(h, keyPem, certPem), /^\* OK /, 'a removed key gets no PREAUTH');
  });

  /** Answers the step-up dialog the page shows when the login is over 5 minutes old. */
  const confirmPassword = async (password: string) => {
    const dialog = page.getByRole('dialog', { name: 'Confirm with your password' });
    await dialog.getByLabel('Current password').fill(password);
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    return dialog;
  };

  test('generate in the browser, the login over 5 minutes old: the password is asked; the PKCS#12 opens with openssl and holds the registered key', async () => {
    h.advanceClock(5 * 60_000 + 1000);
    const before = (await h.store.listTlsPubKeys(h.aliceId)).length;
    await page.getByRole('link', { name: 'Generate key' }).click();
    await page.getByRole('heading', { name: 'Generate a key in the browser' }).waitFor();
    await page.getByLabel('Name').fill('browser e2e');
    await page.getByLabel('PKCS#12 password').fill('p12 secret');
    await page.getByLabel('Repeat the password').fill('p12 secret');
    const requests: string[] = [];
    page.on('request', (r) => {
      if (r.method() !== 'GET') requests.push(r.postData() ?? '');
    });
    await page.getByRole('button', { name: 'Generate and register' }).click();
    // A wrong password keeps the dialog open with the error next to the field; nothing is stored.
    const dialog = await confirmPassword('not my password');
    await dialog.locator('.field-error', { hasText: 'current password is wrong' }).waitFor();
    assert.equal(await dialog.getByLabel('Current password').getAttribute('aria-invalid'), 'true');
    await shot('generate-step-up');
    assert.equal((await h.store.listTlsPubKeys(h.aliceId)).length, before, 'not registered without the password');
    await confirmPassword(ALICE_PASSWORD);
    const shown = await page.locator('#generated-fingerprint').innerText();
    await shot('generate');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download browser-e2e.p12' }).click()]);
    assert.equal(download.suggestedFilename(), 'browser-e2e.p12');
    const p12 = join(dir, 'browser-e2e.p12');
    await download.saveAs(p12);
    const out = execFileSync('openssl', ['pkcs12', '-in', p12, '-nodes', '-passin', 'pass:p12 secret'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const certPem = pemBlock(out, 'CERTIFICATE');
    const keyPem = pemBlock(out, 'PRIVATE KEY');
    const fp = parseCertificate(certPem).fingerprint;
    assert.equal(fp, shown);
    const stored = await h.store.getTlsPubKey(fp);
    assert.ok(stored, 'registered');
    assert.equal(stored.accountId, h.aliceId);
    assert.equal(stored.name, 'browser e2e');
    assert.equal(stored.type, 'ecdsa-p256');
    // Only the certificate went to the server: first without a password, then twice with one.
    assert.equal(requests.length, 3);
    assert.doesNotMatch(requests[0]!, /"password"/);
    for (const body of requests) assert.doesNotMatch(body, /PRIVATE KEY/);
    // And the key from the file works for a TLS login.
    const login = await certificateLogin(h, lb, keyPem, certPem);
    assert.equal(login?.identity.keyFingerprint, fp);
    assert.equal(login?.noImapPreauth, false);
    assert.match(await imapsGreeting(h, keyPem, certPem), /^\* PREAUTH /, 'the downloaded PKCS#12 key gets PREAUTH on IMAPS');
    // The Apple profile made beside it carries the same PKCS#12 as an identity payload, and the mail account.
    const [profileDl] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Apple profile with this key (browser-e2e.mobileconfig)' }).click()]);
    const profile = join(dir, 'browser-e2e.mobileconfig');
    await profileDl.saveAs(profile);
    const py = execFileSync('python3', ['-c', `
import plistlib, sys
p = plistlib.load(open(sys.argv[1], 'rb'))
ident, mail = p['PayloadContent']
print(ident['PayloadType'], ident['PayloadContent'] == open(sys.argv[2], 'rb').read(), mail['PayloadType'], mail['EmailAddress'])
`, profile, p12], { encoding: 'utf8' });
    assert.equal(py, `com.apple.security.pkcs12 True com.apple.mail.managed ${ALICE}\n`);
  });

  test('generate an Ed25519 key in the browser where WebCrypto supports it', async (t) => {
    await page.getByRole('link', { name: 'Generate key' }).click();
    const option = page.locator('option[value="ed25519"]');
    await page.waitForFunction(() => !document.querySelector('option[value="ed25519"]')?.textContent?.includes('checking'));
    if (await option.evaluate((o) => (o as HTMLOptionElement).disabled)) return t.skip('this Chromium has no Ed25519 in WebCrypto');
    await page.getByLabel('Key type').selectOption('ed25519');
    await page.getByLabel('Name').fill('browser ed25519');
    await page.getByLabel('PKCS#12 password').fill('pw');
    await page.getByLabel('Repeat the password').fill('pw');
    await page.getByRole('button', { name: 'Generate and register' }).click();
    await confirmPassword(ALICE_PASSWORD);
    const fp = await page.locator('#generated-fingerprint').innerText();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download browser-ed25519.p12' }).click()]);
    const p12 = join(dir, 'ed.p12');
    await download.saveAs(p12);
    const out = execFileSync('openssl', ['pkcs12', '-in', p12, '-nodes', '-passin', 'pass:pw'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const cert = parseCertificate(pemBlock(out, 'CERTIFICATE'));
    assert.equal(cert.fingerprint, fp);
    assert.equal(cert.keyType, 'ed25519');
    assert.equal((await h.store.getTlsPubKey(fp))?.type, 'ed25519');
    const login = await certificateLogin(h, lb, pemBlock(out, 'PRIVATE KEY'), pemBlock(out, 'CERTIFICATE'));
    assert.equal(login?.identity.keyFingerprint, fp);
    assert.match(await imapsGreeting(h, pemBlock(out, 'PRIVATE KEY'), pemBlock(out, 'CERTIFICATE')), /^\* PREAUTH /, 'the browser-made key gets PREAUTH');
  });

  test('upload with the login over 5 minutes old: cancelling the password stores nothing; confirming adds the key', async () => {
    await page.getByRole('link', { name: 'TLS keys' }).click();
    const certFile = join(dir, 'later.cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ed25519', '-keyout', join(dir, 'later.key.pem'), '-out', certFile, '-nodes', '-subj', '/CN=later laptop', '-days', '36500'], { stdio: 'pipe' });
    const fp = parseCertificate(readFileSync(certFile)).fingerprint;
    await page.getByLabel('Certificate file').setInputFiles(certFile);
    await page.getByRole('button', { name: 'Add key' }).click();
    await page.getByRole('dialog', { name: 'Confirm with your password' }).getByRole('button', { name: 'Cancel' }).click();
    await page.locator('.status.fail', { hasText: 'password was not confirmed' }).waitFor();
    assert.equal(await h.store.getTlsPubKey(fp), null, 'nothing stored without the password');
    await page.getByRole('button', { name: 'Add key' }).click();
    await confirmPassword(ALICE_PASSWORD);
    await page.locator(`tr[data-fingerprint="${fp}"]`).waitFor();
    assert.equal((await h.store.getTlsPubKey(fp))?.accountId, h.aliceId);
  });

  test('a state change without the CSRF token is refused', async () => {
    const key = (await h.store.listTlsPubKeys(h.aliceId))[0]!;
    const status = await page.evaluate(async (fp) => (await fetch(`/account/api/tlspubkeys/${fp}`, { method: 'DELETE' })).status, key.fingerprint);
    assert.equal(status, 403);
    const post = await page.evaluate(async () => (await fetch('/account/api/password', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ oldPassword: 'x', newPassword: 'yyyyyyyyyy' }) })).status);
    assert.equal(post, 403);
    assert.ok(await h.store.getTlsPubKey(key.fingerprint), 'key still there');
  });

  test('openssl commands: name filled in, and they work', async () => {
    await page.getByRole('link', { name: 'openssl commands' }).click();
    await page.getByLabel('Key name').fill('my laptop');
    const text = await page.locator('pre.commands').innerText();
    assert.match(text, /-subj '\/CN=my laptop'/);
    assert.match(text, /-legacy/);
    await shot('commands');
    const work = mkdtempSync(join(dir, 'cmd-'));
    const script = text.split('\n').filter((l) => l.startsWith('openssl')).map((l) => (l.includes('pkcs12') ? `${l} -passout pass:x` : l)).join('\n');
    execFileSync('bash', ['-ec', script], { cwd: work, stdio: 'pipe' });
    const cert = parseCertificate(readFileSync(join(work, 'my-laptop.cert.pem')));
    assert.equal(cert.defaultName, 'my laptop');
    assert.equal(cert.keyType, 'ecdsa-p256');
    assert.ok(existsSync(join(work, 'my-laptop.p12')));
    await page.getByLabel('Key type').selectOption('ed25519');
    assert.match(await page.locator('pre.commands').innerText(), /genpkey -algorithm ed25519/);
  });

  test('password, login attempts and mail client pages', async () => {
    await page.getByRole('link', { name: 'Password' }).click();
    await page.getByLabel('Current password').fill('not it');
    await page.getByLabel('New password', { exact: true }).fill('a-new-password');
    await page.getByLabel('Repeat the new password').fill('a-new-password');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.locator('.field-error', { hasText: 'current password is wrong' }).waitFor();
    await shot('password');

    await page.getByRole('link', { name: 'Login attempts' }).click();
    await page.locator('table.attempts').waitFor();
    const attempts = await page.locator('table.attempts').innerText();
    // The key login is named by its key, with its mechanism and result in words (issue 15).
    assert.match(attempts, /TLS client certificate/);
    assert.match(attempts, /browser e2e/);
    assert.match(attempts, /logged in/);
    assert.match(attempts, /wrong password or unknown address/);
    await shot('attempts');

    await page.getByRole('link', { name: 'Mail clients' }).click();
    await page.locator('table.settings').waitFor();
    assert.match(await page.locator('table.settings').innerText(), /10993/);
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: /Thunderbird/ }).click()]);
    const xmlPath = join(dir, 'config.xml');
    await dl.saveAs(xmlPath);
    assert.match(readFileSync(xmlPath, 'utf8'), /<clientConfig version="1.1">/);
    await shot('settings');
  });

  test('DMARC reports page: the account\'s domain, per day, each report with its rows; readable on a phone', async () => {
    const begin = Date.parse('2026-03-01T00:00:00Z') / 1000;
    const row = (ip: string, count: number, disposition: string, dkim: string, spf: string) => ({
      sourceIp: ip, count, disposition, dkim, spf, envelopeFrom: 'example.org', headerFrom: 'example.org',
      authDkim: [{ domain: 'example.org', selector: 's1', result: dkim }], authSpf: [{ domain: 'example.org', result: spf }],
    });
    const report = {
      orgName: 'google.test', email: 'dmarc@google.test', reportId: 'g-1', begin, end: begin + 86399,
      policy: { domain: 'example.org', adkim: 'r' as const, aspf: 'r' as const, p: 'reject', sp: 'reject', pct: 100 },
      records: [row('192.0.2.10', 12, 'none', 'pass', 'pass'), row('198.51.100.7', 3, 'reject', 'fail', 'fail')],
    };
    assert.equal(await takeReport(h.store, reportMessage(report, { hostname: 'google.test', to: ['dmarc@example.org'], now: new Date() }), silentLogger), true);
    await takeReport(h.store, reportMessage({ ...report, reportId: 'b-1', policy: { ...report.policy, domain: 'example.com' } }, { hostname: 'google.test', to: ['dmarc@example.com'], now: new Date() }), silentLogger);

    await page.getByRole('link', { name: 'DMARC reports' }).click();
    await page.getByRole('heading', { name: 'DMARC reports' }).waitFor();
    const domain = page.getByRole('region', { name: 'example.org' });
    await domain.locator('table.dmarc-rows').waitFor();
    assert.equal(await page.getByRole('heading', { name: 'example.com' }).count(), 0, "another account's domain is not shown");
    assert.match(await domain.getByRole('heading', { level: 3 }).innerText(), /^2026-03-01$/);
    assert.match(await domain.getByRole('heading', { level: 4 }).innerText(), /google\.test.*15 messages, 3 failed DMARC/s);
    const rows = await domain.locator('table.dmarc-rows tbody tr').allInnerTexts();
    assert.equal(rows.length, 2);
    assert.match(rows[0]!, /192\.0\.2\.10\s+12\s+none\s+pass\s+pass/);
    assert.match(rows[1]!, /198\.51\.100\.7\s+3\s+reject\s+fail\s+fail/);
    await shot('dmarc');
    await page.setViewportSize({ width: 390, height: 844 });
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `no horizontal scrolling on a phone (width ${width})`);
    await shot('dmarc-phone');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  test('readable on a phone; keyboard navigation; logout', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('link', { name: 'TLS keys' }).click();
    await page.locator('table.keys tbody tr').first().waitFor();
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `no horizontal scrolling on a phone (width ${width})`);
    await shot('keys-phone');
    await page.setViewportSize({ width: 1280, height: 900 });
    // Keyboard: the first Tab reaches the skip link, Enter on a nav link switches section.
    await page.reload();
    await page.getByRole('heading', { name: 'TLS public keys' }).waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    await page.getByRole('link', { name: 'Mail clients' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Mail client settings' }).waitFor();
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    const status = await page.evaluate(async () => (await fetch('/account/api/session')).status);
    assert.equal(status, 401);
  });
});
