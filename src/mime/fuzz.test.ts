import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseAddressList } from './address.js';
import { bodyStructure } from './body-structure.js';
import { decodeEncodedWords } from './encoded-word.js';
import { envelope } from './envelope.js';
import { parseParamValue } from './header-params.js';
import { parseMessage } from './mime-tree.js';
import { preview } from './preview.js';
import { searchableText } from './search-text.js';
import { getSection } from './section.js';
import { binarySize, decodePartContent, UnknownTransferEncodingError } from './transfer-decode.js';
import type { MimePart } from './types.js';

const dir = new URL('../../../test/fixtures/mime/', import.meta.url);
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith('.eml'))
  .map((f) => readFileSync(new URL(f, dir)));

/** Runs everything the IMAP server would on a message and checks the offsets are sane. */
function exercise(buf: Buffer): void {
  const root = parseMessage(buf);
  const walk = (p: MimePart, numbers: number[]): void => {
    assert.ok(p.headerStart <= p.headerEnd && p.headerEnd <= p.bodyStart && p.bodyStart <= p.bodyEnd);
    assert.ok(p.bodyEnd <= buf.length);
    getSection(buf, root, { part: numbers });
    getSection(buf, root, { part: numbers, text: 'MIME' });
    getSection(buf, root, { part: numbers, text: 'HEADER.FIELDS', fields: ['subject'] });
    try {
      decodePartContent(buf, p);
      binarySize(buf, p);
    } catch (e) {
      if (!(e instanceof UnknownTransferEncodingError)) throw e;
    }
    p.children?.forEach((c, i) => walk(c, [...numbers, i + 1]));
    if (p.message) walk(p.message, numbers);
  };
  walk(root, []);
  JSON.stringify(bodyStructure(buf, root, true));
  JSON.stringify(envelope(buf, root));
  searchableText(buf, root);
  preview(buf, root);
  assert.deepEqual(JSON.parse(JSON.stringify(root)), root);
}

const mimeish = fc.array(
  fc.oneof(
    fc.constantFrom(
      '\r\n', '\n', '--b', '--b--', '--c', ': ', ';', '=', '"', '(', ')', '<', '>', '@', ',', ' ', '\t',
      'Content-Type: multipart/mixed; boundary=b', 'Content-Type: multipart/alternative; boundary=c',
      'Content-Type: message/rfc822', 'Content-Type: text/html; charset=utf-8', 'Content-Transfer-Encoding: base64',
      'Content-Transfer-Encoding: quoted-printable', 'Content-Disposition: attachment; filename*0*=utf-8\'\'%E2',
      'From: ', 'To: g: a@b;', 'Subject: =?utf-8?B?', '?=', '=?iso-2022-jp?B?GyRC?=', '=E9', '=\r\n',
    ),
    fc.string({ maxLength: 8 }),
  ),
  { maxLength: 60 },
);

test('random bytes never throw', { timeout: 120_000 }, () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => exercise(Buffer.from(bytes))),
    { numRuns: 500 },
  );
});

test('MIME-shaped random input never throws', { timeout: 120_000 }, () => {
  fc.assert(
    fc.property(mimeish, (pieces) => exercise(Buffer.from(pieces.join(''), 'utf8'))),
    { numRuns: 1000 },
  );
});

test('mutated fixtures never throw', { timeout: 120_000 }, () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...fixtures),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'del', 'dup')), { maxLength: 20 }),
      (fixture, edits) => {
        let buf = Buffer.from(fixture);
        for (const [pos, byte, kind] of edits) {
          if (!buf.length) break;
          const i = pos % buf.length;
          if (kind === 'set') buf[i] = byte;
          else if (kind === 'del') buf = Buffer.concat([buf.subarray(0, i), buf.subarray(i + 1)]);
          else buf = Buffer.concat([buf.subarray(0, i), buf.subarray(i, i + 40), buf.subarray(i)]);
        }
        exercise(buf);
      },
    ),
    { numRuns: 1000 },
  );
});

test('header-level parsers never throw on random strings', { timeout: 120_000 }, () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 300, unit: 'binary' }), (s) => {
      parseAddressList(s);
      decodeEncodedWords(s);
      parseParamValue(s);
    }),
    { numRuns: 2000 },
  );
});
