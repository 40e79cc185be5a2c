import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseConfig, resolverAddress } from './load.js';
import { renderConfig } from './write.js';
import YAML from 'yaml';

const base = { hostname: 'mail.example.test', listeners: { main: { ips: ['127.0.0.1'], portBase: 20000, services: ['imap', 'smtp'] } } };

test('the config quickstart writes parses back with the right ports', () => {
  const text = renderConfig({ hostname: 'localhost', listen: '127.0.0.1', portBase: 1000, certFile: 'tls/cert.pem', keyFile: 'tls/key.pem' });
  const c = parseConfig(YAML.parse(text), '/d');
  assert.equal(c.hostname, 'localhost');
  assert.deepEqual(c.tls, { certFile: '/d/tls/cert.pem', keyFile: '/d/tls/key.pem' });
  assert.deepEqual(c.listeners[0]!.ports, { smtp: 1025, submission: 1587, submissions: 1465, imap: 1143, imaps: 1993, http: 1080, https: 1443 });
  assert.equal(c.listeners[0]!.requestClientCertificates, true);
  assert.equal(c.limits.imap.maxLiteralSize, 102400);
});

test('port overrides and limits', () => {
  const c = parseConfig({ ...base, listeners: { main: { ...base.listeners.main, ports: { imap: 0 } } }, limits: { imap: { appendLimit: 5 } } }, '/d');
  assert.deepEqual(c.listeners[0]!.ports, { imap: 0, smtp: 20025 });
  assert.equal(c.limits.imap.appendLimit, 5);
});

test('outbound: private addresses refused unless allowed', () => {
  assert.deepEqual(parseConfig(base, '/d').outbound, { allowPrivateAddresses: false, mtaSts: true, dnssecResolver: null });
  assert.deepEqual(parseConfig({ ...base, outbound: { allowPrivateAddresses: true } }, '/d').outbound, { allowPrivateAddresses: true, mtaSts: true, dnssecResolver: null });
  assert.deepEqual(parseConfig({ ...base, outbound: { mtaSts: false } }, '/d').outbound, { allowPrivateAddresses: false, mtaSts: false, dnssecResolver: null });
  assert.deepEqual(parseConfig({ ...base, outbound: { dnssecResolver: '127.0.0.1:5353' } }, '/d').outbound.dnssecResolver, { host: '127.0.0.1', port: 5353 });
  assert.deepEqual(parseConfig({ ...base, outbound: { dnssecResolver: '::1' } }, '/d').outbound.dnssecResolver, { host: '::1', port: 53 });
});

test('dns.resolver and mtaSts: defaults and the accepted forms', () => {
  const d = parseConfig(base, '/d');
  assert.deepEqual(d.dns, { resolver: null });
  assert.deepEqual(d.mtaSts, { mode: 'testing', maxAgeSeconds: 604800 });
  for (const r of ['192.0.2.53', '127.0.0.1:5353', '[::1]:5353', '2001:db8::53']) {
    assert.equal(parseConfig({ ...base, dns: { resolver: r } }, '/d').dns.resolver, r);
  }
  assert.deepEqual(parseConfig({ ...base, mtaSts: { mode: 'enforce', maxAge: 86400 } }, '/d').mtaSts, { mode: 'enforce', maxAgeSeconds: 86400 });
});

test('dns.resolver and dmarc.exceptions', () => {
  assert.deepEqual(parseConfig(base, '/d').dns, { resolver: null });
  assert.deepEqual(parseConfig({ ...base, dns: { resolver: '127.0.0.1:5353' } }, '/d').dns, { resolver: '127.0.0.1:5353' });
  assert.deepEqual(resolverAddress('[::1]:53'), { host: '::1', port: 53 });
  assert.deepEqual(resolverAddress('192.0.2.1'), { host: '192.0.2.1', port: 53 });
  assert.equal(resolverAddress('resolver.example:53'), null);
  assert.deepEqual(parseConfig({ ...base, dmarc: { exceptions: ['Lists.Example.'] } }, '/d').dmarc, { exceptions: ['lists.example'], enforce: true, reportAddresses: [] });
  assert.deepEqual(parseConfig(base, '/d').junk, { enabled: true, threshold: 0.9 });
  assert.deepEqual(parseConfig({ ...base, junk: { enabled: false, threshold: 0.8 } }, '/d').junk, { enabled: false, threshold: 0.8 });
});

