// `postern dkim rotate` against a running `postern serve`: mail submitted before and after the
// rotation is signed with the old and the new selectors, and both verify (mailauth) against the
// records `postern dns records` prints, served by a real DNS server (unbound). The running server
// picks the new keys up without a restart.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dkimVerify } from 'mailauth';
import { POSTERN, postern } from './run-cli.js';
import { startUnbound, unboundAvailable, zoneLines } from '../dns/unbound.js';

const ADDRESS = 'alice@example.org';
const PASSWORD = 'alice-secret-1';

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A port base whose seven service ports are all free now (other tests run in parallel). */
async function freeBase(): Promise<number> {
  for (;;) {
    const base = 20000 + Math.floor(Math.random() * 40000);
    const free = await Promise.all([25, 80, 143, 443, 465, 587, 993].map((p) => portFree(base + p)));
    if (free.every(Boolean)) return base;
  }
}

/** Submits over STARTTLS (Python's smtplib, a real client) and fetches every INBOX message over IMAPS. */
function submit(port: number, subject: string): void {
  const py = spawnSync('python3', ['-c', `
import smtplib, ssl, sys
ctx = ssl._create_unverified_context()
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=30)
s.starttls(context=ctx)
s.login(sys.argv[2], sys.argv[3])
s.sendmail(sys.argv[2], [sys.argv[2]], ('From: <%s>\\r\\nTo: <%s>\\r\\nSubject: %s\\r\\n\\r\\nbody\\r\\n' % (sys.argv[2], sys.argv[2], sys.argv[4])).encode())
s.quit()
`, String(port), ADDRESS, PASSWORD, subject], { encoding: 'utf8' });
  assert.equal(py.status, 0, py.stderr);
}

function inbox(port: number): Buffer[] {
  const py = spawnSync('python3', ['-c', `
import imaplib, ssl, sys, base64
m = imaplib.IMAP4_SSL('127.0.0.1', int(sys.argv[1]), ssl_context=ssl._create_unverified_context())
m.login(sys.argv[2], sys.argv[3])
m.select('INBOX')
typ, data = m.uid('SEARCH', 'ALL')
for uid in data[0].split():
    typ, d = m.uid('FETCH', uid, '(BODY.PEEK[])')
    print(base64.b64encode(d[0][1]).decode())
m.logout()
`, String(port), ADDRESS, PASSWORD], { encoding: 'utf8' });
  assert.equal(py.status, 0, py.stderr);
  return py.stdout.trim().split('\n').filter(Boolean).map((l) => Buffer.from(l, 'base64'));
}

function selectors(msg: Buffer): string[] {
  return [...msg.toString('latin1').matchAll(/^DKIM-Signature:[\s\S]*?\bs=([A-Za-z0-9-]+);/gm)].map((m) => m[1]!);
}

