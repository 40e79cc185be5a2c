// `postern account capabilities`: hide and show IMAP capabilities per account, as an admin runs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postern } from './run-cli.js';

test('account capabilities: hide, show, reset, print; bad names, unknown accounts and bad usage refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'postern-cli-'));
  try {
    assert.equal(postern(['quickstart', '--dir', dir, '--hostname', 'localhost', '--password', 'secretpass', 'alice@example.test']).status, 0);
    assert.equal(postern(['--dir', dir, 'account', 'add', 'bob', 'bob@example.test']).status, 0);
    const caps = (...args: string[]) => postern(['--dir', dir, 'account', 'capabilities', ...args]);
    assert.equal(caps('alice').stdout, 'alice\thidden IMAP capabilities: (none)\n');
    assert.equal(caps('alice', 'hide', 'uidonly', 'SORT').stdout, 'alice\thidden IMAP capabilities: SORT UIDONLY\n');
    assert.equal(caps('alice', 'hide', 'SORT', 'CONDSTORE').stdout, 'alice\thidden IMAP capabilities: CONDSTORE SORT UIDONLY\n');
    assert.equal(caps('alice', 'show', 'sort').stdout, 'alice\thidden IMAP capabilities: CONDSTORE UIDONLY\n');
    // Per account: bob is untouched.
    assert.equal(caps('bob').stdout, 'bob\thidden IMAP capabilities: (none)\n');
    assert.equal(caps('alice').stdout, 'alice\thidden IMAP capabilities: CONDSTORE UIDONLY\n');
    assert.equal(caps('alice', 'reset').stdout, 'alice\thidden IMAP capabilities: (none)\n');
    for (const [r, re, status] of [
      [caps('alice', 'hide', 'SO RT'), /not a capability name: "SO RT"/, 65],
      [caps('alice', 'hide', '(SORT)'), /not a capability name/, 65],
      [caps('nobody', 'hide', 'SORT'), /account nobody not found/, 65],
      [caps('alice', 'hide'), /usage: postern account capabilities ACCOUNT/, 64],
      [caps('alice', 'reset', 'SORT'), /usage: postern account capabilities ACCOUNT/, 64],
      [caps('alice', 'drop', 'SORT'), /usage: postern account capabilities ACCOUNT/, 64],
      [caps(), /usage: postern account capabilities ACCOUNT/, 64],
    ] as const) {
      assert.equal(r.status, status, `${r.stdout} ${r.stderr}`);
      assert.match(r.stderr.trim(), re);
    }
    assert.equal(caps('alice').stdout, 'alice\thidden IMAP capabilities: (none)\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
