// BODYSTRUCTURE and ENVELOPE parity with Dovecot (Debian 12: 2.3.19) for the MIME fixtures: each
// fixture is appended to a throw-away Dovecot and to Postern, and the raw FETCH answers (bytes, not
// a client's interpretation) are compared after a normalisation that only removes differences the
// RFCs call meaningless. Differences we keep on purpose are listed in KNOWN with the reason.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DOVECOT_BIN, DOVECOT_PASSWORD, DOVECOT_USER, dovecotAvailable, startDovecot, type Dovecot } from '../imap-client/dovecot.js';
import { PASSWORD, startHarness, USER, type Harness } from './harness.js';
import { fetchResponses, plain, RawImap, type RawValue } from './raw-imap.js';

const FIXTURES = join(import.meta.dirname, '../../../test/fixtures/mime');

/**
 * Differences kept on purpose: fixture, path in the normalised value (as printed by `diff`), reason.
 * Everything else must be identical.
 */
const KNOWN: { fixture: string; path: string; reason: string }[] = [
  // Dovecot adds its default charset next to an RFC 2231 `charset*`; we do not, since the message
  // names its charset (iso-8859-1) and a client reading `charset` would take US-ASCII instead.
  { fixture: '06-rfc2231', path: 'bodystructure.1.2.4', reason: 'no default charset beside charset*' },
  { fixture: '06-rfc2231', path: 'bodystructure.1.2.5', reason: 'no default charset beside charset*' },
  // Dovecot reports sizes as if every bare LF were CRLF (its "virtual size": it serves messages with
  // CRLF). Postern serves the stored bytes, and body-fld-octets must equal the length of BODY[1].
  { fixture: '09-bare-lf', path: 'bodystructure.0.6', reason: 'size of the bytes actually served' },
  // Unclosed "<open@example.org": Dovecot gives up (host SYNTAX_ERROR); the address is unambiguous.
  { fixture: '13-groups-and-routes', path: 'envelope.6.2.3', reason: 'recovered address' },
  // "Content-Type: text" (no subtype): RFC 2045 5.2 says an invalid Content-Type means text/plain;
  // Dovecot sends an empty subtype.
  { fixture: '18-broken-types', path: 'bodystructure.0.1', reason: 'RFC 2045 5.2 default' },
  // multipart/alternative without a boundary cannot be split (RFC 2046 5.1.1 requires the parameter):
  // we show it as text/plain (RFC 2045 5.2, syntactically invalid Content-Type) so its text stays
  // reachable as BODY[2]; Dovecot shows an empty multipart with one empty part.
  ...['0', '1', '2', '5', '6', '7', '8', '9', '10', '11'].map((i) => ({
    fixture: '18-broken-types',
    path: `bodystructure.1.${i}`,
    reason: 'multipart without boundary read as text/plain',
  })),
  // message/rfc822 with (illegal, RFC 2046 5.2.1) base64 whose content is one line: Dovecot parses it
  // as a header anyway, and that header consumes the CRLF of the next delimiter (size 26, 1 line);
  // RFC 2046 5.1.1 gives that CRLF to the delimiter (size 24, 0 lines).
  { fixture: '18-broken-types', path: 'bodystructure.3.6', reason: 'delimiter CRLF not part of the body' },
  { fixture: '18-broken-types', path: 'bodystructure.3.9', reason: 'delimiter CRLF not part of the body' },
];

/**
 * Case-insensitive by RFC, so compared in lower case: media type and subtype, parameter names
 * (RFC 2045 5.1), charset values (RFC 2978 2.3), transfer encodings (RFC 2045 6.1) and disposition
 * types (RFC 2183 2). Postern upper-cases them as the RFC 9051 examples do; Dovecot keeps the
 * message's spelling. Parameter values other than charset keep their case (file names matter).
 */
