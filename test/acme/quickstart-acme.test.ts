// quickstart chooses tls.acme for a public host name (or on --acme), and the config it writes loads;
// tls.acme errors name the key.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig, parseConfig } from '../../src/config/load.js';
import { certificateNames } from '../../src/acme/names.js';
import { postern } from '../cli/run-cli.js';

function quickstart(...args: string[]) {
  const root = mkdtempSync(join(tmpdir(), 'postern-qs-acme-'));
  const dir = join(root, 'd');
  const r = postern(['quickstart', '--dir', dir, '--listen', '127.0.0.1', '--password', 'secretpass', ...args, 'alice@postern-mail.net']);
  assert.equal(r.status, 0, r.stderr);
  const config = loadConfig(dir);
  rmSync(root, { recursive: true, force: true });
  return { config, stdout: r.stdout };
}

test('quickstart: ACME by default for a public host name, not for localhost; --acme and --no-acme decide', () => {
  const pub = quickstart('--hostname', 'mail.postern-mail.net');
  assert.equal(pub.config.tls?.acme?.directoryUrl, 'https://acme-v02.api.letsencrypt.org/directory');
  assert.deepEqual(pub.config.tls?.acme?.contact, ['mailto:alice@postern-mail.net']);
  assert.deepEqual(pub.config.tls?.acme?.challenges, ['tls-alpn-01', 'http-01']);
  assert.match(pub.stdout, /tls status/);
  assert.equal(quickstart('--hostname', 'localhost').config.tls?.acme, undefined);
  assert.equal(quickstart('--hostname', 'mail.example.org').config.tls?.acme, undefined, 'documentation names are not public');
  assert.equal(quickstart('--hostname', 'mail.postern-mail.net', '--no-acme').config.tls?.acme, undefined);
  assert.ok(quickstart('--hostname', 'localhost', '--acme').config.tls?.acme);
});

test('tls.acme: names on and off, and errors that name the key', () => {
  const base = { hostname: 'mail.example.org', listeners: { main: { ips: ['127.0.0.1'], services: ['imap'] } } };
  const acme = (a: unknown) => parseConfig({ ...base, tls: { certFile: 'c', keyFile: 'k', acme: a } }, '/d');
  const c = acme({ directoryUrl: 'https://ca.test/dir', names: { 'autoconfig.example.org': false, 'webmail.example.org': true } });
  assert.deepEqual(certificateNames('mail.example.org', ['example.org', 'example.net'], c.tls!.acme!), [
    'autoconfig.example.net', 'mail.example.org', 'mta-sts.example.net', 'mta-sts.example.org', 'webmail.example.org',
  ]);
  for (const [bad, re] of [
    [{ directoryUrl: 'http://ca.test/dir' }, /tls\.acme\.directoryUrl: must be an https/],
    [{ directoryUrl: 'https://ca.test/dir', challenges: ['dns-01'] }, /tls\.acme\.challenges\[0\]/],
    [{ directoryUrl: 'https://ca.test/dir', contact: 'not an address' }, /tls\.acme\.contact\[0\]/],
    [{ directoryUrl: 'https://ca.test/dir', names: { localhost: true } }, /tls\.acme\.names\.localhost/],
    [{ directoryUrl: 'https://ca.test/dir', keepKey: true }, /tls\.acme\.keepKey: unknown key/],
  ] as const) {
    assert.throws(() => acme(bad), (e: Error) => e instanceof ConfigError && re.test(e.message), String(re));
  }
});
