import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MultipartStructure, SinglePartStructure } from './body-structure.js';
import { formatInternalDate, parseFetch, parseInternalDate, sectionKey } from './fetch-result.js';
import { parseResponse } from './parse-response.js';
import type { DataResponse } from './response.js';

const fetch = (s: string) => {
  const r = parseResponse(Buffer.from(s, 'utf8')) as DataResponse;
  return parseFetch(r.number!, r.values);
};

test('FETCH items: uid, flags, dates, sizes, modseq, sections, partial, binary', () => {
  const m = fetch(
    '* 3 FETCH (UID 17 FLAGS (\\Seen $Forwarded) INTERNALDATE " 7-Feb-2024 10:20:30 +0100" RFC822.SIZE 4096 MODSEQ (9223372036854775807) ' +
      'BODY[] {5}\r\nhello BODY[1.2]<10> "part" BODY[HEADER.FIELDS (Subject)] NIL BINARY[1] ~{3}\r\nabc BINARY.SIZE[1] 3 PREVIEW "pre" EMAILID (M6d99ac) X-UNKNOWN 1)',
  );
  assert.equal(m.seq, 3);
  assert.equal(m.uid, 17);
  assert.deepEqual(m.flags, ['\\Seen', '$Forwarded']);
  assert.equal(m.internalDate?.toISOString(), '2024-02-07T09:20:30.000Z');
  assert.equal(m.size, 4096);
  assert.equal(m.modseq, 9223372036854775807n);
  assert.equal(m.body?.['']?.toString(), 'hello');
  assert.equal(m.body?.['1.2']?.toString(), 'part');
  assert.equal(m.origin?.['1.2'], 10);
  assert.equal(m.body?.['HEADER.FIELDS (SUBJECT)'], null);
  assert.equal(m.binary?.['1']?.toString(), 'abc');
  assert.equal(m.binarySize?.['1'], 3);
  assert.equal(m.preview, 'pre');
  assert.equal(m.emailId, 'M6d99ac');
  assert.deepEqual(m.other?.['X-UNKNOWN'], { atom: '1' });
  assert.equal(sectionKey(' header.fields  ( Subject  From ) '), 'HEADER.FIELDS (SUBJECT FROM)');
});

test('ENVELOPE with groups, NIL fields and an empty host', () => {
  const m = fetch(
    '* 1 FETCH (ENVELOPE ("Mon, 7 Feb 1994 21:52:25 -0800" "=?utf-8?q?caf=C3=A9?=" (("Terry \\"T\\" Gray" NIL "gray" "cac.washington.edu")) NIL NIL ' +
      '((NIL NIL "friends" NIL)("Ann" NIL "ann" "example.org")(NIL NIL NIL NIL)("Bob" NIL "bob" "example.net")) NIL NIL "<a@b>" "<B27397-0100000@cac.washington.edu>"))',
  );
  const e = m.envelope!;
  assert.equal(e.subject, '=?utf-8?q?caf=C3=A9?=');
  assert.deepEqual(e.from, [{ name: 'Terry "T" Gray', adl: null, mailbox: 'gray', host: 'cac.washington.edu', address: 'gray@cac.washington.edu' }]);
  assert.deepEqual(e.sender, []);
  assert.deepEqual(
    e.to.map((x) => [x.address, x.group]),
    [
      ['ann@example.org', 'friends'],
      ['bob@example.net', undefined],
    ],
  );
  assert.equal(e.inReplyTo, '<a@b>');
  assert.equal(e.messageId, '<B27397-0100000@cac.washington.edu>');
});

test('BODYSTRUCTURE: multipart with extension data and an enclosed message numbered per RFC 9051 6.4.5', () => {
  const m = fetch(
    '* 1 FETCH (BODYSTRUCTURE (("TEXT" "PLAIN" ("CHARSET" "UTF-8") NIL NIL "7BIT" 12 1 NIL NIL NIL NIL)' +
      '("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 300 (NIL "inner" NIL NIL NIL NIL NIL NIL NIL NIL) ' +
      '(("TEXT" "PLAIN" NIL NIL NIL "7BIT" 5 1)("APPLICATION" "PDF" ("NAME" "a.pdf") "<id>" "desc" "BASE64" 100 NIL ("ATTACHMENT" ("FILENAME" "a.pdf")) "EN" "loc") "MIXED") 10 NIL NIL NIL NIL)' +
      ' "MIXED" ("BOUNDARY" "xyz") ("INLINE" NIL) ("en" "de") NIL))',
  );
  const root = m.bodyStructure as MultipartStructure;
  assert.equal(root.type, 'multipart');
  assert.equal(root.subtype, 'mixed');
  assert.equal(root.part, '');
  assert.deepEqual(root.parameters, { boundary: 'xyz' });
  assert.deepEqual(root.disposition, { type: 'inline', parameters: {} });
  assert.deepEqual(root.language, ['en', 'de']);
  const text = root.children[0] as SinglePartStructure;
  assert.deepEqual([text.part, text.type, text.subtype, text.parameters.charset, text.size, text.lines], ['1', 'text', 'plain', 'UTF-8', 12, 1]);
  const msg = root.children[1] as SinglePartStructure;
  assert.equal(msg.part, '2');
  assert.equal(msg.envelope?.subject, 'inner');
  assert.equal(msg.lines, 10);
  const inner = msg.body as MultipartStructure;
  assert.equal(inner.part, '2');
  assert.deepEqual(inner.children.map((c) => c.part), ['2.1', '2.2']);
  const pdf = inner.children[1] as SinglePartStructure;
  assert.equal(pdf.id, '<id>');
  assert.equal(pdf.encoding, 'base64');
  assert.deepEqual(pdf.disposition, { type: 'attachment', parameters: { filename: 'a.pdf' } });
  assert.deepEqual(pdf.language, ['EN']);
  assert.equal(pdf.location, 'loc');
  // A single-part message is section 1.
  const single = fetch('* 2 FETCH (BODY ("TEXT" "PLAIN" NIL NIL NIL "QUOTED-PRINTABLE" 3 1))');
  assert.equal(single.bodyStructure?.part, '1');
});

test('internal dates round-trip', () => {
  const d = new Date('2023-12-31T23:59:58Z');
  assert.equal(parseInternalDate(formatInternalDate(d)).getTime(), d.getTime());
  assert.throws(() => parseInternalDate('31-Foo-2023 00:00:00 +0000'));
});