test('errors name the key and the bad value', () => {
  const cases: [unknown, RegExp][] = [
    [{ ...base, colour: 'blue' }, /^colour: unknown key/],
    [{ ...base, hostname: 'bad host' }, /^hostname: not a valid host name: "bad host"/],
    [{ ...base, hostname: 7 }, /^hostname: must be a non-empty string, got 7/],
    [{ ...base, listeners: { main: { ips: ['1.2.3'] } } }, /^listeners\.main\.ips\[0\]: not an IP address: "1\.2\.3"/],
    [{ ...base, listeners: { main: { ips: ['127.0.0.1'], portBase: 'x' } } }, /^listeners\.main\.portBase: must be a whole number/],
    [{ ...base, listeners: { main: { ips: ['127.0.0.1'], services: ['pop3'] } } }, /^listeners\.main\.services\[0\]: unknown service "pop3"/],
    [{ ...base, listeners: { main: { ips: ['127.0.0.1'], prot: 1 } } }, /^listeners\.main\.prot: unknown key/],
    [{ ...base, listeners: {} }, /^listeners: at least one listener/],
    [{ ...base, limits: { imap: { maxLiteralSize: -1 } } }, /^limits\.imap\.maxLiteralSize: must be a whole number/],
    [{ ...base, limits: { imap: { nope: 1 } } }, /^limits\.imap\.nope: unknown key/],
    [{ ...base, listeners: { main: { ips: ['127.0.0.1'] } } }, /^tls: imaps, submissions and https listeners need/],
    [{ ...base, outbound: { allowPrivateAddresses: 'yes' } }, /^outbound\.allowPrivateAddresses: must be true or false/],
    [{ ...base, outbound: { mtaSts: 1 } }, /^outbound\.mtaSts: must be true or false/],
    [{ ...base, outbound: { dnssecResolver: '9.9.9.9' } }, /^outbound\.dnssecResolver: must be a resolver on loopback/],
    [{ ...base, outbound: { dnssecResolver: 'localhost' } }, /^outbound\.dnssecResolver: must be an IP address/],
    [{ ...base, outbound: { allowPrivate: true } }, /^outbound\.allowPrivate: unknown key/],
    [{ ...base, dns: { resolver: 'dns.example' } }, /^dns\.resolver: must be IP\[:port\] or \[IPv6\]:port, got "dns\.example"/],
    [{ ...base, dns: { resolver: '[::1]' } }, /^dns\.resolver: must be IP/],
    [{ ...base, dns: { resolver: '127.0.0.1:70000' } }, /^dns\.resolver: must be IP/],
    [{ ...base, dns: { server: '127.0.0.1' } }, /^dns\.server: unknown key/],
    [{ ...base, mtaSts: { mode: 'strict' } }, /^mtaSts\.mode: must be one of testing, enforce, none, got "strict"/],
    [{ ...base, mtaSts: { maxAge: 0 } }, /^mtaSts\.maxAge: must be a whole number from 1 to 31557600/],
    [{ ...base, dmarc: { exceptions: 'x.example' } }, /^dmarc\.exceptions: must be a list/],
    [{ ...base, dmarc: { exceptions: ['bad domain'] } }, /^dmarc\.exceptions\[0\]: not a domain/],
    [{ ...base, junk: { threshold: 2 } }, /^junk\.threshold: must be a number above 0/],
    [null, /must be a mapping/],
  ];
  for (const [doc, re] of cases) {
    assert.throws(() => parseConfig(doc, '/d'), (e: Error) => e instanceof ConfigError && re.test(e.message), String(re));
  }
});

