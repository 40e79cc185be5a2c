import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseCommand, isBase64, type ParseCommandOptions, type SmtpCommand } from './command.js';
import { SmtpError } from './smtp-error.js';

/** Asserts the parse fails with `code enhanced` and returns the error. */
function rejects(line: string | Buffer, code: number, enhanced: string, opts?: ParseCommandOptions): SmtpError {
  try {
    parseCommand(line, opts);
  } catch (e) {
    assert.ok(e instanceof SmtpError, `not an SmtpError: ${String(e)}`);
    assert.equal(e.reply.code, code, `${String(line)}: ${e.message}`);
    assert.equal(e.reply.enhanced, enhanced, `${String(line)}: ${e.message}`);
    return e;
  }
  assert.fail(`accepted: ${String(line)}`);
}

function mail(line: string, opts?: ParseCommandOptions): Extract<SmtpCommand, { verb: 'MAIL' }> {
  const c = parseCommand(line, opts);
  assert.equal(c.verb, 'MAIL');
  return c as Extract<SmtpCommand, { verb: 'MAIL' }>;
}

function rcpt(line: string, opts?: ParseCommandOptions): Extract<SmtpCommand, { verb: 'RCPT' }> {
  const c = parseCommand(line, opts);
  assert.equal(c.verb, 'RCPT');
  return c as Extract<SmtpCommand, { verb: 'RCPT' }>;
}

test('EHLO/HELO: domain, literal, other; verbs case-insensitive', () => {
  assert.deepEqual(parseCommand('EHLO mail.example.org'), { verb: 'EHLO', host: { kind: 'domain', domain: 'mail.example.org' } });
  assert.deepEqual(parseCommand('ehlo [192.0.2.1]'), { verb: 'EHLO', host: { kind: 'literal', literal: { kind: 'ipv4', address: '192.0.2.1' }, raw: '[192.0.2.1]' } });
  const v6 = parseCommand('HeLo [IPv6:2001:db8::1]');
  assert.equal(v6.verb, 'HELO');
  assert.deepEqual(v6.verb === 'HELO' && v6.host, { kind: 'literal', literal: { kind: 'ipv6', address: '2001:db8::1' }, raw: '[IPv6:2001:db8::1]' });
  assert.deepEqual(parseCommand('EHLO DESKTOP_1'), { verb: 'EHLO', host: { kind: 'other', raw: 'DESKTOP_1' } });
  assert.deepEqual(parseCommand('EHLO [999.1.1.1]'), { verb: 'EHLO', host: { kind: 'other', raw: '[999.1.1.1]' } });
  rejects('EHLO', 501, '5.5.4');
  rejects('EHLO ', 501, '5.5.4');
  rejects('EHLO a b', 501, '5.5.4');
});

test('MAIL FROM: paths, null path, Postfix space variant', () => {
  const m = mail('MAIL FROM:<alice@example.org>');
  assert.equal(m.from?.localPart, 'alice');
  assert.equal(m.from?.domain, 'example.org');
  assert.deepEqual(m.params, { smtputf8: false });
  assert.equal(mail('mail from:<>').from, null);
  assert.equal(mail('MAIL FROM: <a@b.c>').from?.localPart, 'a');
  assert.equal(mail('MAIL FROM:  <>  ').from, null);
  assert.equal(mail('MAIL FROM:<@relay.example,@r2.example:x@y.example>').from?.domain, 'y.example');
  assert.equal(mail('MAIL FROM:<"john doe"@example.org>').from?.localPart, 'john doe');
  rejects('MAIL', 501, '5.5.4');
  rejects('MAIL FROM', 501, '5.5.4');
  rejects('MAIL FROM:', 501, '5.5.4');
  rejects('MAIL TO:<a@b>', 501, '5.5.4');
  rejects('MAIL FROM:a@b', 553, '5.1.7');
  rejects('MAIL FROM:<a@b', 553, '5.1.7');
  rejects('MAIL FROM:<a@@b>', 553, '5.1.7');
  rejects('MAIL FROM:<a..b@c>', 553, '5.1.7');
  rejects('MAIL FROM:<a@-b.c>', 553, '5.1.7');
  rejects(`MAIL FROM:<${'a'.repeat(65)}@b.c>`, 553, '5.1.7');
  rejects('MAIL FROM:<a@b>SIZE=1', 501, '5.5.4');
});

