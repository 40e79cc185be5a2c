// Capabilities hidden per account (`postern account capabilities`): gone from that account's
// CAPABILITY response code after LOGIN/AUTHENTICATE and from later CAPABILITY commands, still shown
// before login and to other accounts; a hidden ENABLE-able extension is not enabled.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deriveCredentials } from '../../src/auth/password.js';
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
      // Exact names only: SORT=DISPLAY and the rest stay.
      for (const cap of ['IMAP4rev2', 'SORT=DISPLAY', 'ESORT', 'ESEARCH', 'ENABLE']) assert.ok(list.includes(cap), `${cap} kept`);
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

  it('hiding only CONDSTORE keeps QRESYNC (which implies it) from being enabled', async () => {
    await h.store.setHiddenCapabilities('mjl', ['CONDSTORE']);
    const c = await h.client({ login: false });
    await c.ok(`LOGIN ${USER} ${PASSWORD}`);
    assert.deepEqual((await c.ok('ENABLE QRESYNC')).untagged, ['* ENABLED']);
    c.destroy();
  });
});
