import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { decodeEntities, htmlToText } from './html-text.js';
import { parseMessage } from './mime-tree.js';
import { preview, previewOfText } from './preview.js';
import { searchableText } from './search-text.js';

const fixture = (n: string): Buffer => readFileSync(new URL(`../../../test/fixtures/mime/${n}`, import.meta.url));

test('search text: decoded headers and decoded text of every text part', () => {
  const buf = fixture('05-encoded-words.eml');
  const t = searchableText(buf, parseMessage(buf));
  assert.match(t.header, /^from: André Pirard <PIRARD@vm1\.ulg\.ac\.be>$/m);
  assert.match(t.header, /^subject: émile and “quotes” =\?bogus-charset\?Q\?left_alone\?=$/m);
  assert.match(t.header, /Привет/);
  assert.match(t.body, /Café crème/);
});

test('search text includes HTML without tags and encapsulated messages with their headers', () => {
  const buf = fixture('04-nested-rfc822.eml');
  const t = searchableText(buf, parseMessage(buf));
  assert.match(t.body, /See below\./);
  assert.match(t.body, /subject: Lunch/);
  assert.match(t.body, /Lunch at noon\?/);
  assert.doesNotMatch(t.body, /<p>/);
  assert.doesNotMatch(t.header, /Ivan/);
});

test('search text skips attachments and survives unknown encodings and charsets', () => {
  const buf = Buffer.from(
    'Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=nonsense\r\nContent-Transfer-Encoding: x-weird\r\n\r\nr\xc3\xa9sum\xc3\xa9\r\n--b\r\nContent-Type: application/pdf\r\n\r\n%PDF-secret\r\n--b--\r\n',
    'latin1',
  );
  const t = searchableText(buf, parseMessage(buf));
  assert.match(t.body, /résumé/);
  assert.doesNotMatch(t.body, /PDF-secret/);
});

test('html to text: tags, scripts, comments, entities, hostile markup', () => {
  assert.equal(
    htmlToText('<html><head><title>T</title><style>p{}</style></head><body><p>a&amp;b</p><script>x()</script><!-- c -->d&nbsp;&#233;&#x20AC;</body></html>').replace(/\s+/g, ' ').trim(),
    'a&b d é€',
  );
  assert.equal(htmlToText('1 < 2'), '1 < 2');
  assert.equal(decodeEntities('&bogus; &#0; &#xD800; &lt'), '&bogus; &#0; &#xD800; <');
  const hostile = '<'.repeat(200000) + '<script'.repeat(20000);
  const t0 = Date.now();
  htmlToText(hostile);
  assert.ok(Date.now() - t0 < 30_000);
});

test('preview: first text part, plain preferred in alternatives, quotes and signature dropped', () => {
  const buf = fixture('03-alternative-in-mixed.eml');
  assert.equal(preview(buf, parseMessage(buf)), 'Here is the new logo.');
  const html = fixture('09-bare-lf.eml');
  assert.equal(preview(html, parseMessage(html)), 'line one line two');
  const q = Buffer.from('Content-Type: text/plain\r\n\r\nThanks!\r\n\r\n> old text\r\n>> older\r\nSee   you\r\n-- \r\nSig line\r\n');
  assert.equal(preview(q, parseMessage(q)), 'Thanks! See you');
  const h = Buffer.from('Content-Type: text/html\r\n\r\n<p>Hello&nbsp;<b>there</b></p>');
  assert.equal(preview(h, parseMessage(h)), 'Hello there');
});

test('preview: 200 characters at most, never splitting a surrogate pair; empty without text', () => {
  const long = Buffer.from('Content-Type: text/plain; charset=utf-8\r\n\r\n' + '😀'.repeat(300));
  const p = preview(long, parseMessage(long));
  assert.equal(Array.from(p).length, 200);
  assert.equal(p, '😀'.repeat(200));
  const att = Buffer.from('Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: image/png\r\n\r\nxx\r\n--b--');
  assert.equal(preview(att, parseMessage(att)), '');
  const onlyAttachment = Buffer.from('Content-Disposition: attachment\r\n\r\ntext');
  assert.equal(preview(onlyAttachment, parseMessage(onlyAttachment)), '');
  assert.equal(preview(Buffer.alloc(0), parseMessage(Buffer.alloc(0))), '');
});

test('a 50 MB single-line base64 text part: search, preview and BINARY stay fast', async () => {
  const { binarySize, decodePartContent } = await import('./transfer-decode.js');
  const raw = Buffer.alloc(50 * 1024 * 1024, 'QUJD'); // "ABC" repeated, one line
  const buf = Buffer.concat([Buffer.from('Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n'), raw]);
  const t = Date.now();
  const root = parseMessage(buf);
  const s = searchableText(buf, root);
  assert.ok(s.body.startsWith('ABCABC'));
  assert.ok(s.body.length <= 1024 * 1024);
  assert.equal(preview(buf, root), 'ABC'.repeat(67).slice(0, 200));
  assert.equal(binarySize(buf, root), (raw.length / 4) * 3);
  assert.equal(decodePartContent(buf, root).length, (raw.length / 4) * 3);
  assert.ok(Date.now() - t < 30_000, `took ${Date.now() - t} ms`);
});

/** The preview as first written: whole-text passes, simple and obviously right. */
function referencePreview(text: string): string {
  const sig = text.search(/^-- ?\r?$/m);
  if (sig >= 0) text = text.slice(0, sig);
  const kept = text.split('\n').filter((l) => !l.trimStart().startsWith('>')).join(' ');
  const collapsed = kept.replace(/[\s\u00a0\u200b\ufeff]+/gu, ' ').trim();
  const cps = Array.from(collapsed.slice(0, 400));
  return cps.length > 200 ? cps.slice(0, 200).join('').trimEnd() : cps.join('');
}

test('preview: the word-by-word builder equals the whole-text reference on random texts', () => {
  const pieces = ['a', 'é', 'xy', ' ', '\t', '\v', '\n', '\r', '>', '-', '-- ', '\n-- \n', '\n> q', '\u200b', '\u00a0', '\u1680',
    '\u2000', '\u200a', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000', '\ufeff', '\u0085', '😀', '\ud800', '\udc00'];
  let seed = 12345;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  for (let n = 0; n < 20_000; n++) {
    const len = rand(n % 10 === 0 ? 700 : 60);
    let s = '';
    for (let k = 0; k < len; k++) s += pieces[rand(pieces.length)];
    assert.equal(previewOfText(s), referencePreview(s), JSON.stringify(s));
  }
});
