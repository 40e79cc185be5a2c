// quickstart for a server on the internet: the host name (given, or mail.DOMAIN, said clearly; never
// the machine's own name), the records, the account web URL, and a systemd unit that
// `systemd-analyze verify` accepts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postern } from './run-cli.js';

const SYSTEMD_ANALYZE = '/usr/bin/systemd-analyze';

test('quickstart without --hostname uses mail.DOMAIN and says so; prints records, web URL, next steps', () => {
  const root = mkdtempSync(join(tmpdir(), 'postern-qs-'));
  const dir = join(root, 'd');
  try {
    const r = postern(['quickstart', '--dir', dir, '--password', 'secretpass', 'alice@Example.ORG']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^host name: mail\.example\.org \(from the address; choose another with --hostname\)$/m);
    assert.match(readFileSync(join(dir, 'postern.conf'), 'utf8'), /^hostname: mail\.example\.org$/m);
    if (hostname() !== 'mail.example.org') assert.ok(!r.stdout.includes(`host name: ${hostname()}`));
    assert.match(r.stdout, /^account web interface: https:\/\/mail\.example\.org\/account\/$/m);
    assert.match(r.stdout, /^ {2}example\.org\. MX 10 mail\.example\.org\.$/m);
    assert.match(r.stdout, /^ {2}_mta-sts\.example\.org\. TXT "v=STSv1; id=[0-9a-f]{20}"$/m);
    assert.match(r.stdout, /dns check example\.org/);
    // The records printed are those `dns records` prints.
    const rec = postern(['--dir', dir, 'dns', 'records', 'example.org']);
    for (const line of rec.stdout.trim().split('\n')) assert.ok(r.stdout.includes(`  ${line}\n`), line);

    const given = postern(['quickstart', '--dir', join(root, 'g'), '--hostname', 'MX1.Example.org', '--password', 'secretpass', 'bob@example.org']);
    assert.match(given.stdout, /^host name: mx1\.example\.org$/m);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('quickstart writes a hardened systemd unit that systemd-analyze verify accepts', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'postern-unit-'));
  const dir = join(root, 'd');
  try {
    assert.equal(postern(['quickstart', '--dir', dir, '--password', 'secretpass', 'alice@example.org']).status, 0);
    const file = join(dir, 'postern.service');
    assert.ok(existsSync(file));
    const unit = readFileSync(file, 'utf8');
    for (const line of [
      'User=postern', 'NoNewPrivileges=yes', 'ProtectSystem=strict', `ReadWritePaths=${dir}`, 'PrivateTmp=yes',
      'AmbientCapabilities=CAP_NET_BIND_SERVICE', 'CapabilityBoundingSet=CAP_NET_BIND_SERVICE', 'WantedBy=multi-user.target',
    ]) assert.ok(unit.split('\n').includes(line), line);
    assert.match(unit, /^ProtectHome=(yes|read-only)$/m);
    assert.match(unit, new RegExp(`^ExecStart=\\S+ \\S+/src/cli/main\\.js --dir ${dir.replace(/[.]/g, '\\.')} serve$`, 'm'));
    if (!existsSync(SYSTEMD_ANALYZE)) {
      if (process.env.CI === 'true') assert.fail('systemd-analyze is not installed (required when CI=true)');
      return t.skip('systemd-analyze is not installed');
    }
    const v = spawnSync(SYSTEMD_ANALYZE, ['verify', file], { encoding: 'utf8' });
    assert.equal(v.status, 0, v.stderr);
    assert.equal(v.stderr.split('\n').filter((l) => l.includes('postern.service')).join('\n'), '', 'no warnings about the unit');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
