import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { HeaderSplitter, RelaxedBodyCanonicalizer, parseHeaderFields, relaxedHeader, relaxedHeaders, selectSignedFields } from './dkim-canon.js';

const L = (s: string) => Buffer.from(s, 'latin1');

/** Canonical body for the given chunks, as a latin1 string. */
function canonBody(chunks: readonly string[]): string {
  const out: string[] = [];
  const c = new RelaxedBodyCanonicalizer((b) => out.push(b.toString('latin1')));
  for (const ch of chunks) c.update(L(ch));
  c.end();
  return out.join('');
}

/** Every way of cutting `s` into two and three chunks gives the same output as one chunk. */
function assertSplitInvariant(s: string, expected: string): void {
  assert.equal(canonBody([s]), expected, JSON.stringify(s));
  for (let i = 0; i <= s.length; i++) {
    assert.equal(canonBody([s.slice(0, i), s.slice(i)]), expected, `split at ${i} of ${JSON.stringify(s)}`);
    for (let j = i; j <= s.length; j++) {
      assert.equal(canonBody([s.slice(0, i), s.slice(i, j), s.slice(j)]), expected, `split at ${i},${j} of ${JSON.stringify(s)}`);
    }
  }
  assert.equal(canonBody([...s]), expected, `byte chunks of ${JSON.stringify(s)}`);
}

/** A direct reading of RFC 6376 3.4.4, on the whole body at once. */
function referenceBody(s: string): string {
  const lines = s.split(/\r?\n/).map((l) => l.replace(/[ \t]+/g, ' ').replace(/ $/, ''));
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines.length ? lines.join('\r\n') + '\r\n' : '';
}

function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

const EMPTY_SHA256 = '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=';

test('RFC 6376 3.4.5 example: relaxed header and body', () => {
  const head = 'A: X\r\nB : Y\t\r\n\tZ  \r\n';
  const body = ' C \r\nD \t E\r\n\r\n\r\n';
  const fields = parseHeaderFields(L(head));
  assert.deepEqual(fields.map((f) => [f.name, f.key]), [['A', 'a'], ['B', 'b']]);
  assert.equal(relaxedHeaders(fields), 'a:X\r\nb:Y Z\r\n');
  assertSplitInvariant(body, ' C\r\nD E\r\n');
  // And as one streamed message: the splitter finds the header end.
  const msg = head + '\r\n' + body;
  for (let i = 0; i <= msg.length; i++) {
    const sp = new HeaderSplitter();
    const rest: string[] = [];
    for (const ch of [msg.slice(0, i), msg.slice(i)]) {
      const r = sp.push(L(ch));
      if (r) rest.push(r.toString('latin1'));
    }
    assert.equal(sp.finish().toString('latin1'), head, `split at ${i}`);
    assert.equal(rest.join(''), body, `split at ${i}`);
  }
});

/** RFC 6376 3.4.2 read literally, on one field. */
function referenceHeader(raw: string): string {
  const unfolded = raw.replace(/\r?\n/g, '');
  const colon = unfolded.indexOf(':');
  const lower = (x: string) => x.replace(/[A-Z]/g, (c) => c.toLowerCase());
  if (colon < 0) return lower(unfolded.replace(/[ \t]+/g, ' ').replace(/ $/, ''));
  return `${lower(unfolded.slice(0, colon).replace(/[ \t]+$/, ''))}:${unfolded.slice(colon + 1).replace(/[ \t]+/g, ' ').replace(/^ /, '').replace(/ $/, '')}`;
}

test('relaxed header: matches a literal reading of the RFC on random fields', () => {
  const rand = rng(63762);
  const pieces = ['Subject', 'X-A', 'v', 'A b', ':', ' ', ' ', '  ', '\t', '\r\n ', '\r\n\t', '\r', 'caf\xe9', '\xa0', 'Z'];
  for (let n = 0; n < 20000; n++) {
    let raw = '';
    const len = 1 + Math.floor(rand() * 10);
    for (let i = 0; i < len; i++) raw += pieces[Math.floor(rand() * pieces.length)];
    assert.equal(relaxedHeader(raw), referenceHeader(raw), JSON.stringify(raw));
  }
});

