// Capabilities hidden per account (`postern account capabilities`): gone from that account's
// CAPABILITY response code after LOGIN/AUTHENTICATE and from later CAPABILITY commands, still shown
// before login and to other accounts; a hidden ENABLE-able extension is not enabled.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deriveCredentials } from '../../src/auth/password.js';
import { capabilities, REQUIRES, withDependents } from '../../src/imap/server/capabilities.js';
import { PASSWORD, startHarness, USER, type Client, type Harness } from './harness.js';

const OTHER = 'other@example.org';

const capsOf = (line: string): string[] => {
  const m = /CAPABILITY ([^\]]*)/.exec(line);
  assert.ok(m, line);
  return m[1]!.split(' ');
};

describe('capabilities hidden per account', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    const other = await h.store.createAccount('other', OTHER);
    await h.store.setCredentials(other.id, (await deriveCredentials(PASSWORD)) as never);
    await h.store.setHiddenCapabilities('mjl', ['within', 'SORT', 'CONDSTORE', 'QRESYNC']);
  });
  after(async () => {
    await h?.close();
  });

  const capability = async (c: Client): Promise<string[]> => {
    const r = await c.ok('CAPABILITY');
    return capsOf(r.untagged.find((l) => l.startsWith('* CAPABILITY '))!);
  };

  it('hidden after LOGIN for that account only, shown before login', async () => {
    const c = await h.client({ login: false });
    const pre = await capability(c);
    for (const cap of ['WITHIN', 'SORT', 'CONDSTORE']) assert.ok(pre.includes(cap), `${cap} before login`);
    const r = await c.ok(`LOGIN ${USER} ${PASSWORD}`);
    const code = capsOf(r.text);
    const after = await capability(c);
    for (const list of [code, after]) {
      for (const cap of ['WITHIN', 'SORT', 'CONDSTORE', 'QRESYNC']) assert.ok(!list.includes(cap), `${cap} hidden: ${list.join(' ')}`);
      // What needs SORT goes with it (capabilities.ts REQUIRES); the rest stays.
      for (const cap of ['SORT=DISPLAY', 'ESORT']) assert.ok(!list.includes(cap), `${cap} hidden with SORT: ${list.join(' ')}`);
      for (const cap of ['IMAP4rev2', 'ESEARCH', 'ENABLE', 'THREAD=REFERENCES']) assert.ok(list.includes(cap), `${cap} kept`);
    }
    c.destroy();

    const o = await h.client({ login: false });
    const ro = await o.ok(`LOGIN ${OTHER} ${PASSWORD}`);
    for (const list of [capsOf(ro.text), await capability(o)]) {
      for (const cap of ['WITHIN', 'SORT', 'CONDSTORE', 'QRESYNC']) assert.ok(list.includes(cap), `${cap} for the other account`);
    }
    o.destroy();
  });

  it('hidden after AUTHENTICATE PLAIN too', async () => {
    const c = await h.client({ login: false });
    const ir = Buffer.from(`\0${USER}\0${PASSWORD}`).toString('base64');
    const r = await c.ok(`AUTHENTICATE PLAIN ${ir}`);
    assert.ok(!capsOf(r.text).includes('SORT'), r.text);
    assert.ok(capsOf(r.text).includes('IMAP4rev2'), r.text);
    c.destroy();
  });

  it('ENABLE of a hidden extension enables nothing; others still enable', async () => {
    const c = await h.client({ login: false });
    await c.ok(`LOGIN ${USER} ${PASSWORD}`);
    const r = await c.ok('ENABLE CONDSTORE QRESYNC UTF8=ACCEPT');
    assert.deepEqual(r.untagged, ['* ENABLED UTF8=ACCEPT']);
    await c.ok('SELECT INBOX');
    // No CONDSTORE: no HIGHESTMODSEQ response code announced as enabled, FETCH carries no MODSEQ.
    await c.append('INBOX', 'Subject: x\r\n\r\nx\r\n');
    const f = await c.ok('FETCH 1 (FLAGS)');
    assert.ok(f.untagged.every((l) => !l.includes('MODSEQ')), JSON.stringify(f.untagged));
    c.destroy();

    // The same ENABLE for the other account enables them.
    const o = await h.client({ login: false });
    await o.ok(`LOGIN ${OTHER} ${PASSWORD}`);
    const ro = await o.ok('ENABLE CONDSTORE');
    assert.deepEqual(ro.untagged, ['* ENABLED CONDSTORE']);
    o.destroy();
  });

  it('hiding only CONDSTORE hides QRESYNC (which needs it) and keeps it from being enabled', async () => {
    await h.store.setHiddenCapabilities('mjl', ['CONDSTORE']);
    const c = await h.client({ login: false });
    const list = capsOf((await c.ok(`LOGIN ${USER} ${PASSWORD}`)).text);
    assert.ok(!list.includes('QRESYNC') && !list.includes('CONDSTORE'), list.join(' '));
    assert.ok(list.includes('ENABLE') && list.includes('IMAP4rev2'), list.join(' '));
    assert.deepEqual((await c.ok('ENABLE QRESYNC')).untagged, ['* ENABLED']);
    c.destroy();
  });

  it('hiding ESEARCH hides IMAP4rev2 (whose SEARCH answers are ESEARCH) and what builds on ESEARCH', async () => {
    await h.store.setHiddenCapabilities('mjl', ['esearch']);
    const c = await h.client({ login: false });
    const list = capsOf((await c.ok(`LOGIN ${USER} ${PASSWORD}`)).text);
    for (const cap of ['ESEARCH', 'IMAP4rev2', 'ESORT', 'SEARCHRES', 'MULTISEARCH']) assert.ok(!list.includes(cap), `${cap}: ${list.join(' ')}`);
    for (const cap of ['IMAP4rev1', 'SORT', 'SORT=DISPLAY', 'CONDSTORE', 'QRESYNC']) assert.ok(list.includes(cap), `${cap}: ${list.join(' ')}`);
    // Not enabled either: the session stays IMAP4rev1, SEARCH answers are `* SEARCH`.
    assert.deepEqual((await c.ok('ENABLE IMAP4rev2')).untagged, ['* ENABLED']);
    await c.ok('SELECT INBOX');
    assert.match((await c.ok('SEARCH ALL')).untagged[0]!, /^\* SEARCH( \d+)*$/);
    c.destroy();
  });
});

