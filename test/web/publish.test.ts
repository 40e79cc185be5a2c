// Publishing the server: the MTA-STS policy per domain (by Host), Thunderbird autoconfig offering the
// device-key login and refusing foreign domains, and the Apple profile carrying a PKCS#12 identity
// (read back by Python's plistlib and OpenSSL, as a device would).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mtaStsId } from '../../src/dns/mta-sts-policy.js';
import { appleProfile } from '../../src/web/apple-profile.js';
import { clientSettings } from '../../src/web/client-settings.js';
import { ALICE, ALICE_PASSWORD, startWebHarness, type WebHarness } from './harness.js';

let h: WebHarness;
before(async () => {
  h = await startWebHarness();
});
after(async () => {
  await h.close();
});

test('MTA-STS policy served at mta-sts.DOMAIN for our domains only, with the id the DNS record names', async () => {
  const c = h.client({ tls: true });
  const r = await c.request('GET', '/.well-known/mta-sts.txt', { headers: { host: 'mta-sts.example.org' } });
  assert.equal(r.status, 200);
  assert.match(String(r.headers['content-type']), /^text\/plain/);
  assert.equal(r.text, 'version: STSv1\r\nmode: testing\r\nmx: localhost\r\nmax_age: 604800\r\n');
  assert.match(mtaStsId(r.text), /^[0-9a-f]{20}$/);
  // The mode comes from the config.
  h.ctx.config.mtaSts = { mode: 'enforce', maxAgeSeconds: 86400 };
  try {
    const e = await c.request('GET', '/.well-known/mta-sts.txt', { headers: { host: 'MTA-STS.example.com:443' } });
    assert.equal(e.status, 200);
    assert.equal(e.text, 'version: STSv1\r\nmode: enforce\r\nmx: localhost\r\nmax_age: 86400\r\n');
    assert.notEqual(mtaStsId(e.text), mtaStsId(r.text), 'a changed policy gets a new id');
  } finally {
    h.ctx.config.mtaSts = { mode: 'testing', maxAgeSeconds: 604800 };
  }
  for (const host of ['mta-sts.foreign.example', 'example.org', 'localhost']) {
    const f = await c.request('GET', '/.well-known/mta-sts.txt', { headers: { host } });
    assert.equal(f.status, 404, host);
  }
});

test('Thunderbird autoconfig: TLS-client-cert beside passwords; 404 for a domain that is not ours', async () => {
  const anon = h.client({ tls: true });
  const wk = await anon.request('GET', '/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=alice%40example.org');
  assert.equal(wk.status, 200);
  for (const server of wk.text.match(/<(incoming|outgoing)Server[\s\S]*?<\/\1Server>/g)!) {
    assert.match(server, /<authentication>password-cleartext<\/authentication>\s*<authentication>TLS-client-cert<\/authentication>/);
  }
  const byHost = await anon.request('GET', '/mail/config-v1.1.xml', { headers: { host: 'autoconfig.example.com' } });
  assert.equal(byHost.status, 200);
  assert.match(byHost.text, /<emailProvider id="example.com">/);
  assert.equal((await anon.request('GET', '/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=eve%40foreign.example')).status, 404);
  assert.equal((await anon.request('GET', '/mail/config-v1.1.xml', { headers: { host: 'autoconfig.foreign.example' } })).status, 404);
  assert.equal((await anon.request('GET', '/mail/config-v1.1.xml?emailaddress=nobody')).status, 404);
  const c = h.client();
  await c.loginOk(ALICE, ALICE_PASSWORD);
  const own = await c.request('GET', '/account/api/clientsettings/autoconfig.xml');
  assert.match(own.text, /<authentication>TLS-client-cert<\/authentication>/);
});

function openssl(args: string[], input?: Buffer): { status: number | null; stdout: string } {
  const r = spawnSync('openssl', args, { input, encoding: 'buffer' });
  return { status: r.status, stdout: r.stdout.toString() };
}

test('Apple profile with a PKCS#12 identity: a pkcs12 payload beside the mail account, readable by plistlib and openssl', () => {
  const dir = mkdtempSync(join(tmpdir(), 'postern-profile-'));
  try {
    // A device key as the browser makes one: key, self-signed certificate, password-protected .p12.
    const key = join(dir, 'k.pem');
    const cert = join(dir, 'c.pem');
    assert.equal(openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-subj', '/CN=phone', '-days', '30']).status, 0);
    const p12 = spawnSync('openssl', ['pkcs12', '-export', '-inkey', key, '-in', cert, '-passout', 'pass:p12-secret', '-name', 'phone'], { encoding: 'buffer' }).stdout;
    assert.ok(p12.length > 100);
    const settings = clientSettings(h.ctx.config);
    const sha256 = (d: Uint8Array) => createHash('sha256').update(d).digest();
    const xml = appleProfile(settings, ALICE, { sha256, identity: { pkcs12Base64: p12.toString('base64'), name: 'my phone' } });
    assert.ok(!xml.includes('p12-secret'), 'the PKCS#12 password is not in the profile');
    const file = join(dir, 'p.mobileconfig');
    writeFileSync(file, xml);
    // plistlib: the document is a valid property list; print what a device would read.
    const py = spawnSync('python3', ['-c', `
import plistlib, sys, base64
p = plistlib.load(open(sys.argv[1], 'rb'))
ident, mail = p['PayloadContent']
print(ident['PayloadType'], ident['PayloadCertificateFileName'], 'Password' in ident)
sys.stdout.flush()
open(sys.argv[2], 'wb').write(ident['PayloadContent'])
print(mail['PayloadType'], mail['IncomingMailServerHostName'], mail['IncomingMailServerPortNumber'], mail['EmailAddress'])
print(len({ident['PayloadUUID'], mail['PayloadUUID'], p['PayloadUUID']}))
`, file, join(dir, 'out.p12')], { encoding: 'utf8' });
    assert.equal(py.status, 0, py.stderr);
    assert.equal(py.stdout, `com.apple.security.pkcs12 my-phone.p12 False\ncom.apple.mail.managed localhost 10993 ${ALICE}\n3\n`);
    // The embedded identity is the .p12 itself: OpenSSL opens it with its password.
    const back = openssl(['pkcs12', '-in', join(dir, 'out.p12'), '-passin', 'pass:p12-secret', '-nokeys', '-clcerts']);
    assert.equal(back.status, 0);
    assert.match(back.stdout, /subject=CN\s*=\s*phone/);
    // Without an identity, the profile is the mail account alone (the server's download).
    const plain = appleProfile(settings, ALICE, { sha256 });
    assert.ok(!plain.includes('com.apple.security.pkcs12'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
