import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MtaStsParseError, mtaStsIdFromTxt, mxAllowed, parseMtaStsPolicy, parseMtaStsRecord } from './mta-sts-policy.js';

test('TXT record: v=STSv1 first, id of 1-32 alphanumerics, exactly one record', () => {
  assert.equal(parseMtaStsRecord('v=STSv1; id=20160831085700Z;'), '20160831085700Z');
  assert.equal(parseMtaStsRecord('v=STSv1;id=abc'), 'abc');
  assert.equal(parseMtaStsRecord('id=abc; v=STSv1'), null);
  assert.equal(parseMtaStsRecord('v=STSv1; id=a-b'), null);
  assert.equal(parseMtaStsRecord('v=STSv1; id=' + 'a'.repeat(33)), null);
  assert.equal(mtaStsIdFromTxt([['v=spf1 -all'], ['v=STSv1; ', 'id=x1']]), 'x1');
  assert.equal(mtaStsIdFromTxt([['v=STSv1; id=x1'], ['v=STSv1; id=x2']]), null, 'two records: none (RFC 8461 3.1)');
});

test('policy file: fields, repeated mx, CRLF or LF, max_age capped', () => {
  const p = parseMtaStsPolicy('version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 9999999999\r\n');
  assert.deepEqual(p, { mode: 'enforce', mx: ['mail.example.com', '*.example.net'], maxAge: 31557600 });
  assert.equal(parseMtaStsPolicy('version: STSv1\nmode: none\nmax_age: 0\n').mode, 'none');
  for (const bad of ['mode: enforce\nmx: a.b\nmax_age: 1', 'version: STSv1\nmode: strict\nmx: a.b\nmax_age: 1', 'version: STSv1\nmode: enforce\nmax_age: 1',
    'version: STSv1\nmode: enforce\nmx: a.b\nmax_age: -1', 'version: STSv1\nmode: enforce\nmx: a..b\nmax_age: 1', 'garbage']) {
    assert.throws(() => parseMtaStsPolicy(bad), MtaStsParseError, bad);
  }
});

test('mx patterns: exact, or a wildcard for one leftmost label (RFC 8461 4.1)', () => {
  const p = parseMtaStsPolicy('version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\nmax_age: 1\n');
  assert.ok(mxAllowed(p, 'MAIL.example.com.'));
  assert.ok(mxAllowed(p, 'mx1.example.net'));
  assert.ok(!mxAllowed(p, 'example.net'));
  assert.ok(!mxAllowed(p, 'a.mx1.example.net'));
  assert.ok(!mxAllowed(p, 'mail.example.com.evil.test'));
});