test('dkim rotate: mail signed before and after verifies; the server switches keys without a restart', async (t) => {
  if (!unboundAvailable()) {
    if (process.env.CI === 'true') assert.fail('unbound is not installed (required when CI=true)');
    return t.skip('unbound is not installed');
  }
  const root = mkdtempSync(join(tmpdir(), 'postern-rotate-'));
  const dir = join(root, 'd');
  const base = await freeBase();
  const q = postern(['quickstart', '--dir', dir, '--hostname', 'mail.example.org', '--listen', '127.0.0.1', '--port-base', String(base), '--password', PASSWORD, ADDRESS]);
  assert.equal(q.status, 0, q.stderr);
  const server = spawn(process.execPath, [POSTERN, '--dir', dir, 'serve'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  server.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => server.once('exit', resolve));
  try {
    // Ready when the server says both listeners are up (a port open could be someone else's).
    const deadline = Date.now() + 20_000;
    while (!/listening service=submission .*port=\d+/.test(stderr) || !/listening service=imaps .*port=\d+/.test(stderr)) {
      assert.ok(Date.now() < deadline && server.exitCode === null, `server did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const first = postern(['--dir', dir, 'dkim', 'list']).stdout.trim().split('\n').map((l) => l.split('\t'));
    assert.deepEqual(first.map((f) => [f[0], f[2], f[4]]), [['example.org', 'ed25519', 'signing'], ['example.org', 'rsa', 'signing']]);
    const oldSelectors = first.map((f) => f[1]!);

    submit(base + 587, 'before');
    const rot = postern(['--dir', dir, 'dkim', 'rotate', 'example.org']);
    assert.equal(rot.status, 0, rot.stderr);
    assert.match(rot.stdout, /_domainkey\.example\.org\. TXT "v=DKIM1; k=ed25519; p=/);
    const listed = postern(['--dir', dir, 'dkim', 'list']).stdout.trim().split('\n').map((l) => l.split('\t'));
    assert.equal(listed.length, 4);
    const newSelectors = listed.filter((f) => f[4] === 'signing').map((f) => f[1]!);
    assert.deepEqual(listed.filter((f) => f[4] === 'retired').map((f) => f[1]), oldSelectors, 'old keys kept');
    // The server rereads the key list at most once a second.
    await new Promise((r) => setTimeout(r, 1200));
    submit(base + 587, 'after');

    const msgs = inbox(base + 993);
    assert.equal(msgs.length, 2);
    assert.deepEqual(selectors(msgs[0]!), oldSelectors);
    assert.deepEqual(selectors(msgs[1]!), newSelectors);

    // Both verify against the published records (old ones still published), through real DNS.
    const zone = zoneLines(postern(['--dir', dir, 'dns', 'records', 'example.org']).stdout);
    const dns = await startUnbound(['example.org'], zone);
    try {
      const r = new Resolver();
      r.setServers([dns.address]);
      const resolver = async (name: string, rrtype: string) => {
        assert.equal(rrtype, 'TXT');
        return r.resolveTxt(name);
      };
      for (const [i, msg] of msgs.entries()) {
        const res = await dkimVerify(msg, { resolver: resolver as never });
        assert.deepEqual(res.results.map((x) => [x.selector, x.status.result]), (i === 0 ? oldSelectors : newSelectors).map((s) => [s, 'pass']));
      }
    } finally {
      await dns.stop();
    }

    // The signing key cannot be removed; a retired one can, and its record leaves the zone.
    const refuse = postern(['--dir', dir, 'dkim', 'rm', 'example.org', newSelectors[0]!]);
    assert.equal(refuse.status, 65);
    assert.match(refuse.stderr, /signs mail; run "postern dkim rotate example\.org" first/);
    assert.equal(postern(['--dir', dir, 'dkim', 'rm', 'example.org', oldSelectors[0]!]).status, 0);
    assert.ok(!postern(['--dir', dir, 'dns', 'records', 'example.org']).stdout.includes(`${oldSelectors[0]}._domainkey`));
  } finally {
    server.kill('SIGTERM');
    await exited;
    rmSync(root, { recursive: true, force: true });
  }
});

test('a domain added by account add / addaddress gets its DKIM keys at once; dkim gen refuses a domain with keys', () => {
  const root = mkdtempSync(join(tmpdir(), 'postern-dkimnew-'));
  const dir = join(root, 'd');
  try {
    assert.equal(postern(['quickstart', '--dir', dir, '--hostname', 'mail.example.org', '--password', PASSWORD, ADDRESS]).status, 0);
    const add = postern(['--dir', dir, 'account', 'add', 'bob', 'bob@second.example']);
    assert.equal(add.status, 0, add.stderr);
    assert.match(add.stdout, /new domain second\.example: DKIM keys generated/);
    assert.match(add.stdout, /_domainkey\.second\.example\. TXT "v=DKIM1; k=rsa; p=/);
    const alias = postern(['--dir', dir, 'account', 'addaddress', 'bob', 'robert@third.example']);
    assert.match(alias.stdout, /new domain third\.example/);
    // Another address in a domain with keys: nothing new.
    assert.equal(postern(['--dir', dir, 'account', 'addaddress', 'bob', 'rob@third.example']).stdout, '');
    const domains = postern(['--dir', dir, 'dkim', 'list']).stdout.trim().split('\n').map((l) => l.split('\t')[0]);
    assert.deepEqual(domains, ['example.org', 'example.org', 'second.example', 'second.example', 'third.example', 'third.example']);
    const gen = postern(['--dir', dir, 'dkim', 'gen', 'third.example']);
    assert.equal(gen.status, 65);
    assert.match(gen.stderr, /has DKIM keys already/);
    assert.match(postern(['--dir', dir, 'dkim', 'gen', 'foreign.example']).stderr, /not one of our domains/);
    // Keys listed in postern.conf (as older quickstarts wrote them) sign for their domain, are
    // listed as such, and are not rotated behind the admin's back.
    appendFileSync(join(dir, 'postern.conf'), '\ndkim:\n  third.example:\n    - selector: old2025\n      keyFile: dkim/hand-made.pem\n  fourth.example:\n    - selector: own\n      keyFile: dkim/hand-made.pem\n');
    // A new domain whose keys the config already lists gets none generated.
    assert.equal(postern(['--dir', dir, 'account', 'addaddress', 'bob', 'x@fourth.example']).stdout, '');
    assert.doesNotMatch(postern(['--dir', dir, 'dkim', 'list']).stdout, /^fourth\.example\td/m);
    const list = postern(['--dir', dir, 'dkim', 'list']).stdout;
    assert.match(list, /^third\.example\told2025\t-\t-\tsigning \(postern\.conf\)$/m);
    assert.doesNotMatch(list, /^third\.example\td\d+[er]\t.*\tsigning$/m);
    const rot = postern(['--dir', dir, 'dkim', 'rotate', 'third.example']);
    assert.equal(rot.status, 65);
    assert.match(rot.stderr, /DKIM keys of third\.example are listed in postern\.conf/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
