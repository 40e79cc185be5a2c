// Certificates made by the openssl binary, as users make them (the commands the web page suggests).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certificatePem } from '../../src/tls/certificate.js';
import { certificateForKey } from '../../src/tls/generate.js';

export interface OpensslCert {
  keyFile: string;
  certFile: string;
  certPem: string;
  keyPem: string;
}

export type OpensslKeyType = 'ed25519' | 'ec-p256' | 'ec-p384' | 'rsa-1024' | 'rsa-2048' | 'rsa-4096';

const NEWKEY: Record<OpensslKeyType, string[]> = {
  ed25519: ['-newkey', 'ed25519'],
  'ec-p256': ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  'ec-p384': ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'],
  'rsa-1024': ['-newkey', 'rsa:1024'],
  'rsa-2048': ['-newkey', 'rsa:2048'],
  'rsa-4096': ['-newkey', 'rsa:4096'],
};

/** A self-signed certificate; `subject` '' makes one with an empty subject; days < 0 an expired one. */
export function opensslCert(type: OpensslKeyType, opts: { subject?: string; days?: number } = {}): OpensslCert {
  const dir = mkdtempSync(join(tmpdir(), 'postern-openssl-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  const subject = opts.subject ?? '/CN=test device';
  const days = opts.days ?? 3650;
  execFileSync('openssl', ['req', '-x509', ...NEWKEY[type], '-nodes', '-keyout', keyFile, '-out', certFile, '-days', String(Math.max(days, 1)), '-subj', subject === '' ? '/' : subject], { stdio: 'pipe' });
  if (days < 0) {
    // OpenSSL 3.0's req cannot backdate: re-issue for the same key with a validity that ended in 2020.
    const der = certificateForKey(readFileSync(keyFile, 'utf8'), { commonName: 'expired', notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2020-01-02T00:00:00Z') });
    writeFileSync(certFile, certificatePem(der));
  }
  return { keyFile, certFile, certPem: readFileSync(certFile, 'utf8'), keyPem: readFileSync(keyFile, 'utf8') };
}

/** The spec 2.1 fingerprint as the issue defines it: openssl x509 -pubkey | openssl pkey -pubin -outform DER | sha256, base64url. */
export function opensslFingerprint(certFile: string): string {
  const pub = execFileSync('openssl', ['x509', '-in', certFile, '-pubkey', '-noout']);
  const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'DER'], { input: pub });
  const digest = execFileSync('openssl', ['dgst', '-sha256', '-binary'], { input: der });
  return digest.toString('base64url');
}
