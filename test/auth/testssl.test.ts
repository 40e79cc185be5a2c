// testssl.sh against every TLS listener (issue 15): protocols TLS 1.2 and 1.3 only, AEAD suites
// with forward secrecy only, in the server's order. Only the protocol, server-preference and
// per-protocol cipher checks run (with --fast), all six listeners at once, so that the scan
// stays well under two minutes.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { accessSync, constants } from 'node:fs';
import { startTestServer, type TestServer } from '../e2e/server-harness.js';
import { run } from './support.js';

/** The Debian package installs it as `testssl`; upstream names it testssl.sh. */
function findTestssl(): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    for (const name of ['testssl', 'testssl.sh']) {
      try {
        accessSync(join(dir, name), constants.X_OK);
        return join(dir, name);
      } catch {
        // next
      }
    }
  }
  return null;
}

/** ECDHE with AES-GCM or ChaCha20-Poly1305 (TLS 1.2), and the TLS 1.3 suites (all AEAD, all (EC)DHE). */
const AEAD_FS = /^(ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)|TLS_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256))$/;

interface Finding {
  id: string;
  severity: string;
  finding: string;
}

let srv: TestServer;
let dir: string;

before(async () => {
  srv = await startTestServer({});
  dir = mkdtempSync(join(tmpdir(), 'postern-testssl-'));
});

after(async () => {
  await srv.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('testssl.sh: every TLS listener offers TLS 1.2/1.3 and AEAD suites with forward secrecy only, in server order', async (t) => {
  const testssl = findTestssl();
  if (!testssl) {
    if (process.env.CI === 'true') assert.fail('testssl.sh is not installed (Debian package testssl.sh; required when CI=true)');
    t.skip('testssl.sh is not installed (Debian package testssl.sh)');
    return;
  }
  const targets: { name: string; port: number; starttls?: string }[] = [
    { name: 'imaps', port: srv.ports.imaps! },
    { name: 'imap STARTTLS', port: srv.ports.imap!, starttls: 'imap' },
    { name: 'submissions', port: srv.ports.submissions! },
    { name: 'submission STARTTLS', port: srv.ports.submission!, starttls: 'smtp' },
    { name: 'smtp STARTTLS', port: srv.ports.smtp!, starttls: 'smtp' },
    { name: 'https', port: srv.ports.https! },
  ];
  const scans = await Promise.all(
    targets.map(async (target, i) => {
      const jsonFile = join(dir, `scan-${i}.json`);
      const args = [
        '--quiet', '--warnings', 'off', '--color', '0', '--nodns', 'none', '--fast',
        '--connect-timeout', '10', '--openssl-timeout', '10',
        '-p', '-P', '-E', '--jsonfile', jsonFile,
        ...(target.starttls ? ['-t', target.starttls] : []),
        `127.0.0.1:${target.port}`,
      ];
      // About 110 s for all six on a loaded 2-core machine; the limit only stops a hung scan.
      const r = await run(testssl, args, { timeoutMs: 300_000 });
      let findings: Finding[] = [];
      try {
        findings = JSON.parse(readFileSync(jsonFile, 'utf8')) as Finding[];
      } catch {
        assert.fail(`${target.name}: testssl.sh wrote no JSON (exit ${r.code}): ${r.stdout.slice(-2000)} ${r.stderr.slice(-2000)}`);
      }
      return { target, findings, output: r.stdout };
    }),
  );
  for (const { target, findings, output } of scans) {
    const by = (id: string) => findings.find((f) => f.id === id)?.finding ?? '';
    const where = `${target.name}:\n${output}`;
    for (const old of ['SSLv2', 'SSLv3', 'TLS1', 'TLS1_1']) assert.match(by(old), /^not offered/, `${old} on ${where}`);
    assert.match(by('TLS1_2'), /^offered/, `TLS 1.2 on ${where}`);
    assert.match(by('TLS1_3'), /^offered/, `TLS 1.3 on ${where}`);
    const order = findings.filter((f) => f.id.startsWith('cipher_order'));
    assert.ok(order.length > 0, `cipher order checked on ${where}`);
    for (const o of order) assert.match(o.finding, /server/i, `server cipher order on ${where}`);

    const offered = findings.filter((f) => f.id.startsWith('cipher-') || f.id.startsWith('cipher_x'));
    const suites = offered.map((f) => {
      const m = /^(TLS 1(?:\.\d)?|SSLv\d)\s+x[0-9a-f]+\s+(\S+)/.exec(f.finding);
      assert.ok(m, `cipher line ${f.finding}`);
      return { protocol: m[1]!, name: m[2]! };
    });
    for (const s of suites) {
      assert.ok(s.protocol === 'TLS 1.2' || s.protocol === 'TLS 1.3', `${s.protocol} ${s.name} on ${target.name}`);
      assert.match(s.name, AEAD_FS, `${s.protocol} ${s.name} on ${target.name}`);
    }
    assert.ok(suites.some((s) => s.protocol === 'TLS 1.2'), `TLS 1.2 suites on ${where}`);
    assert.ok(suites.some((s) => s.protocol === 'TLS 1.3'), `TLS 1.3 suites on ${where}`);
  }
});