test('MAIL parameters: SIZE, BODY, SMTPUTF8, RET, ENVID, AUTH', () => {
  const m = mail('MAIL FROM:<a@b.c> size=1000 BODY=8bitmime SMTPUTF8 RET=hdrs ENVID=QQ314159+2Bx AUTH=e+3Dmc2@example.com');
  assert.deepEqual(m.params, { size: 1000, body: '8BITMIME', smtputf8: true, ret: 'HDRS', envid: 'QQ314159+x', auth: 'e=mc2@example.com' });
  assert.equal(mail('MAIL FROM:<a@b.c> BODY=BINARYMIME').params.body, 'BINARYMIME');
  assert.equal(mail('MAIL FROM:<a@b.c> AUTH=<>').params.auth, null);
  rejects('MAIL FROM:<a@b.c> SIZE=abc', 501, '5.5.4');
  rejects('MAIL FROM:<a@b.c> SIZE', 501, '5.5.4');
  rejects('MAIL FROM:<a@b.c> SIZE=99999999999999999999', 552, '5.3.4');
  rejects('MAIL FROM:<a@b.c> SIZE=1 SIZE=2', 501, '5.5.4');
  rejects('MAIL FROM:<a@b.c> BODY=9BIT', 501, '5.5.4');
  rejects('MAIL FROM:<a@b.c> SMTPUTF8=yes', 501, '5.5.4');
  rejects('MAIL FROM:<a@b.c> RET=ALL', 501, '5.5.4');
  rejects('MAIL FROM:<a@b.c> ENVID=a+zz', 501, '5.5.4');
  rejects(`MAIL FROM:<a@b.c> ENVID=${'x'.repeat(101)}`, 501, '5.5.4');
  rejects('MAIL FROM:<a@b.c> FOO=bar', 555, '5.5.4');
  rejects('MAIL FROM:<a@b.c> X-=bar', 555, '5.5.4');
  rejects('MAIL FROM:<a@b.c> =bar', 501, '5.5.4');
  rejects('MAIL FROM:<a@b.c> SIZE=', 501, '5.5.4');
});

test('disabled extensions make their parameters unknown (555)', () => {
  const opts = { extensions: { dsn: false, binaryMime: false, smtputf8: false, auth: false, size: false } };
  rejects('MAIL FROM:<a@b.c> RET=FULL', 555, '5.5.4', opts);
  rejects('MAIL FROM:<a@b.c> SMTPUTF8', 555, '5.5.4', opts);
  rejects('MAIL FROM:<a@b.c> AUTH=<>', 555, '5.5.4', opts);
  rejects('MAIL FROM:<a@b.c> SIZE=5', 555, '5.5.4', opts);
  rejects('MAIL FROM:<a@b.c> BODY=BINARYMIME', 501, '5.5.4', opts);
  rejects('RCPT TO:<a@b.c> NOTIFY=NEVER', 555, '5.5.4', opts);
});

test('SMTPUTF8: UTF-8 addresses only with the parameter (RFC 6531 3.5)', () => {
  const m = mail('MAIL FROM:<pelé@exämple.org> SMTPUTF8');
  assert.equal(m.from?.utf8, true);
  assert.equal(m.from?.localPart, 'pelé');
  rejects('MAIL FROM:<pelé@example.org>', 553, '5.6.7');
  rejects('MAIL FROM:<a@exämple.org>', 553, '5.6.7');
  rejects('RCPT TO:<pelé@example.org>', 553, '5.6.7');
  assert.equal(rcpt('RCPT TO:<pelé@example.org>', { smtputf8: true }).to.kind, 'mailbox');
  // As a Buffer: UTF-8 is checked.
  assert.equal(parseCommand(Buffer.from('MAIL FROM:<ü@x.y> SMTPUTF8')).verb, 'MAIL');
  rejects(Buffer.from([0x4d, 0x41, 0x49, 0x4c, 0x20, 0xff]), 500, '5.5.2');
});

