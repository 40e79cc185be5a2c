import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dkimSign, dkimVerify } from 'mailauth';
import { generateDkimKeys } from './dkim-keys.js';

test('generated keys: ed25519 and rsa selectors by year, records that verify signatures', async () => {
  const keys = generateDkimKeys('Example.ORG', new Date(Date.UTC(2026, 3, 1)));
  assert.deepEqual(keys.map((k) => [k.selector, k.algorithm, k.dnsName]), [
    ['p2026e', 'ed25519', 'p2026e._domainkey.example.org'],
    ['p2026r', 'rsa', 'p2026r._domainkey.example.org'],
  ]);
  assert.match(keys[0]!.dnsRecord, /^v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=$/);
  assert.match(keys[1]!.dnsRecord, /^v=DKIM1; k=rsa; p=MIIBIjAN/);
  const msg = 'From: a@example.org\r\nTo: b@example.net\r\nSubject: hi\r\n\r\nbody\r\n';
  const signatureData = keys.map((k) => ({ signingDomain: 'example.org', selector: k.selector, privateKey: k.privateKeyPem, algorithm: k.algorithm === 'rsa' ? 'rsa-sha256' : 'ed25519-sha256' }));
  const { signatures } = await dkimSign(msg, { ...signatureData[0]!, signatureData });
  const resolver = async (name: string) => {
    const k = keys.find((x) => x.dnsName === name);
    if (!k) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return [[k.dnsRecord]];
  };
  const res = await dkimVerify(signatures + msg, { resolver: resolver as never });
  assert.deepEqual(res.results.map((r) => r.status.result), ['pass', 'pass']);
});