function normaliseBody(v: unknown): unknown {
  if (!Array.isArray(v)) return v;
  const lower = (x: unknown) => (typeof x === 'string' ? x.toLowerCase() : x);
  const params = (p: unknown) =>
    Array.isArray(p) ? p.map((x, i) => (i % 2 === 0 || String(p[i - 1]).toLowerCase() === 'charset' ? lower(x) : x)) : p;
  const disposition = (d: unknown) => (Array.isArray(d) ? [lower(d[0]), params(d[1])] : d);
  if (Array.isArray(v[0])) {
    // multipart: bodies..., subtype, [params, disposition, language, location]
    let i = 0;
    const out: unknown[] = [];
    while (Array.isArray(v[i])) out.push(normaliseBody(v[i++]));
    out.push(lower(v[i++]));
    if (i < v.length) out.push(params(v[i++]));
    if (i < v.length) out.push(disposition(v[i++]));
    while (i < v.length) out.push(v[i++]);
    return out;
  }
  const out: unknown[] = [lower(v[0]), lower(v[1]), params(v[2]), v[3], v[4], lower(v[5]), v[6]];
  let i = 7;
  const type = String(v[0]).toLowerCase();
  const sub = String(v[1]).toLowerCase();
  if (type === 'message' && (sub === 'rfc822' || sub === 'global')) {
    out.push(v[i++], normaliseBody(v[i++]), v[i++]);
  } else if (type === 'text') {
    out.push(v[i++]);
  }
  if (i < v.length) out.push(v[i++]); // md5
  if (i < v.length) out.push(disposition(v[i++]));
  while (i < v.length) out.push(v[i++]);
  return out;
}

/** Paths where two values differ: `bodystructure.0.6: postern 12, dovecot 13`. */
function diff(a: unknown, b: unknown, path: string): string[] {
  if (Array.isArray(a) && Array.isArray(b)) {
    const out: string[] = [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) out.push(...diff(a[i], b[i], `${path}.${i}`));
    return out;
  }
  return Object.is(a, b) ? [] : [`${path}: postern ${JSON.stringify(a)}, dovecot ${JSON.stringify(b)}`];
}

async function fetchAll(c: RawImap, files: string[]): Promise<Map<number, Map<string, RawValue>>> {
  await c.ok('CREATE Parity');
  for (const f of files) await c.append('Parity', readFileSync(join(FIXTURES, f)));
  await c.ok('SELECT Parity');
  return fetchResponses(await c.ok('FETCH 1:* (BODYSTRUCTURE ENVELOPE)'));
}

describe('BODYSTRUCTURE and ENVELOPE parity with Dovecot', () => {
  let h: Harness;
  let d: Dovecot;
  before(async () => {
    // A missing Dovecot fails the test (never a silent skip).
    assert.ok(dovecotAvailable(), `${DOVECOT_BIN} not found: install the Debian package dovecot-imapd`);
    h = await startHarness();
    d = await startDovecot();
  });
  after(async () => {
    await d?.stop();
    await h?.close();
  });

  test('raw answers agree for every fixture, apart from the listed differences', async () => {
    // An empty message cannot be appended (RFC 9051 6.3.12 needs a message): skip 15-empty.
    const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.eml') && statSync(join(FIXTURES, f)).size > 0).sort();
    assert.ok(files.length >= 15);
    const p = await RawImap.login(h.tlsPort, USER, PASSWORD);
    const v = await RawImap.login(d.imapsPort, DOVECOT_USER, DOVECOT_PASSWORD);
    const ours = await fetchAll(p, files);
    const theirs = await fetchAll(v, files);
    p.close();
    v.close();
    const unexpected: string[] = [];
    const seen = new Set<string>();
    files.forEach((f, i) => {
      const a = ours.get(i + 1);
      const b = theirs.get(i + 1);
      assert.ok(a && b, `${f}: no FETCH response`);
      const name = f.replace(/\.eml$/, '');
      for (const item of ['BODYSTRUCTURE', 'ENVELOPE']) {
        const norm = item === 'BODYSTRUCTURE' ? normaliseBody : (x: unknown) => x;
        if (process.env.PARITY_DUMP) {
          console.log(`${name} ${item}\n  postern ${JSON.stringify(plain(a.get(item)!))}\n  dovecot ${JSON.stringify(plain(b.get(item)!))}`);
        }
        for (const line of diff(norm(plain(a.get(item)!)), norm(plain(b.get(item)!)), item.toLowerCase())) {
          const known = KNOWN.find((k) => k.fixture === name && line.startsWith(`${k.path}:`));
          if (known) seen.add(`${known.fixture} ${known.path}`);
          else unexpected.push(`${name}: ${line}`);
        }
      }
    });
    assert.deepEqual(unexpected, [], 'differences from Dovecot');
    // Every listed difference still exists (else it should be removed from KNOWN).
    assert.deepEqual(KNOWN.map((k) => `${k.fixture} ${k.path}`).filter((k) => !seen.has(k)), []);
  });
});