describe('capability dependencies (capabilities.ts)', () => {
  it('every dependency is a capability the server can advertise, and hiding follows chains', () => {
    const all = new Set(capabilities({ authenticated: true, tls: true, authAllowed: true, starttlsAvailable: false, appendLimit: 1, mechanisms: [] }).map((c) => c.toUpperCase()));
    // CONTEXT=SEARCH/SORT are in the table before they are advertised.
    const known = new Set([...all, 'CONTEXT=SEARCH', 'CONTEXT=SORT']);
    for (const [cap, needs] of Object.entries(REQUIRES)) {
      assert.ok(known.has(cap), cap);
      for (const n of needs) assert.ok(known.has(n), `${cap} needs ${n}`);
    }
    assert.deepEqual([...withDependents(['sort'])].sort(), ['CONTEXT=SORT', 'ESORT', 'SORT', 'SORT=DISPLAY']);
    assert.deepEqual([...withDependents(['Condstore'])].sort(), ['CONDSTORE', 'QRESYNC']);
    assert.deepEqual([...withDependents(['METADATA-SERVER'])].sort(), ['LIST-METADATA', 'METADATA', 'METADATA-SERVER']);
    assert.ok(withDependents(['ENABLE']).has('IMAP4REV2'));
    assert.deepEqual([...withDependents(['WITHIN'])], ['WITHIN']);
  });
});