test('RCPT TO: postmaster, NOTIFY, ORCPT', () => {
  assert.deepEqual(rcpt('RCPT TO:<Postmaster>').to, { kind: 'postmaster' });
  const r = rcpt('rcpt to: <bob@example.org> NOTIFY=success,delay ORCPT=rfc822;bob+2Bx@example.org');
  assert.equal(r.to.kind === 'mailbox' && r.to.mailbox.localPart, 'bob');
  assert.deepEqual(r.params.notify, { never: false, success: true, failure: false, delay: true });
  assert.deepEqual(r.params.orcpt, { addrType: 'rfc822', address: 'bob+x@example.org', raw: 'rfc822;bob+2Bx@example.org' });
  assert.deepEqual(rcpt('RCPT TO:<b@c.d> NOTIFY=NEVER').params.notify, { never: true, success: false, failure: false, delay: false });
  const u = rcpt('RCPT TO:<b@c.d> ORCPT=utf-8;j\\x{00E9}r\\x{00F4}me@example.com');
  assert.equal(u.params.orcpt?.address, 'jérôme@example.com');
  rejects('RCPT TO:<b@c.d> NOTIFY=NEVER,SUCCESS', 501, '5.5.4');
  rejects('RCPT TO:<b@c.d> NOTIFY=SOMETIMES', 501, '5.5.4');
  rejects('RCPT TO:<b@c.d> NOTIFY=', 501, '5.5.4');
  rejects('RCPT TO:<b@c.d> ORCPT=bob@example.org', 501, '5.5.4');
  rejects('RCPT TO:<b@c.d> ORCPT=rfc822;', 501, '5.5.4');
  rejects('RCPT TO:<b@c.d> SIZE=1', 555, '5.5.4');
  rejects('RCPT TO:<>', 553, '5.1.3');
  rejects('RCPT TO:<postmaster@>', 553, '5.1.3');
  rejects('RCPT FROM:<a@b>', 501, '5.5.4');
  rejects('RCPT TO:<a@b> NOTIFY=NEVER NOTIFY=NEVER', 501, '5.5.4');
});

test('simple commands and their arguments', () => {
  for (const v of ['DATA', 'RSET', 'QUIT', 'STARTTLS']) {
    assert.deepEqual(parseCommand(v.toLowerCase()), { verb: v });
    assert.deepEqual(parseCommand(v + '  '), { verb: v }, 'trailing spaces tolerated');
    rejects(`${v} x`, 501, '5.5.4');
  }
  assert.deepEqual(parseCommand('NOOP'), { verb: 'NOOP' });
  assert.deepEqual(parseCommand('NOOP anything at all'), { verb: 'NOOP' });
  assert.deepEqual(parseCommand('VRFY bob'), { verb: 'VRFY', arg: 'bob' });
  assert.deepEqual(parseCommand('EXPN list@x'), { verb: 'EXPN', arg: 'list@x' });
  rejects('VRFY', 501, '5.5.4');
  rejects('EXPN ', 501, '5.5.4');
  assert.deepEqual(parseCommand('HELP'), { verb: 'HELP' });
  assert.deepEqual(parseCommand('HELP MAIL'), { verb: 'HELP', arg: 'MAIL' });
});

test('BDAT: sizes, LAST, fatal syntax errors', () => {
  assert.deepEqual(parseCommand('BDAT 1000'), { verb: 'BDAT', size: 1000, last: false });
  assert.deepEqual(parseCommand('bdat 0 last'), { verb: 'BDAT', size: 0, last: true });
  assert.deepEqual(parseCommand('BDAT 007 LAST'), { verb: 'BDAT', size: 7, last: true });
  assert.equal(rejects('BDAT', 501, '5.5.4').fatal, true);
  assert.equal(rejects('BDAT -1', 501, '5.5.4').fatal, true);
  assert.equal(rejects('BDAT 10 FIRST', 501, '5.5.4').fatal, true);
  assert.equal(rejects('BDAT 1e3', 501, '5.5.4').fatal, true);
  assert.equal(rejects('BDAT 9999999999999999999', 552, '5.3.4').fatal, true);
});

