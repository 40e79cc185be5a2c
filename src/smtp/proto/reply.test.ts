import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatReply, parseReplies, reply, replyClass, ReplyReader, ReplySyntaxError, withText } from './reply.js';
import { R } from './enhanced-status.js';

test('single and multi-line replies with enhanced codes on every line', () => {
  assert.equal(formatReply(R.authRequired), '530 5.7.0 authentication required\r\n');
  assert.equal(formatReply(reply(250, '2.0.0', 'one', 'two')), '250-2.0.0 one\r\n250 2.0.0 two\r\n');
  assert.equal(formatReply(reply(250, undefined, 'mx.example', 'PIPELINING')), '250-mx.example\r\n250 PIPELINING\r\n');
  assert.equal(formatReply(reply(250, '2.0.0')), '250 2.0.0\r\n');
  assert.equal(formatReply(reply(354, undefined, '')), '354\r\n');
  assert.equal(formatReply(withText(R.authFailed, 'nope')), '535 5.7.8 nope\r\n');
});

test('text cannot inject extra reply lines or controls', () => {
  assert.equal(formatReply(reply(550, '5.1.1', 'no\r\n250 ok')), '550-5.1.1 no\r\n550 5.1.1 250 ok\r\n');
  assert.equal(formatReply(reply(550, '5.1.1', 'a\x00b\tc')), '550 5.1.1 a b c\r\n');
});

test('format refuses bad codes and mismatched enhanced codes', () => {
  assert.throws(() => formatReply(reply(99, undefined, 'x')), RangeError);
  assert.throws(() => formatReply(reply(250, '5.0.0', 'x')), RangeError);
  assert.throws(() => formatReply(reply(250, '2.0', 'x')), RangeError);
  assert.equal(replyClass(R.bye), 2);
  assert.equal(replyClass(R.insufficientStorage), 4);
});

test('every named reply formats and round-trips', () => {
  for (const [name, r] of Object.entries(R)) {
    const [back] = parseReplies(formatReply(r));
    assert.deepEqual(back, { code: r.code, enhanced: r.enhanced, lines: r.lines }, name);
  }
});

test('incremental reader: multi-line, split at every byte, pipelined replies', () => {
  const wire = Buffer.from('250-mx.example Hello\r\n250-SIZE 1000\r\n250 8BITMIME\r\n250 2.1.0 ok\r\n550 5.1.1 no such user\r\n');
  for (let i = 0; i <= wire.length; i++) {
    const r = new ReplyReader();
    const got = [...r.push(wire.subarray(0, i)), ...r.push(wire.subarray(i))];
    assert.deepEqual(got, [
      { code: 250, enhanced: undefined, lines: ['mx.example Hello', 'SIZE 1000', '8BITMIME'] },
      { code: 250, enhanced: '2.1.0', lines: ['ok'] },
      { code: 550, enhanced: '5.1.1', lines: ['no such user'] },
    ], `split ${i}`);
    assert.equal(r.partial, false);
  }
});

test('reader: code-only lines, enhanced code only when the class matches', () => {
  assert.deepEqual(parseReplies('250\r\n'), [{ code: 250, enhanced: undefined, lines: [''] }]);
  assert.deepEqual(parseReplies('354 End data with <CR><LF>.<CR><LF>\r\n')[0]!.enhanced, undefined);
  assert.deepEqual(parseReplies('451 5.0.0 odd\r\n')[0], { code: 451, enhanced: undefined, lines: ['5.0.0 odd'] });
  assert.deepEqual(parseReplies('550-5.7.1 a\r\n550-b\r\n550 5.7.1 c\r\n')[0], { code: 550, enhanced: '5.7.1', lines: ['a', 'b', 'c'] });
  // Bare LF line ends from sloppy servers are accepted.
  assert.deepEqual(parseReplies('220 hi\n')[0]!.lines, ['hi']);
});

test('reader: malformed replies throw', () => {
  for (const bad of ['25 x\r\n', '2500 x\r\n', 'abc\r\n', '\r\n', '250_x\r\n', '250-a\r\n251 b\r\n', '650 x\r\n', '199 x\r\n']) {
    assert.throws(() => parseReplies(bad), ReplySyntaxError, JSON.stringify(bad));
  }
  assert.throws(() => parseReplies('250-a\r\n'), ReplySyntaxError, 'incomplete');
  const r = new ReplyReader({ maxLineLength: 20 });
  assert.throws(() => r.push(Buffer.from('250 ' + 'x'.repeat(50))), ReplySyntaxError);
  const r2 = new ReplyReader({ maxLines: 3 });
  assert.throws(() => r2.push(Buffer.from('250-a\r\n250-b\r\n250-c\r\n250-d\r\n')), ReplySyntaxError);
});
