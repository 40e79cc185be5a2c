// `postern config tlspubkey` with certificates made by openssl (spec 2.1, issue 4 "Keys").

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postern } from '../cli/run-cli.js';
import { opensslCert, opensslFingerprint, type OpensslKeyType } from '../e2e/openssl.js';

function setup(): string {
  const dir = mkdtempSync(join(tmpdir(), 'postern-keys-'));
  const r = postern(['quickstart', '--dir', dir, '--hostname', 'localhost', '--password', 'secretpass', 'alice@example.test']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(postern(['--dir', dir, 'account', 'addaddress', 'alice', 'al@example.test']).status, 0);
  assert.equal(postern(['--dir', dir, 'account', 'add', 'bob', 'bob@example.test']).status, 0);
  return dir;
}

test('accepted key types; the printed fingerprint is SHA-256 of the SPKI as openssl computes it', () => {
  const dir = setup();
  try {
    const types: [OpensslKeyType, string][] = [['ed25519', 'ed25519'], ['ec-p256', 'ecdsa-p256'], ['ec-p384', 'ecdsa-p384'], ['rsa-2048', 'rsa-2048'], ['rsa-4096', 'rsa-4096']];
    for (const [t, expectType] of types) {
      const c = opensslCert(t, { subject: `/CN=device ${t}` });
      const r = postern(['--dir', dir, 'config', 'tlspubkey', 'add', 'alice@example.test'], { input: c.certPem });
      assert.equal(r.status, 0, `${t}: ${r.stderr}`);
      const fp = r.stdout.trim();
      assert.equal(fp, opensslFingerprint(c.certFile), t);
      assert.match(fp, /^[A-Za-z0-9_-]{43}$/);
      const got = postern(['--dir', dir, 'config', 'tlspubkey', 'get', fp]);
      assert.equal(got.status, 0, got.stderr);
      assert.match(got.stdout, new RegExp(`^type: ${expectType}$`, 'm'));
      assert.match(got.stdout, new RegExp(`^name: device ${t}$`, 'm'));
      assert.match(got.stdout, /^account: alice$/m);
      assert.match(got.stdout, /^login address: alice@example\.test$/m);
      assert.match(got.stdout, /^no imap preauth: false$/m);
      assert.match(got.stdout, /^last used: -$/m);
      // The certificate comes back as uploaded.
      const pem = got.stdout.slice(got.stdout.indexOf('-----BEGIN CERTIFICATE-----'));
      assert.equal(pem.replace(/\s+/g, ''), c.certPem.replace(/\s+/g, ''));
    }
    const list = postern(['--dir', dir, 'config', 'tlspubkey', 'list']);
    const lines = list.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^#/);
    assert.equal(lines.length, 1 + types.length);
    const cols = lines[1]!.split('\t');
    assert.equal(cols.length, 8);
    assert.equal(cols[3], 'alice');
    assert.equal(cols[5], 'false');
    assert.match(cols[6]!, /^\d{4}-\d\d-\d\dT/);
    assert.equal(cols[7], '-');
    assert.equal(postern(['--dir', dir, 'config', 'tlspubkey', 'list', 'bob']).stdout.trimEnd().split('\n').length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('DER input, --no-imap-preauth, name argument, expired and empty-subject certificates', () => {
  const dir = setup();
  try {
    const c = opensslCert('ec-p256');
    const der = execFileSync('openssl', ['x509', '-in', c.certFile, '-outform', 'DER']);
    const r = postern(['--dir', dir, 'config', 'tlspubkey', 'add', 'al@example.test', 'my phone'], { input: der });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), opensslFingerprint(c.certFile));
    const phone = postern(['--dir', dir, 'config', 'tlspubkey', 'get', r.stdout.trim()]);
    assert.equal(phone.status, 0, `get: status ${phone.status} stderr ${phone.stderr}`);
    assert.match(phone.stdout, /^name: my phone$/m);
    const expired = opensslCert('ed25519', { days: -1 });
    const e = postern(['--dir', dir, 'config', 'tlspubkey', 'add', 'al@example.test', 'old laptop', '--no-imap-preauth'], { input: expired.certPem });
    assert.equal(e.status, 0, e.stderr);
    const g = postern(['--dir', dir, 'config', 'tlspubkey', 'get', e.stdout.trim()]);
    assert.match(g.stdout, /^name: old laptop$/m);
    assert.match(g.stdout, /^login address: al@example\.test$/m);
    assert.match(g.stdout, /^no imap preauth: true$/m);
    const empty = opensslCert('ed25519', { subject: '' });
    const s = postern(['--dir', dir, 'config', 'tlspubkey', 'add', 'alice@example.test'], { input: empty.certPem });
    assert.equal(s.status, 0, s.stderr);
    assert.match(postern(['--dir', dir, 'config', 'tlspubkey', 'get', s.stdout.trim()]).stdout, /^name: serial [0-9a-f]+$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('refusals: rsa-1024, duplicate key, unknown address, private key, garbage, unknown fingerprint', () => {
  const dir = setup();
  try {
    const fail = (args: string[], input: string, re: RegExp) => {
      const r = postern(['--dir', dir, 'config', 'tlspubkey', ...args], { input });
      assert.notEqual(r.status, 0, `${args.join(' ')} should fail`);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, re);
    };
    fail(['add', 'alice@example.test'], opensslCert('rsa-1024').certPem, /RSA|2048/i);
    const c = opensslCert('ed25519');
    assert.equal(postern(['--dir', dir, 'config', 'tlspubkey', 'add', 'alice@example.test'], { input: c.certPem }).status, 0);
    fail(['add', 'alice@example.test'], c.certPem, /already registered/);
    fail(['add', 'bob@example.test'], c.certPem, /already registered/); // a key belongs to one account
    fail(['add', 'nobody@example.test'], opensslCert('ed25519').certPem, /address nobody@example\.test not found/);
    fail(['add', 'alice@example.test'], c.keyPem, /private key/);
    fail(['add', 'alice@example.test'], 'hello world\n', /not a certificate|certificate/);
    fail(['add', 'alice@example.test'], '', /no certificate on standard input/);
    fail(['get', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'], '', /not found/);
    fail(['rm', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'], '', /not found/);
    // base64url: one fingerprint in 64 starts with '-', and must not be taken for an option.
    fail(['get', '-3AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'], '', /TLS public key -3A+ not found/);
    fail(['rm', '--', '-3AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'], '', /not found/);
    assert.equal(postern(['--dir', dir, 'config', 'tlspubkey', 'list']).stdout.trimEnd().split('\n').length, 2, 'only the one key');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('gen writes key, certificate, key+cert and PKCS#12; openssl reads them; the fingerprint matches', () => {
  const dir = mkdtempSync(join(tmpdir(), 'postern-gen-'));
  try {
    const stem = join(dir, 'laptop');
    const r = postern(['config', 'tlspubkey', 'gen', stem, '--password', 'p12pass']);
    assert.equal(r.status, 0, r.stderr);
    for (const ext of ['key.pem', 'cert.pem', 'keycert.pem', 'p12']) assert.ok(existsSync(`${stem}.${ext}`), ext);
    assert.equal(statSync(`${stem}.key.pem`).mode & 0o777, 0o600);
    assert.match(readFileSync(`${stem}.key.pem`, 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
    assert.equal(r.stdout.trim(), opensslFingerprint(`${stem}.cert.pem`));
    const out = execFileSync('openssl', ['pkcs12', '-in', `${stem}.p12`, '-nodes', '-passin', 'pass:p12pass']).toString();
    assert.match(out, /BEGIN PRIVATE KEY/);
    assert.match(out, /BEGIN CERTIFICATE/);
    const again = postern(['config', 'tlspubkey', 'gen', stem]);
    assert.notEqual(again.status, 0, 'never overwrites');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
