import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ehloReply, parseEhloReply } from './capabilities.js';
import { formatReply, parseReplies } from './reply.js';

test('EHLO reply to capabilities', () => {
  const [r] = parseReplies(
    '250-mx.example.org at your service\r\n250-PIPELINING\r\n250-SIZE 35882577\r\n250-STARTTLS\r\n250-AUTH PLAIN login SCRAM-SHA-256\r\n' +
      '250-AUTH=LOGIN CRAM-MD5\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-BINARYMIME\r\n250-CHUNKING\r\n250-DSN\r\n250-X_BAD\r\n250 SMTPUTF8\r\n',
  );
  const c = parseEhloReply(r!);
  assert.equal(c.domain, 'mx.example.org');
  assert.equal(c.greeting, 'at your service');
  assert.equal(c.size, 35882577);
  assert.deepEqual(c.auth, ['PLAIN', 'LOGIN', 'SCRAM-SHA-256', 'CRAM-MD5']);
  for (const k of ['pipelining', 'startTls', 'eightBitMime', 'binaryMime', 'chunking', 'smtpUtf8', 'enhancedStatusCodes', 'dsn'] as const) assert.equal(c[k], true, k);
  assert.equal(c.keywords.has('X_BAD'), false);
  assert.deepEqual(c.keywords.get('SIZE'), ['35882577']);
});

test('minimal EHLO reply and SIZE without a number', () => {
  const c = parseEhloReply(parseReplies('250-host\r\n250 SIZE\r\n')[0]!);
  assert.equal(c.size, 0);
  assert.deepEqual(c.auth, []);
  assert.equal(c.pipelining, false);
  assert.equal(parseEhloReply(parseReplies('250 host\r\n')[0]!).size, undefined);
});

test('server EHLO reply round-trips through the client parser', () => {
  const r = ehloReply('mail.example', 'Postern', { maxSize: 1000, pipelining: true, auth: ['EXTERNAL', 'PLAIN'], enhancedStatusCodes: true, eightBitMime: true, chunking: true, smtpUtf8: true });
  const wire = formatReply(r);
  assert.ok(wire.startsWith('250-mail.example Postern\r\n'));
  const c = parseEhloReply(parseReplies(wire)[0]!);
  assert.equal(c.size, 1000);
  assert.deepEqual(c.auth, ['EXTERNAL', 'PLAIN']);
  assert.equal(c.startTls, false);
  assert.equal(c.chunking, true);
  assert.equal(c.dsn, false);
});