test('relaxed header: case, WSP runs, WSP around the colon, folding, trailing WSP', () => {
  assert.equal(relaxedHeader('SUBJECT: Hello'), 'subject:Hello');
  assert.equal(relaxedHeader('Subject  \t:   a \t\t b   '), 'subject:a b');
  assert.equal(relaxedHeader('Subject:\r\n folded\r\n\t  twice \r\n '), 'subject:folded twice');
  assert.equal(relaxedHeader('To: a@example.org,\r\n\tb@example.org'), 'to:a@example.org, b@example.org');
  assert.equal(relaxedHeader('X-Empty:'), 'x-empty:');
  assert.equal(relaxedHeader('X-Empty:   \t'), 'x-empty:');
  // Only ASCII letters are lowered and only SP/HTAB are WSP: other bytes stay as they are.
  assert.equal(relaxedHeader('Subject: caf\xe9\xa0 \xc3\xa0 X'), 'subject:caf\xe9\xa0 \xc3\xa0 X');
  assert.equal(relaxedHeader('Subject: a\x0bb'), 'subject:a\x0bb');
  // The value keeps its case.
  assert.equal(relaxedHeader('Message-ID: <AbC@Example.ORG>'), 'message-id:<AbC@Example.ORG>');
});

test('header fields: continuation lines, bare LF, lines without a colon', () => {
  const fields = parseHeaderFields(L('From: a@example.org\r\nSubject: one\r\n two\r\n\tthree\nTo:  b\r\nbogus line\r\n'));
  assert.deepEqual(fields.map((f) => f.raw), ['From: a@example.org', 'Subject: one\r\n two\r\n\tthree', 'To:  b', 'bogus line']);
  assert.deepEqual(fields.map((f) => f.key), ['from', 'subject', 'to', '']);
  assert.equal(relaxedHeader(fields[1]!.raw), 'subject:one two three');
  assert.deepEqual(parseHeaderFields(L('')), []);
  assert.deepEqual(parseHeaderFields(L('A: 1')).map((f) => f.raw), ['A: 1']);
});

test('duplicate fields are selected bottom-up, every instance, and unlisted ones skipped', () => {
  const fields = parseHeaderFields(L('Received: x\r\nSubject: first\r\nFrom: a@example.org\r\nsubject: second\r\nX-Other: y\r\nSUBJECT: third\r\n'));
  const sel = selectSignedFields(fields, new Set(['from', 'subject']));
  assert.deepEqual(sel.map((f) => f.name), ['SUBJECT', 'subject', 'From', 'Subject']);
  assert.equal(relaxedHeaders(sel), 'subject:third\r\nsubject:second\r\nfrom:a@example.org\r\nsubject:first\r\n');
  assert.deepEqual(selectSignedFields(fields, new Set(['cc'])), []);
});

test('header splitter: CRLF and bare LF, split anywhere, empty header, no body separator', () => {
  const cases: [string, string, string][] = [
    ['A: 1\r\nB: 2\r\n\r\nbody\r\n', 'A: 1\r\nB: 2\r\n', 'body\r\n'],
    ['A: 1\nB: 2\n\nbody\n', 'A: 1\nB: 2\n', 'body\n'],
    ['A: 1\r\n folded\r\n\r\n\r\nx', 'A: 1\r\n folded\r\n', '\r\nx'],
    ['\r\nbody only', '', 'body only'],
    ['A: 1\r\n\r\n', 'A: 1\r\n', ''],
    ['A: 1\r\nB: no blank line', 'A: 1\r\nB: no blank line', ''],
    ['A: x\r\r\n\r\nb', 'A: x\r\r\n', 'b'],
  ];
  for (const [msg, head, body] of cases) {
    for (let i = 0; i <= msg.length; i++) {
      for (let j = i; j <= msg.length; j++) {
        const sp = new HeaderSplitter();
        let rest = '';
        for (const ch of [msg.slice(0, i), msg.slice(i, j), msg.slice(j)]) {
          const r = sp.push(L(ch));
          if (r) rest += r.toString('latin1');
        }
        assert.equal(sp.finish().toString('latin1'), head, `${JSON.stringify(msg)} at ${i},${j}`);
        assert.equal(rest, body, `${JSON.stringify(msg)} at ${i},${j}`);
      }
    }
  }
});

