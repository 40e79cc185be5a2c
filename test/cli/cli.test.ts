// The command line contract of spec section 1, run as a child process like an admin would.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postern, type CliResult } from './run-cli.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'postern-cli-'));
}

/** A failure: non-zero status and exactly one line on stderr. */
function assertFails(r: CliResult, re: RegExp, status?: number): void {
  assert.notEqual(r.status, 0, `expected failure, got: ${r.stdout}`);
  if (status !== undefined) assert.equal(r.status, status);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr: ${r.stderr}`);
  assert.match(lines[0]!, re);
}

test('quickstart creates a data directory, prints the password and ports, refuses to overwrite', () => {
  const root = tempDir();
  const dir = join(root, 'd');
  try {
    const r = postern(['quickstart', '--dir', dir, '--hostname', 'localhost', '--listen', '127.0.0.1', '--port-base', '20000', '--password', 'secretpass', 'alice@example.test']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^password: the one given with --password$/m);
    assert.ok(!r.stdout.includes('secretpass'), 'a given password is not repeated');
    assert.match(r.stdout, /IMAPS.*127\.0\.0\.1:20993/);
    assert.match(r.stdout, /submission \(STARTTLS\).*127\.0\.0\.1:20587/);
    for (const f of ['postern.conf', 'tls/cert.pem', 'tls/key.pem', 'postern.db']) assert.ok(existsSync(join(dir, f)), f);
    assert.equal(statSync(join(dir, 'tls/key.pem')).mode & 0o077, 0, 'private key readable by owner only');
    assert.match(readFileSync(join(dir, 'postern.conf'), 'utf8'), /portBase: 20000/);
    const list = postern(['--dir', dir, 'account', 'list']);
    assert.equal(list.status, 0, list.stderr);
    assert.equal(list.stdout, 'alice\talice@example.test\n');
    const conf = readFileSync(join(dir, 'postern.conf'));
    const again = postern(['quickstart', '--dir', dir, '--password', 'otherpass1', 'bob@example.test']);
    assertFails(again, /already exists; not overwriting/);
    assert.ok(readFileSync(join(dir, 'postern.conf')).equals(conf), 'config unchanged');
    assert.equal(postern(['--dir', dir, 'account', 'list']).stdout, 'alice\talice@example.test\n', 'no account added');
    // A host name `serve` would refuse is refused here, before anything is written.
    for (const bad of ['mail example', 'mail_example.test', '-mail.example.test', 'mail..example.test', `${'a'.repeat(64)}.test`]) {
      const r = postern(['quickstart', '--dir', join(root, 'h'), `--hostname=${bad}`, '--password', 'secretpass', 'carol@example.test']);
      assertFails(r, /not a valid host name/, 64);
      assert.ok(!existsSync(join(root, 'h')), `${bad}: nothing written`);
    }
    // Generated password when none is given.
    const gen = postern(['quickstart', '--dir', join(root, 'g'), '--hostname', 'localhost', 'bob@example.test']);
    assert.equal(gen.status, 0, gen.stderr);
    assert.match(gen.stdout, /^password: [A-Za-z0-9_-]{16}$/m);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('account commands, POSTERN_DIR, and clear one-line errors that change nothing', () => {
  const dir = tempDir();
  try {
    assert.equal(postern(['quickstart', '--dir', dir, '--hostname', 'localhost', '--password', 'secretpass', 'alice@example.test']).status, 0);
    const env = { POSTERN_DIR: dir };
    assert.equal(postern(['account', 'add', 'bob', 'bob@example.test'], { env }).status, 0);
    assert.equal(postern(['account', 'addaddress', 'bob', 'robert@other.test'], { env }).status, 0);
    const before = postern(['account', 'list'], { env }).stdout;
    assert.equal(before, 'alice\talice@example.test\nbob\tbob@example.test,robert@other.test\n');

    assertFails(postern(['account', 'add', 'carol', 'bob@example.test'], { env }), /address bob@example\.test already exists/, 65);
    assertFails(postern(['account', 'add', 'bob', 'x@example.test'], { env }), /account bob already exists/, 65);
    assertFails(postern(['account', 'add', 'carol', 'not-an-address'], { env }), /invalid address "not-an-address"/, 65);
    assertFails(postern(['account', 'addaddress', 'nobody', 'n@example.test'], { env }), /account nobody not found/, 65);
    assertFails(postern(['account', 'rm', 'nobody'], { env }), /account nobody not found/, 65);
    assertFails(postern(['account', 'rmaddress', 'ghost@example.test'], { env }), /address ghost@example\.test not found/, 65);
    assertFails(postern(['account', 'rmaddress', 'alice@example.test'], { env }), /last address/, 65);
    assertFails(postern(['account', 'add', 'carol'], { env }), /usage: postern account add ACCOUNT ADDRESS/, 64);
    assertFails(postern(['account', 'frobnicate'], { env }), /usage: postern account/, 64);
    assertFails(postern(['account', 'list', '--bogus'], { env }), /Unknown option '--bogus'/, 64);
    assertFails(postern(['frobnicate'], { env }), /unknown command "frobnicate"/, 64);
    assert.equal(postern(['account', 'list'], { env }).stdout, before, 'nothing changed');

    assert.equal(postern(['account', 'rmaddress', 'robert@other.test'], { env }).status, 0);
    assert.equal(postern(['account', 'rm', 'bob'], { env }).status, 0);
    assert.equal(postern(['account', 'list'], { env }).stdout, 'alice\talice@example.test\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('setaccountpassword reads the first line of stdin and stores no plain text', () => {
  const dir = tempDir();
  try {
    assert.equal(postern(['quickstart', '--dir', dir, '--hostname', 'localhost', '--password', 'secretpass', 'alice@example.test']).status, 0);
    const r = postern(['--dir', dir, 'setaccountpassword', 'alice'], { input: 'n3w-passw0rd-ünïcode\nignored\n' });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!readFileSync(join(dir, 'postern.db')).includes('n3w-passw0rd'), 'password not in the database');
    assertFails(postern(['--dir', dir, 'setaccountpassword', 'alice'], { input: 'short\n' }), /at least 8 characters/, 65);
    assertFails(postern(['--dir', dir, 'setaccountpassword', 'alice'], { input: '' }), /no password on standard input/, 65);
    assertFails(postern(['--dir', dir, 'setaccountpassword', 'nobody'], { input: 'longenough\n' }), /account nobody not found/, 65);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad or missing config: clear error naming the problem', () => {
  const dir = tempDir();
  try {
    assertFails(postern(['--dir', join(dir, 'missing'), 'serve']), /postern\.conf: no such file/, 78);
    assertFails(postern(['--dir', join(dir, 'missing'), 'account', 'list']), /postern\.conf: no such file/, 78);
    assert.equal(postern(['quickstart', '--dir', dir, '--hostname', 'localhost', '--password', 'secretpass', 'alice@example.test']).status, 0);
    const conf = join(dir, 'postern.conf');
    const good = readFileSync(conf, 'utf8');
    writeFileSync(conf, good + 'colour: blue\n');
    assertFails(postern(['--dir', dir, 'serve']), /colour: unknown key/, 78);
    writeFileSync(conf, good.replace('portBase: 0', 'portBase: [oops'));
    assertFails(postern(['--dir', dir, 'serve']), /bad YAML/, 78);
    writeFileSync(conf, good.replace('ips: [0.0.0.0]', 'ips: [not-an-ip]'));
    assertFails(postern(['--dir', dir, 'serve']), /listeners\.main\.ips\[0\]: not an IP address: "not-an-ip"/, 78);
    writeFileSync(conf, good.replace('certFile: tls/cert.pem', 'certFile: tls/missing.pem'));
    assertFails(postern(['--dir', dir, 'account', 'list']), /tls: cannot read .*missing\.pem/, 78);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('account quota: SIZE with K, M or G, none, default from postern.conf; bad sizes refused', () => {
  const dir = tempDir();
  try {
    assert.equal(postern(['quickstart', '--dir', dir, '--hostname', 'localhost', '--password', 'secretpass', 'alice@example.test']).status, 0);
    const q = (...args: string[]) => postern(['--dir', dir, 'account', 'quota', 'alice', ...args]);
    assert.equal(q().stdout, 'alice\tused 0 bytes\tlimit none (server default)\n');
    assert.equal(q('10M').stdout, 'alice\tused 0 bytes\tlimit 10M\n');
    assert.equal(q('1536k').stdout, 'alice\tused 0 bytes\tlimit 1536K\n');
    assert.equal(q('12345').stdout, 'alice\tused 0 bytes\tlimit 12345\n');
    assert.equal(q('none').stdout, 'alice\tused 0 bytes\tlimit none\n');
    assertFails(q('10X'), /not a size: "10X"/, 65);
    assertFails(q('-1'), /not a size|Unknown option/);
    assertFails(postern(['--dir', dir, 'account', 'quota', 'nobody', '1G']), /account nobody not found/, 65);
    assertFails(postern(['--dir', dir, 'account', 'quota']), /usage: postern account quota ACCOUNT/, 64);
    // The default comes from postern.conf and applies to accounts without their own limit.
    const conf = join(dir, 'postern.conf');
    writeFileSync(conf, readFileSync(conf, 'utf8') + 'quota:\n  default: 2G\n');
    assert.equal(q('default').stdout, 'alice\tused 0 bytes\tlimit 2G (server default)\n');
    writeFileSync(conf, readFileSync(conf, 'utf8').replace('default: 2G', 'default: lots'));
    assertFails(q(), /quota\.default: must be bytes, a size with K, M or G, or none/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dmarc exception list/add/rm: per account, lower-case A-labels, bad domains refused', () => {
  const dir = tempDir();
  try {
    assert.equal(postern(['quickstart', '--dir', dir, '--hostname', 'localhost', '--password', 'secretpass', 'alice@example.test']).status, 0);
    const d = (...args: string[]) => postern(['--dir', dir, 'dmarc', 'exception', ...args]);
    assert.equal(d('list', 'alice').stdout, '');
    assert.equal(d('add', 'alice', 'Lists.Example.ORG').stdout, 'lists.example.org\n');
    assert.equal(d('add', 'alice', 'bücher.example').stdout, 'lists.example.org\nxn--bcher-kva.example\n');
    assert.equal(d('rm', 'alice', 'lists.example.org').stdout, 'xn--bcher-kva.example\n');
    assertFails(d('add', 'alice', 'not a domain'), /not a domain/, 65);
    assertFails(d('add', 'nobody', 'x.example'), /account nobody not found/, 65);
    assertFails(d('add', 'alice'), /usage: postern dmarc exception/, 64);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('junk show/threshold: per account, bad values refused', () => {
  const dir = tempDir();
  try {
    assert.equal(postern(['quickstart', '--dir', dir, '--hostname', 'localhost', '--password', 'secretpass', 'alice@example.test']).status, 0);
    const j = (...args: string[]) => postern(['--dir', dir, 'junk', ...args]);
    assert.equal(j('show', 'alice').stdout, 'alice\tspam 0\tham 0\ttokens 0\tthreshold 0.9 (server default)\n');
    assert.equal(j('threshold', 'alice', '0.75').stdout, 'alice\tspam 0\tham 0\ttokens 0\tthreshold 0.75\n');
    assert.equal(j('threshold', 'alice', 'default').stdout, 'alice\tspam 0\tham 0\ttokens 0\tthreshold 0.9 (server default)\n');
    assertFails(j('threshold', 'alice', '1.5'), /not a threshold/, 65);
    assertFails(j('threshold', 'alice', 'x'), /not a threshold/, 65);
    assertFails(j('show', 'nobody'), /account nobody not found/, 65);
    assertFails(j('frob'), /usage: postern junk/, 64);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dmarc report and received: no evaluations is an error naming the domain and day; a bad day refused; received reports listed', async () => {
  const dir = tempDir();
  try {
    assert.equal(postern(['quickstart', '--dir', dir, '--hostname', 'localhost', '--password', 'secretpass', 'alice@example.test']).status, 0);
    assertFails(postern(['--dir', dir, 'dmarc', 'report', 'sender.example', '2026-01-02']), /no DMARC evaluations of sender\.example on 2026-01-02/, 65);
    assertFails(postern(['--dir', dir, 'dmarc', 'report', 'sender.example', 'yesterday']), /not a day/, 65);
    assert.equal(postern(['--dir', dir, 'dmarc', 'received']).stdout, '');
    const store = await SqliteStore.open({ dir });
    const rec = (ip: string, count: number, dkim: string, spf: string) => ({ sourceIp: ip, count, disposition: 'none', dkim, spf, envelopeFrom: 'example.test', headerFrom: 'example.test', authDkim: [], authSpf: [] });
    const report = { orgName: 'google.com', email: 'x@google.com', reportId: '123', begin: 1767225600, end: 1767311999,
      policy: { domain: 'example.test', adkim: 'r', aspf: 'r', p: 'none', sp: 'none', pct: 100 }, records: [rec('192.0.2.1', 5, 'pass', 'fail'), rec('198.51.100.7', 2, 'fail', 'fail')] };
    await store.addReceivedDmarcReport({ orgName: 'google.com', reportId: '123', policyDomain: 'example.test', begin: report.begin, end: report.end, report: JSON.stringify(report) });
    await store.close();
    assert.equal(postern(['--dir', dir, 'dmarc', 'received', 'Example.Test']).stdout, 'example.test\t2026-01-01\tgoogle.com\t123\tmessages 7\tpass 5\tfail 2\tsources 2\n');
    assert.equal(postern(['--dir', dir, 'dmarc', 'received', 'other.test']).stdout, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
