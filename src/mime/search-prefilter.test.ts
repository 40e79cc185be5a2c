import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeCharset } from './charset.js';
import { parseMessage } from './mime-tree.js';
import { searchableText } from './search-text.js';
import { FOLDS_TO_ASCII_BYTES, FOLDS_TO_ASCII_TARGETS, rawCannotContain, TRANSPARENT_ENCODINGS, transparentCharset } from './search-prefilter.js';

const fold = (s: string): string => s.normalize('NFC').toLowerCase();

/** What SEARCH BODY / TEXT decide after full decoding (search-eval.ts). */
function fullMatch(buf: Buffer, needle: string, withHeader: boolean): boolean {
  const t = searchableText(buf, parseMessage(buf));
  return (withHeader && fold(t.header).includes(needle)) || fold(t.body).includes(needle);
}

const msg = (head: string, body: string | Buffer): Buffer =>
  Buffer.concat([Buffer.from(head.replace(/\n/g, '\r\n') + '\r\n\r\n'), typeof body === 'string' ? Buffer.from(body.replace(/\n/g, '\r\n')) : body]);

test('prefilter: the characters that fold to ASCII are exactly the ones it knows', () => {
  const targets = new Set<string>();
  const sources: number[] = [];
  for (let cp = 0x80; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const f = fold(String.fromCodePoint(cp));
    let hit = false;
    for (const ch of f) {
      if (ch.charCodeAt(0) < 0x80) {
        targets.add(ch);
        hit = true;
      }
    }
    if (hit) sources.push(cp);
  }
  for (const t of targets) assert.ok(FOLDS_TO_ASCII_TARGETS.includes(t), `missing target ${t}`);
  assert.deepEqual(sources, [0x130, 0x37e, 0x1fef, 0x212a]);
});

test('prefilter: transparent single-byte charsets keep ASCII and make no ASCII of other bytes', () => {
  for (const enc of TRANSPARENT_ENCODINGS) {
    assert.ok(transparentCharset(enc), enc);
    if (enc === 'utf-8') continue;
    for (let b = 0; b < 256; b++) {
      const s = decodeCharset(Buffer.from([b]), enc);
      if (b < 0x80) {
        assert.equal(s, String.fromCharCode(b), `${enc} ${b}`);
        continue;
      }
      assert.ok(s.length > 0, `${enc} ${b} dropped`);
      const ascii = [...fold(s)].some((c) => c.charCodeAt(0) < 0x80);
      if (ascii) assert.ok(FOLDS_TO_ASCII_BYTES.includes(b), `${enc} byte ${b.toString(16)} folds to ASCII`);
    }
  }
  for (const label of ['ibm866', 'utf-16le', 'UTF-16', 'iso-2022-jp', 'shift_jis', 'gb18030', 'euc-kr']) assert.ok(!transparentCharset(label), label);
  for (const label of ['us-ascii', 'UTF-8', 'latin1', 'iso-8859-1', 'windows-1252', 'x-unknown-charset', '']) assert.ok(transparentCharset(label), label);
});

test('prefilter: plain messages without the needle are decided on raw bytes, any case', () => {
  const m = msg('From: a@example.org\nSubject: Hello', 'The XyloPhonist plays.\nSecond line.\n');
  assert.equal(rawCannotContain(m, 'trumpet', false), true);
  assert.equal(rawCannotContain(m, 'xylophonist', false), false); // present (mixed case): decode
  assert.ok(fullMatch(m, 'xylophonist', false));
  // Only in the header: BODY cannot match, TEXT may.
  assert.equal(rawCannotContain(m, 'hello', false), true);
  assert.equal(rawCannotContain(m, 'hello', true), false);
  assert.ok(fullMatch(m, 'hello', true));
  // Non-ASCII needle against an ASCII body.
  assert.equal(rawCannotContain(m, fold('Émile'), false), true);
  // Needles with characters special in regular expressions are plain text.
  const r = msg('From: a@example.org', 'axb c+ [x] a.b\n');
  assert.equal(rawCannotContain(r, 'a.c', false), true);
  assert.equal(rawCannotContain(r, 'c++', false), true);
  assert.equal(rawCannotContain(r, 'a.b', false), false);
  assert.equal(rawCannotContain(r, '[x]', false), false);
  assert.equal(rawCannotContain(r, '(x)', false), true);
  // Needles the raw pass leaves alone.
  assert.equal(rawCannotContain(m, '', false), false);
  assert.equal(rawCannotContain(m, 'plays. second', false), false);
  assert.equal(rawCannotContain(m, 'subject:', true), false);
});

test('prefilter: encoded bodies, charsets, HTML and encoded words are decoded, never skipped', () => {
  const word = 'Xylophonist';
  const cases: Buffer[] = [
    msg('Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64', Buffer.from(`A ${word} here`).toString('base64')),
    msg('Content-Type: text/plain\nContent-Transfer-Encoding: Quoted-Printable', 'A Xylo=\nphonist and X=79lophonist\n'),
    msg('Content-Type: text/html', '<p>A Xylo<b></b>phonist &amp; x&#121;lophonist</p>'),
    msg('Content-Type: text/plain; charset="utf-16le"', Buffer.from(`A ${word}`, 'utf16le')),
    msg('Content-Type: text/plain; charset=iso-2022-jp', 'A Xylo\x1b(Bphonist\n'),
    msg('Content-Type: text/plain; charset*=us-ascii\'\'utf-16le', Buffer.from(`A ${word}`, 'utf16le')),
    msg('Content-Type: message/rfc822', 'Subject: =?utf-8?q?Xylo?= =?utf-8?q?phonist?=\n\nbody\n'),
    msg('Content-Type: multipart/mixed; boundary=b', `--b\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n${Buffer.from(word).toString('base64')}\n--b--\n`),
    msg('Content-Type: text/plain;\n charset=utf-16le', Buffer.from(word, 'utf16le')),
    msg('Content-Type: TEXT/HTML (comment); charset=utf-8', '<p>x&#121;lophonist</p>'),
    msg('Content-Transfer-Encoding: (comment) base64', Buffer.from(word).toString('base64')),
  ];
  for (const m of cases) {
    assert.ok(fullMatch(m, 'xylophonist', false), m.toString('latin1'));
    assert.equal(rawCannotContain(m, 'xylophonist', false), false, m.toString('latin1'));
  }
  // TEXT: encoded words in the top-level header.
  const h = msg('Subject: =?utf-8?b?' + Buffer.from(word).toString('base64') + '?=', 'nothing\n');
  assert.ok(fullMatch(h, 'xylophonist', true));
  assert.equal(rawCannotContain(h, 'xylophonist', true), false);
});

