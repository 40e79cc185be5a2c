// Regression tests for what the fuzz targets found (fuzz/targets.ts). Each names the target, seed
// and input that first showed it. They fail until the bug is fixed in src/.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { CertificateError, parseCertificate } from '../../src/tls/certificate.js';

function configDir(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'postern-fuzzreg-'));
  mkdirSync(join(dir, 'tls'));
  writeFileSync(join(dir, 'postern.conf'), text);
  return dir;
}

function loadError(text: string): unknown {
  const dir = configDir(text);
  try {
    loadConfig(dir);
    return null;
  } catch (err) {
    return err;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('config loader (fuzz target "config", seed 20240601, inputs 6 and 56)', () => {
  // load.ts: doc.toJS() throws the yaml package's ReferenceError, which the catch rethrows as is:
  // `postern serve` then exits 70 (EX_SOFTWARE) with no file name instead of 78 (EX_CONFIG).
  it('an alias without its anchor is a ConfigError naming the file', () => {
    const err = loadError('hostname: *nope\nlisteners: {}\n');
    assert.ok(err instanceof ConfigError, `got ${(err as Error)?.name}: ${(err as Error)?.message}`);
    assert.match(err.message, /postern\.conf/);
  });

  it('an alias bomb (billion laughs) is a ConfigError, not a ReferenceError', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a]', 'c: &c [*b, *b, *b, *b, *b, *b, *b, *b]', 'd: [*c, *c, *c, *c, *c, *c, *c, *c]', 'hostname: x', 'listeners: {}', ''].join('\n');
    const err = loadError(bomb);
    assert.ok(err instanceof ConfigError, `got ${(err as Error)?.name}: ${(err as Error)?.message}`);
  });
});

describe('certificate upload (fuzz target "certificate", seed 20240601, input 1291: a hang)', () => {
  // certificate.ts PEM_BLOCK /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g is tried at
  // every BEGIN and scans to the end of the input each time when no END follows: quadratic. 112 KB
  // took 0.7 s, 448 KB 12 s, 1 MB 63 s here, all with the event loop blocked (the web API takes
  // 64 KiB bodies; `postern config tlspubkey add` reads stdin without a limit).
  it('256 KiB of BEGIN lines without END is refused without a quadratic scan', () => {
    const input = '-----BEGIN CERTIFICATE-----\n'.repeat(Math.ceil((256 * 1024) / 28));
    const t0 = performance.now();
    assert.throws(() => parseCertificate(input), CertificateError);
    const ms = performance.now() - t0;
    // A hang guard, not a benchmark: the linear parse takes milliseconds, the quadratic one seconds.
    assert.ok(ms < 5000, `took ${ms.toFixed(0)} ms`);
  });

  it('a 64 KiB upload (the web body limit) is refused without a quadratic scan', () => {
    const input = '-----BEGIN CERTIFICATE-----\n'.repeat(Math.floor((64 * 1024) / 28));
    const t0 = performance.now();
    assert.throws(() => parseCertificate(input), CertificateError);
    const ms = performance.now() - t0;
    assert.ok(ms < 5000, `took ${ms.toFixed(0)} ms`);
  });
});