test('loadConfig: missing file, bad YAML, duplicate keys, unreadable TLS file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'postern-config-'));
  try {
    assert.throws(() => loadConfig(dir), /postern\.conf: no such file/);
    writeFileSync(join(dir, 'postern.conf'), 'hostname: [unclosed\n');
    assert.throws(() => loadConfig(dir), /postern\.conf:\d+:\d+: bad YAML \(/);
    writeFileSync(join(dir, 'postern.conf'), 'hostname: a.test\nhostname: b.test\n');
    assert.throws(() => loadConfig(dir), /bad YAML/);
    writeFileSync(join(dir, 'postern.conf'), YAML.stringify({ ...base, tls: { certFile: 'nope.pem', keyFile: 'nope.key' } }));
    assert.throws(() => loadConfig(dir), /tls: cannot read .*nope\.pem/);
    writeFileSync(join(dir, 'postern.conf'), YAML.stringify(base));
    assert.equal(loadConfig(dir).hostname, 'mail.example.test');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('auth: the attempt policy overrides the defaults of auth/limits.ts, and checks its values', async () => {
  const { authLimitsOf, DEFAULT_AUTH_LIMITS } = await import('../auth/limits.js');
  const plain = parseConfig(base, '/d');
  assert.equal(plain.auth, undefined);
  assert.deepEqual(authLimitsOf(plain), { ...DEFAULT_AUTH_LIMITS, delayStepMs: 1000 });
  const c = parseConfig({ ...base, authFailureDelayMs: 0, auth: { maxFailuresPerConnection: 4, failuresPerMinute: [5, 50, 150], cleartextFromLoopback: true } }, '/d');
  const l = authLimitsOf(c);
  assert.equal(l.delayStepMs, 0);
  assert.equal(l.maxFailuresPerConnection, 4);
  assert.equal(l.failuresBeforeDelay, 3);
  assert.equal(l.cleartextFromLoopback, true);
  assert.deepEqual(l.windows, [{ ms: 60_000, limits: [5, 50, 150] }, { ms: 86_400_000, limits: [50, 500, 1000] }]);
  const cases: [unknown, RegExp][] = [
    [{ ...base, auth: { lockout: 1 } }, /^auth\.lockout: unknown key/],
    [{ ...base, auth: { failuresPerDay: [1, 2] } }, /^auth\.failuresPerDay: must be a list of 3 numbers/],
    [{ ...base, auth: { maxFailuresPerConnection: 0 } }, /^auth\.maxFailuresPerConnection: must be a whole number/],
    [{ ...base, auth: { cleartextFromLoopback: 'yes' } }, /^auth\.cleartextFromLoopback: must be true or false/],
  ];
  for (const [doc, re] of cases) assert.throws(() => parseConfig(doc, '/d'), (e: unknown) => e instanceof ConfigError && re.test(e.message));
});

test('quota.default: bytes, K/M/G sizes, none; anything else is an error naming the key', () => {
  assert.equal(parseConfig(base, '/d').quota.default, null);
  for (const [v, want] of [[1024, 1024], ['500M', 500 * 1024 ** 2], ['2g', 2 * 1024 ** 3], ['16K', 16384], ['none', null]] as const) {
    assert.equal(parseConfig({ ...base, quota: { default: v } }, '/d').quota.default, want, String(v));
  }
  for (const v of ['lots', '1T', '-5', '1.5G', true, [1]]) {
    assert.throws(() => parseConfig({ ...base, quota: { default: v } }, '/d'), (e: Error) => e instanceof ConfigError && /^quota\.default: /.test(e.message), String(v));
  }
  assert.throws(() => parseConfig({ ...base, quota: { defualt: '1G' } }, '/d'), (e: Error) => e instanceof ConfigError && /defualt/.test(e.message));
});