test('relaxed body: WSP runs, trailing WSP, leading WSP kept as one SP', () => {
  assertSplitInvariant('a  b\t\tc \t d\r\n', 'a b c d\r\n');
  assertSplitInvariant('  lead\r\n\t\tlead2\r\n', ' lead\r\n lead2\r\n');
  assertSplitInvariant('trail  \t \r\nx\t\r\n', 'trail\r\nx\r\n');
  assertSplitInvariant('\t \r\nafter blank\r\n', '\r\nafter blank\r\n');
});

test('relaxed body: empty lines at the end dropped, inner ones kept', () => {
  assertSplitInvariant('a\r\n\r\n\r\n\r\n', 'a\r\n');
  assertSplitInvariant('\r\n\r\na\r\n\r\nb\r\n\r\n', '\r\n\r\na\r\n\r\nb\r\n');
  assertSplitInvariant('a\r\n \r\n\t\r\n  \t \r\n', 'a\r\n');
  assertSplitInvariant('a\r\n \r\nb', 'a\r\n\r\nb\r\n');
});

test('relaxed body: empty body hashes as the empty string (RFC 6376 3.4.4: no CRLF added)', () => {
  for (const body of ['', '\r\n', '\r\n\r\n\r\n', ' \t \r\n  \r\n', '   ']) {
    assertSplitInvariant(body, '');
    const h = createHash('sha256');
    const c = new RelaxedBodyCanonicalizer((b) => h.update(b));
    c.update(L(body));
    c.end();
    assert.equal(h.digest('base64'), EMPTY_SHA256);
  }
});

test('relaxed body: a body without a final CRLF gets one', () => {
  assertSplitInvariant('abc', 'abc\r\n');
  assertSplitInvariant('abc  \t', 'abc\r\n');
  assertSplitInvariant('a\r\nb c', 'a\r\nb c\r\n');
  assertSplitInvariant('x', 'x\r\n');
});

test('relaxed body: bare LF is a line end, a lone CR is content', () => {
  assertSplitInvariant('a \nb\n\n', 'a\r\nb\r\n');
  assertSplitInvariant('a\rb \r\n', 'a\rb\r\n');
  assertSplitInvariant('a \r b\r\n', 'a \r b\r\n');
  assertSplitInvariant('a\r', 'a\r\r\n');
  assertSplitInvariant('a \r', 'a \r\r\n');
  assertSplitInvariant('\r\r\n', '\r\r\n');
});