test('AUTH: mechanism, initial response, "=" and bad base64', () => {
  assert.deepEqual(parseCommand('auth plain'), { verb: 'AUTH', mechanism: 'PLAIN' });
  assert.deepEqual(parseCommand('AUTH PLAIN AGFsaWNlAHNlY3JldA=='), { verb: 'AUTH', mechanism: 'PLAIN', initialResponse: 'AGFsaWNlAHNlY3JldA==' });
  assert.deepEqual(parseCommand('AUTH EXTERNAL ='), { verb: 'AUTH', mechanism: 'EXTERNAL', initialResponse: '' });
  assert.deepEqual(parseCommand('AUTH SCRAM-SHA-256-PLUS'), { verb: 'AUTH', mechanism: 'SCRAM-SHA-256-PLUS' });
  rejects('AUTH', 501, '5.5.4');
  rejects('AUTH PLAIN a b', 501, '5.5.4');
  rejects('AUTH PL@IN', 501, '5.5.4');
  rejects(`AUTH ${'X'.repeat(21)}`, 501, '5.5.4');
  rejects('AUTH PLAIN abc', 501, '5.5.2');
  rejects('AUTH PLAIN ab!=', 501, '5.5.2');
  assert.equal(isBase64(''), true);
  assert.equal(isBase64('YQ=='), true);
  assert.equal(isBase64('YQ='), false);
  assert.equal(isBase64('Y==='), false);
});

test('garbage, controls, unknown verbs', () => {
  rejects('', 500, '5.5.2');
  rejects('   ', 500, '5.5.2');
  rejects('MAIL FROM:<a@b>\x00', 500, '5.5.2');
  rejects('NOOP\r', 500, '5.5.2');
  rejects('XYZZY', 500, '5.5.1');
  assert.equal(rejects('XYZZY', 500, '5.5.1').fatal, false);
  assert.equal(rejects('GET / HTTP/1.1', 500, '5.5.1').fatal, true);
  assert.equal(rejects('POST /x HTTP/1.0', 500, '5.5.1').fatal, true);
  assert.equal(rejects('\x16\x03\x01', 500, '5.5.2').fatal, false);
  assert.equal(rejects('{"json":1}', 500, '5.5.1').fatal, true);
});

test('fuzz: the parser returns a command or throws SmtpError, nothing else', () => {
  const verbs = fc.constantFrom('MAIL FROM:', 'RCPT TO:', 'EHLO ', 'AUTH ', 'BDAT ', 'DATA', 'VRFY ', '', 'mail from: ');
  const pieces = fc.constantFrom('<', '>', '@', '"', '\\', '.', ' ', '=', ';', '+', ',', ':', '[', ']', 'a', 'é', 'IPv6:', '::1', 'SIZE', 'BODY', 'NOTIFY', 'ORCPT', 'SMTPUTF8', '0', '9', '\x00', '\r', '\u{1F600}');
  fc.assert(
    fc.property(verbs, fc.array(pieces, { maxLength: 30 }), fc.boolean(), (verb, parts, utf8) => {
      const line = verb + parts.join('');
      try {
        const c = parseCommand(line, { smtputf8: utf8 });
        assert.equal(typeof c.verb, 'string');
        if (c.verb === 'MAIL' && c.from && c.from.utf8) assert.equal(c.params.smtputf8, true);
        if (c.verb === 'RCPT' && c.to.kind === 'mailbox' && c.to.mailbox.utf8) assert.equal(utf8, true);
      } catch (e) {
        assert.ok(e instanceof SmtpError, `${JSON.stringify(line)} threw ${String(e)}`);
        assert.ok(e.reply.code >= 500 && e.reply.code < 600);
      }
    }),
    { numRuns: 5000 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 60 }), (bytes) => {
      try {
        parseCommand(Buffer.from(bytes));
      } catch (e) {
        assert.ok(e instanceof SmtpError);
      }
    }),
    { numRuns: 3000 },
  );
});
