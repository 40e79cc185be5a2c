import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TLS_REQUIRED_SCAN_BYTES } from './limits.js';
import { tlsRequiredNo } from './tls-required.js';

const m = (head: string, body = 'Hello.\r\n') => Buffer.from(`${head}\r\n${body}`);

test('TLS-Required: No is found once in the header section, in any case, folded or not', () => {
  assert.equal(tlsRequiredNo(m('From: a@b.example\r\nTLS-Required: No\r\n')), true);
  assert.equal(tlsRequiredNo(m('tls-required:NO\r\n')), true);
  assert.equal(tlsRequiredNo(m('TLS-Required:\r\n\tno \r\nSubject: x\r\n')), true);
  assert.equal(tlsRequiredNo(m('From: a@b.example\nTLS-Required: No\n', 'x\n')), true, 'bare LF line ends');
});

test('anything else leaves the policies in force', () => {
  assert.equal(tlsRequiredNo(m('From: a@b.example\r\n')), false);
  assert.equal(tlsRequiredNo(m('TLS-Required: Yes\r\n')), false);
  assert.equal(tlsRequiredNo(m('TLS-Required: No thanks\r\n')), false);
  assert.equal(tlsRequiredNo(m('TLS-Required: No\r\nTLS-Required: No\r\n')), false, 'RFC 8689 3: at most one');
  assert.equal(tlsRequiredNo(m('Subject: x\r\n', 'TLS-Required: No\r\n')), false, 'in the body');
  assert.equal(tlsRequiredNo(m('X-TLS-Required: No\r\n')), false);
  // A header section that does not end within the scan is not read to its end.
  const long = `X-Pad: ${'a'.repeat(TLS_REQUIRED_SCAN_BYTES)}\r\nTLS-Required: No\r\n`;
  assert.equal(tlsRequiredNo(m(long)), false);
});
