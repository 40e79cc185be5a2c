import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMessage } from '../mime/index.js';
import { composeDsn, headerSection, rfc5322Date } from './dsn.js';

const original = Buffer.from('From: alice@example.org\r\nTo: bob@example.com\r\nSubject: hello\r\nMessage-ID: <m1@example.org>\r\n\r\nsecret body\r\n');

describe('DSN', () => {
  it('is a multipart/report with a human part, a delivery-status part and the original header', () => {
    const now = new Date('2025-03-04T05:06:07Z');
    const dsn = composeDsn({
      reportingMta: 'mail.example.org',
      to: 'alice@example.org',
      arrivalDate: new Date('2025-03-04T05:00:00Z'),
      original,
      now,
      recipients: [
        { address: 'bob@example.com', action: 'failed', status: '5.1.1', message: 'mx.example.com said: 550 5.1.1 no such user', reply: { code: 550, enhanced: '5.1.1', lines: ['no such user'] }, remoteMta: 'mx.example.com', lastAttempt: now },
      ],
    });
    const text = dsn.toString();
    assert.ok(!/[^\r]\n/.test(text), 'CRLF line endings only');
    const root = parseMessage(dsn);
    assert.equal(`${root.type}/${root.subtype}`, 'multipart/report');
    assert.equal(root.params.find((p) => p.name === 'report-type')?.value, 'delivery-status');
    const parts = root.children!;
    assert.deepEqual(parts.map((p) => `${p.type}/${p.subtype}`), ['text/plain', 'message/delivery-status', 'text/rfc822-headers']);
    const body = (i: number) => dsn.subarray(parts[i]!.bodyStart, parts[i]!.bodyEnd).toString();
    assert.match(body(0), /<bob@example\.com>: mx\.example\.com said: 550 5\.1\.1 no such user/);
    const status = body(1);
    assert.match(status, /^Reporting-MTA: dns; mail\.example\.org\r\nArrival-Date: Tue, 4 Mar 2025 05:00:00 \+0000\r\n\r\nFinal-Recipient: rfc822; bob@example\.com\r\n/);
    assert.match(status, /\r\nAction: failed\r\nStatus: 5\.1\.1\r\nRemote-MTA: dns; mx\.example\.com\r\nDiagnostic-Code: smtp; 550 5\.1\.1 no such user\r\n/);
    assert.match(body(2), /^From: alice@example\.org\r\n[\s\S]*Message-ID: <m1@example\.org>\r\n$/);
    assert.ok(!text.includes('secret body'), 'only the header is returned');
    assert.match(text, /^From: Mail Delivery System <MAILER-DAEMON@mail\.example\.org>\r\nTo: <alice@example\.org>\r\n/);
    assert.match(text, /\r\nAuto-Submitted: auto-replied\r\n/);
  });

  it('uses the RFC 6533 types for UTF-8 addresses and headers', () => {
    const dsn = composeDsn({
      reportingMta: 'm.example', to: 'j\u00f6rg@example.org', arrivalDate: new Date(), now: new Date(),
      original: Buffer.from('Subject: gr\u00fc\u00dfe\r\n\r\nx', 'utf8'),
      recipients: [{ address: 'm\u00fcller@example.com', action: 'failed', status: '5.0.0', message: 'no' }],
    });
    const parts = parseMessage(dsn).children!;
    assert.deepEqual(parts.map((p) => `${p.type}/${p.subtype}`), ['text/plain', 'message/global-delivery-status', 'message/global-headers']);
    assert.match(dsn.toString(), /Final-Recipient: utf-8; m\u00fcller@example\.com/);
  });

  it('finds the header section with CRLF or LF line ends', () => {
    assert.equal(headerSection(Buffer.from('A: 1\r\nB: 2\r\n\r\nbody')).toString(), 'A: 1\r\nB: 2\r\n');
    assert.equal(headerSection(Buffer.from('A: 1\nB: 2\n\nbody')).toString(), 'A: 1\nB: 2\n');
    assert.equal(headerSection(Buffer.from('A: 1\r\n')).toString(), 'A: 1\r\n');
    assert.equal(rfc5322Date(new Date('2024-12-25T23:59:01Z')), 'Wed, 25 Dec 2024 23:59:01 +0000');
  });
  it('quotes the original header with CRLF line ends only, whatever its line ends were', () => {
    const odd = Buffer.from('From: alice@example.org\rX-Smuggle: a\r.\rMAIL FROM:<x@example.org>\nSubject: s\r\n\r\nbody\r\n');
    const dsn = composeDsn({ reportingMta: 'mail.example.org', to: 'alice@example.org', arrivalDate: new Date(), original: odd, now: new Date(), recipients: [{ address: 'bob@example.com', action: 'failed', status: '5.1.1', message: 'no' }] });
    const text = dsn.toString('latin1');
    assert.doesNotMatch(text, /\r(?!\n)|(?<!\r)\n/, 'no bare CR or LF');
    assert.match(text, /\r\nX-Smuggle: a\r\n\.\r\nMAIL FROM:<x@example\.org>\r\nSubject: s\r\n/);
  });
});
