import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressLiteral, plainIp, receivedField, rfc5322Date, withProtocol } from './trace-headers.js';

test('RFC 5322 dates in UTC', () => {
  assert.equal(rfc5322Date(new Date(Date.UTC(2025, 6, 1, 9, 5, 7))), 'Tue, 1 Jul 2025 09:05:07 +0000');
});

test('address literals and plain IPs (RFC 5321 4.1.3)', () => {
  assert.equal(addressLiteral('192.0.2.1'), '[192.0.2.1]');
  assert.equal(addressLiteral('::ffff:192.0.2.1'), '[192.0.2.1]');
  assert.equal(addressLiteral('2001:db8::1'), '[IPv6:2001:db8::1]');
  assert.equal(plainIp('::ffff:192.0.2.1'), '192.0.2.1');
  assert.equal(plainIp('2001:db8::1'), '2001:db8::1');
});

test('RFC 3848 / RFC 6531 protocol names', () => {
  assert.equal(withProtocol({ ehlo: false, smtputf8: false, tls: true, auth: true }), 'SMTP');
  assert.equal(withProtocol({ ehlo: true, smtputf8: false, tls: false, auth: false }), 'ESMTP');
  assert.equal(withProtocol({ ehlo: true, smtputf8: false, tls: true, auth: true }), 'ESMTPSA');
  assert.equal(withProtocol({ ehlo: true, smtputf8: true, tls: true, auth: false }), 'UTF8SMTPS');
});

test('Received: client text cannot break out of the field or the comment', () => {
  const r = receivedField({
    helo: 'evil)\r\nX-Injected: 1 (;', ip: '192.0.2.1', hostname: 'mx.example', protocol: 'ESMTP', id: 'abc',
    tls: null, recipient: 'a@example.org', date: new Date(Date.UTC(2025, 0, 2, 3, 4, 5)),
  });
  assert.equal(r, 'Received: from evilX-Injected:1 ([192.0.2.1])\r\n\tby mx.example (Postern) with ESMTP id abc\r\n\tfor <a@example.org>;\r\n\tThu, 2 Jan 2025 03:04:05 +0000\r\n');
  const noRcpt = receivedField({ helo: null, ip: '::1', hostname: 'h', protocol: 'ESMTPS', id: 'x', tls: { version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256' }, recipient: null, date: new Date(0) });
  assert.match(noRcpt, /^Received: from unknown \(\[IPv6:::1\]\)\r\n\tby h \(Postern\) with ESMTPS id x\r\n\t\(version=TLSv1\.3 cipher=TLS_AES_128_GCM_SHA256\);\r\n\tThu, 1 Jan 1970/);
});
