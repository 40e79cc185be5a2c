import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateServerCertificate } from '../tls/generate.js';
import { CertificateStore } from './certificate-store.js';

test('a certificate saved by one process reaches another by the directory watch; a broken file keeps the one in use', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'postern-certs-'));
  try {
    const writer = new CertificateStore(dir);
    const reader = new CertificateStore(dir);
    reader.load();
    reader.watch();
    const changed: string[][] = [];
    reader.onChange = (names) => changed.push(names);
    const a = generateServerCertificate('mail.example.org');
    writer.save('mail.example.org', a.keyPem, a.certPem);
    const until = Date.now() + 5000;
    while (!reader.getCertificate('MAIL.example.org.') && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    assert.ok(reader.getCertificate('MAIL.example.org.'), 'case and trailing dot do not matter');
    assert.deepEqual(changed, [['mail.example.org']]);
    assert.ok(reader.secureContext('mail.example.org', true));
    assert.equal(reader.secureContext('other.example.org', true), undefined, 'other names keep the default context');
    // A key that does not match the certificate is refused, on save and on load.
    const b = generateServerCertificate('mail.example.org');
    assert.throws(() => writer.save('mail.example.org', b.keyPem, a.certPem), /does not belong/);
    writeFileSync(join(dir, 'mail.example.org.pem'), `${b.keyPem}${a.certPem}`);
    reader.load();
    assert.equal(reader.getCertificate('mail.example.org')!.keyPem, a.keyPem);
    assert.match(reader.errors.get('mail.example.org')!, /does not belong/);
    reader.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