test('prefilter: non-ASCII needles and characters folding to ASCII', () => {
  // UTF-8 body, non-ASCII needle in another case: only the decoder can tell.
  const u = msg('Content-Type: text/plain; charset=utf-8', 'ÉMILE and CAFÉ\n');
  assert.equal(rawCannotContain(u, fold('émile'), false), false);
  assert.ok(fullMatch(u, fold('émile'), false));
  // Latin-1 bytes for "é": the needle's UTF-8 bytes are not in the raw message.
  const l = msg('Content-Type: text/plain; charset=iso-8859-1', Buffer.from('caf\xe9\r\n', 'latin1'));
  assert.equal(rawCannotContain(l, fold('café'), false), false);
  assert.ok(fullMatch(l, fold('café'), false));
  // U+0130 folds to "i̇" and KELVIN SIGN to "k": needles with i or k are not decided by bytes then.
  const turkish = msg('Content-Type: text/plain; charset=utf-8', 'FİNAL and \u212aELVIN\n');
  assert.ok(fullMatch(turkish, 'fi', false));
  assert.equal(rawCannotContain(turkish, 'fi', false), false);
  assert.ok(fullMatch(turkish, 'kelvin', false));
  assert.equal(rawCannotContain(turkish, 'kelvin', false), false);
  const iso9 = msg('Content-Type: text/plain; charset=iso-8859-9', Buffer.from('F\xddNAL\r\n', 'latin1'));
  assert.ok(fullMatch(iso9, 'fi', false));
  assert.equal(rawCannotContain(iso9, 'fi', false), false);
  // A UTF-8 body without those characters still gets the fast answer for needles with i.
  const plain = msg('Content-Type: text/plain; charset=utf-8', 'Grüße aus Köln\n');
  assert.equal(rawCannotContain(plain, 'xylophonist', false), true);
  assert.equal(rawCannotContain(plain, 'köln', false), false);
  assert.ok(fullMatch(plain, 'köln', false));
});

test('prefilter: never says "cannot" when the decoded text matches (generated messages)', () => {
  const bodies: [string, Buffer][] = [];
  const texts = ['Xylophonist', 'xylo phonist', 'XYLOPHONİST', 'xylophonist\u0301', 'Émile Zola', 'ÉMILE', 'caf\u00e9', 'cafe\u0301', '\u212aelvin', 'a;b`c', 'plain words only'];
  const encodings = ['7bit', 'base64', 'quoted-printable', ''];
  const charsets = ['utf-8', 'iso-8859-1', 'iso-8859-9', 'utf-16le', 'windows-1252', 'koi8-r', ''];
  for (const t of texts) {
    for (const enc of encodings) {
      for (const cs of charsets) {
        let bytes: Buffer;
        try {
          bytes = cs === 'utf-16le' ? Buffer.from(t, 'utf16le') : cs && cs !== 'utf-8' ? Buffer.from(t, 'latin1') : Buffer.from(t);
        } catch {
          continue;
        }
        const body = enc === 'base64' ? Buffer.from(bytes.toString('base64')) : enc === 'quoted-printable' ? Buffer.from([...bytes].map((b) => (b < 0x80 && b !== 0x3d ? String.fromCharCode(b) : '=' + b.toString(16).toUpperCase().padStart(2, '0'))).join('')) : bytes;
        const head = `Content-Type: text/${t.length % 2 ? 'plain' : 'html'}${cs ? `; charset=${cs}` : ''}${enc ? `\nContent-Transfer-Encoding: ${enc}` : ''}`;
        bodies.push([head, body]);
        bodies.push([`Content-Type: text/plain${cs ? `; charset=${cs}` : ''}${enc ? `\nContent-Transfer-Encoding: ${enc}` : ''}`, body]);
        bodies.push(['Content-Type: message/rfc822', Buffer.from(`Subject: ${t.replace(/[^\x20-\x7e]/g, '?')}\r\n\r\n`)]);
      }
    }
  }
  const needles = ['xylophonist', 'xylo', 'phonist', 'émile', 'émile zola', 'café', 'cafe', 'kelvin', 'elvin', 'a;b', '`c', 'i', 'k', 'only', 'xylophonİst'].map(fold);
  let decided = 0;
  for (const [head, body] of bodies) {
    const m = msg(head, body);
    for (const n of needles) {
      for (const withHeader of [false, true]) {
        if (rawCannotContain(m, n, withHeader)) {
          decided++;
          assert.equal(fullMatch(m, n, withHeader), false, `${JSON.stringify(n)} in ${JSON.stringify(m.toString('latin1'))}`);
        }
      }
    }
  }
  assert.ok(decided > 1000, `only ${decided} decided`);
});
