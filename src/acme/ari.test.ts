import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { parseRenewalInfo, pickInWindow } from './ari.js';
import { ariCertId } from './ari.js';
import { createAlpnCertificatePem } from './csr.js';
import { generatePrivateKey } from '../tls/generate.js';

test('ARI window: parsed, Retry-After clamped, a pick inside the window; bad windows refused', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  const w = parseRenewalInfo({ suggestedWindow: { start: '2026-02-01T00:00:00Z', end: '2026-02-03T00:00:00Z' } }, '3600', now)!;
  assert.equal(w.pollAt.getTime(), now + 3600_000);
  assert.equal(parseRenewalInfo({ suggestedWindow: { start: '2026-02-01T00:00:00Z', end: '2026-02-03T00:00:00Z' } }, '1', now)!.pollAt.getTime(), now + 60_000);
  assert.equal(pickInWindow(w, () => 0).toISOString(), '2026-02-01T00:00:00.000Z');
  assert.equal(pickInWindow(w, () => 0.5).toISOString(), '2026-02-02T00:00:00.000Z');
  assert.equal(parseRenewalInfo({ suggestedWindow: { start: '2026-02-03T00:00:00Z', end: '2026-02-01T00:00:00Z' } }, undefined, now), null);
  assert.equal(parseRenewalInfo({}, undefined, now), null);
});

test('ARI certificate id needs an authority key identifier (a self-signed certificate has none)', () => {
  const cert = new X509Certificate(createAlpnCertificatePem(generatePrivateKey('ecdsa-p256'), 'mail.example.org', 'token.thumbprint'));
  assert.equal(ariCertId(cert), null);
});
