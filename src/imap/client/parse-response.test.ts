import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseResponse } from './parse-response.js';
import { ResponseReader } from './response-reader.js';
import { ImapParseError, type DataResponse, type Value } from './response.js';

const p = (s: string | Buffer) => parseResponse(Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8'));
const a = (atom: string) => ({ atom });
const b = (s: string) => Buffer.from(s, 'utf8');

test('tagged and untagged status responses with codes', () => {
  assert.deepEqual(p('A1 OK [READ-WRITE] SELECT completed'), {
    kind: 'status', tag: 'A1', status: 'OK', code: { name: 'READ-WRITE', args: [] }, text: 'SELECT completed',
  });
  assert.deepEqual(p('* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited'), {
    kind: 'status', tag: '*', status: 'OK', code: { name: 'PERMANENTFLAGS', args: [[a('\\Deleted'), a('\\Seen'), a('\\*')]] }, text: 'Limited',
  });
  // Dovecot and others may send a code with no text after it.
  assert.deepEqual(p('* OK [UIDNEXT 4392]'), { kind: 'status', tag: '*', status: 'OK', code: { name: 'UIDNEXT', args: [a('4392')] }, text: '' });
  assert.deepEqual(p('A2 NO [COPYUID 38505 304,319:320 3956:3958] Done'), {
    kind: 'status', tag: 'A2', status: 'NO', code: { name: 'COPYUID', args: [a('38505'), a('304,319:320'), a('3956:3958')] }, text: 'Done',
  });
  assert.deepEqual(p('* PREAUTH [CAPABILITY IMAP4rev2 IDLE] hi there'), {
    kind: 'status', tag: '*', status: 'PREAUTH', code: { name: 'CAPABILITY', args: [a('IMAP4rev2'), a('IDLE')] }, text: 'hi there',
  });
  // Text with brackets that is not a code.
  assert.deepEqual(p('* BYE closing [soon]'), { kind: 'status', tag: '*', status: 'BYE', text: 'closing [soon]' });
});

test('continuation requests', () => {
  assert.deepEqual(p('+ idling'), { kind: 'continuation', text: 'idling' });
  assert.deepEqual(p('+ '), { kind: 'continuation', text: '' });
  assert.deepEqual(p('+'), { kind: 'continuation', text: '' });
  assert.deepEqual(p('+ cj1hYmM='), { kind: 'continuation', text: 'cj1hYmM=' });
});

test('numbered data, quoted strings with escapes, NIL, nested lists', () => {
  assert.deepEqual(p('* 23 EXISTS'), { kind: 'data', name: 'EXISTS', number: 23, values: [] });
  const r = p('* LIST (\\HasNoChildren \\Sent) "/" "Sent \\"items\\" \\\\ x"') as DataResponse;
  assert.deepEqual(r.values, [[a('\\HasNoChildren'), a('\\Sent')], b('/'), b('Sent "items" \\ x')]);
  const f = p('* 1 FETCH (ENVELOPE (NIL "s" ((NIL NIL "a" "b")) NIL NIL NIL NIL NIL NIL NIL))') as DataResponse;
  assert.equal(f.number, 1);
  const env = (f.values[0] as Value[])[1] as Value[];
  assert.equal(env[0], null);
  assert.deepEqual(env[2], [[null, null, b('a'), b('b')]]);
  assert.deepEqual((p('* LIST () NIL INBOX') as DataResponse).values, [[], null, a('INBOX')]);
});

test('literals inline, including CRLF, brackets and parens inside, and literal8', () => {
  const body = 'Subject: x)\r\n\r\n(not a list} {3}\r\n';
  const raw = Buffer.concat([b(`* 12 FETCH (UID 5 BODY[HEADER.FIELDS (SUBJECT)]<0> {${Buffer.byteLength(body)}}\r\n`), b(body), b(' BINARY[1] ~{3}\r\n'), Buffer.from([0, 1, 2]), b(')')]);
  const r = p(raw) as DataResponse;
  const items = r.values[0] as Value[];
  assert.deepEqual(items[0], a('UID'));
  assert.deepEqual(items[2], a('BODY[HEADER.FIELDS (SUBJECT)]<0>'));
  assert.deepEqual(items[3], b(body));
  assert.deepEqual(items[4], a('BINARY[1]'));
  assert.deepEqual(items[5], Buffer.from([0, 1, 2]));
});

test('8-bit bytes survive in quoted strings and literals', () => {
  const latin1 = Buffer.from([0x2a, 0x20, 0x53, 0x45, 0x41, 0x52, 0x43, 0x48, 0x20, 0x22, 0xe9, 0xff, 0x22]); // * SEARCH "\xe9\xff"
  const r = p(latin1) as DataResponse;
  assert.deepEqual(r.values[0], Buffer.from([0xe9, 0xff]));
  const utf8 = p('* LIST () "/" "Entwürfe"') as DataResponse;
  assert.equal((utf8.values[2] as Buffer).toString('utf8'), 'Entwürfe');
});

test('an unparsable response code keeps the response', () => {
  const r = p('* OK [XWEIRD "unterminated] text');
  assert.equal(r.kind, 'status');
  if (r.kind === 'status') {
    assert.equal(r.code?.name, 'XWEIRD');
    assert.equal(r.text, 'text');
  }
});

test('syntax errors are ImapParseError', () => {
  assert.throws(() => p('* 1 FETCH (UID 1'), ImapParseError);
  assert.throws(() => p('* LIST () "/" "open'), ImapParseError);
  assert.throws(() => p('* 1 FETCH (BODY[] {10}\r\nshort)'), ImapParseError);
  assert.throws(() => p('A1 BYE no'), ImapParseError);
  assert.throws(() => p('A1 FETCH x'), ImapParseError);
});

test('reader frames responses across arbitrary chunk boundaries', () => {
  const stream = Buffer.concat([
    b('* OK hello\r\n* 1 FETCH (BODY[] {13}\r\n'),
    b('ab\r\n{3}\r\ncd\r\n'), // literal content that looks like a literal announcement and CRLFs
    b(' FLAGS (\\Seen))\r\n* 2 EXISTS\nA1 OK done\r\n'),
  ]);
  for (let split = 1; split < stream.length; split += 3) {
    const r = new ResponseReader();
    const out: string[] = [];
    for (let i = 0; i < stream.length; i += split) out.push(...r.push(stream.subarray(i, i + split)).map((x) => x.toString('latin1')));
    assert.deepEqual(out, ['* OK hello', '* 1 FETCH (BODY[] {13}\r\nab\r\n{3}\r\ncd\r\n FLAGS (\\Seen))', '* 2 EXISTS', 'A1 OK done'], `split ${split}`);
    assert.equal(r.hasBuffered(), false);
  }
  const parsed = p(Buffer.from('* 1 FETCH (BODY[] {13}\r\nab\r\n{3}\r\ncd\r\n FLAGS (\\Seen))', 'latin1')) as DataResponse;
  assert.deepEqual((parsed.values[0] as Value[])[1], b('ab\r\n{3}\r\ncd\r\n'));
});

test('reader refuses a literal over its limit', () => {
  const r = new ResponseReader(1000);
  assert.throws(() => r.push(b('* 1 FETCH (BODY[] {5000}\r\n')), /over the limit/);
});