test('relaxed body: matches the reference on random bodies in random chunks', () => {
  const rand = rng(6376);
  const alphabet = ['a', 'b', ' ', ' ', '\t', '\r\n', '\r\n', '\n', '\r', 'x y'];
  for (let n = 0; n < 3000; n++) {
    let s = '';
    const len = Math.floor(rand() * 40);
    for (let i = 0; i < len; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
    const chunks: string[] = [];
    for (let i = 0; i < s.length; ) {
      const k = 1 + Math.floor(rand() * 6);
      chunks.push(s.slice(i, i + k));
      i += k;
    }
    assert.equal(canonBody(chunks), referenceBody(s), JSON.stringify(chunks));
  }
});

test('relaxed body: mostly clean text (the native-search path) matches the reference in any chunks', () => {
  // Chunks with nothing to change take a path of their own; mixing in rare specials makes
  // chunks switch between it and the byte loop at every kind of boundary.
  const rand = rng(2026);
  const clean = ['word', 'x', ' ', '\r\n', '\r\n', '.', '-- '];
  const rare = ['  ', '\t', ' \r\n', '\n', '\r', '\r\n\r\n\r\n', ' '];
  for (let n = 0; n < 4000; n++) {
    let s = '';
    const len = Math.floor(rand() * 60);
    for (let i = 0; i < len; i++) s += rand() < 0.08 ? rare[Math.floor(rand() * rare.length)]! : clean[Math.floor(rand() * clean.length)]!;
    const chunks: string[] = [];
    for (let i = 0; i < s.length; ) {
      const k = 1 + Math.floor(rand() * (rand() < 0.5 ? 8 : 80));
      chunks.push(s.slice(i, i + k));
      i += k;
    }
    assert.equal(canonBody(chunks), referenceBody(s), JSON.stringify(chunks));
    assert.equal(canonBody([s]), referenceBody(s), JSON.stringify(s));
  }
});

test('header splitter: matches a whole-message split on random messages in random chunks', () => {
  const rand = rng(5322);
  const alphabet = ['A: 1', 'x', ' ', '\r\n', '\r\n', '\n', '\r', '\r\n\r\n', '\n\n'];
  for (let n = 0; n < 3000; n++) {
    let msg = '';
    const len = Math.floor(rand() * 30);
    for (let i = 0; i < len; i++) msg += alphabet[Math.floor(rand() * alphabet.length)];
    // Reference: the first empty line (a line start followed by LF or CRLF) ends the header.
    const m = /(^|\n)(\r?\n)/.exec(msg);
    const head = m ? msg.slice(0, m.index + m[1]!.length) : msg;
    const body = m ? msg.slice(m.index + m[0].length) : '';
    const sp = new HeaderSplitter();
    let rest = '';
    for (let i = 0; i < msg.length; ) {
      const k = 1 + Math.floor(rand() * 7);
      const r = sp.push(L(msg.slice(i, i + k)));
      if (r) rest += r.toString('latin1');
      i += k;
    }
    assert.equal(sp.finish().toString('latin1'), head, JSON.stringify(msg));
    assert.equal(rest, body, JSON.stringify(msg));
  }
});

// Bodies end in CRLF here, as SMTP bodies do: mailauth keeps an unterminated last line of a single
// SP (".\r\n " becomes ".\r\n \r\n" there, ".\r\n" by RFC 6376 3.4.4, as here).
test('relaxed body: same hash as mailauth on CRLF bodies, including large ones', () => {
  const require = createRequire(import.meta.url);
  const { dkimBody } = require('mailauth/lib/dkim/body') as {
    dkimBody: (canon: string, algo: string, max: false) => { update(b: Buffer): void; digest(enc: 'base64'): string };
  };
  const rand = rng(8463);
  const alphabet = ['word', ' ', '  ', '\t', '\r\n', '\r\n\r\n', ' \r\n', '.'];
  for (let n = 0; n < 300; n++) {
    let s = '';
    const len = Math.floor(rand() * (n < 290 ? 60 : 20000));
    for (let i = 0; i < len; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
    s += '\r\n';
    const theirs = dkimBody('relaxed', 'sha256', false);
    theirs.update(L(s));
    const ours = createHash('sha256');
    const c = new RelaxedBodyCanonicalizer((b) => ours.update(b));
    for (let i = 0; i < s.length; ) {
      const k = 1 + Math.floor(rand() * 5000);
      c.update(L(s.slice(i, i + k)));
      i += k;
    }
    c.end();
    assert.equal(ours.digest('base64'), theirs.digest('base64'), JSON.stringify(s.slice(0, 200)));
  }
});

test('relaxed body: long runs of empty lines and output larger than the internal buffer', () => {
  const many = '\r\n'.repeat(50000);
  assert.equal(canonBody(['a', many, 'b']), 'a' + many + 'b\r\n');
  assert.equal(canonBody(['a', many]), 'a\r\n');
  const big = 'x'.repeat(100000) + ' \t y\r\n';
  assert.equal(canonBody([big.slice(0, 70000), big.slice(70000)]), 'x'.repeat(100000) + ' y\r\n');
  assert.throws(() => {
    const c = new RelaxedBodyCanonicalizer(() => {});
    c.end();
    c.update(L('late'));
  });
});
