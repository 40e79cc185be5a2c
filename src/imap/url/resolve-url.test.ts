// resolveImapUrl against a real store: the bytes a URL names (whole, partial, sections, as stored),
// and BADURL for every miss (mailbox, UIDVALIDITY, UID, section, another account's mailbox).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SqliteStore } from '../../store/sqlite/sqlite-store.js';
import { isImapUrlError, parseImapUrl, type ImapUrl } from './imap-url.js';
import { readResolvedUrl, resolveImapUrl, URL_READ_CHUNK, UrlSourceCache } from './resolve-url.js';
import type { Store } from '../../store/types.js';

const MSG = Buffer.from(
  'From: a@example.test\r\nSubject: parts\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n' +
    '--b\r\nContent-Type: text/plain\r\n\r\nfirst part\r\n' +
    '--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\nnul\x00here\r\n' +
    '--b--\r\n',
  'latin1',
);

function url(text: string): ImapUrl {
  const u = parseImapUrl(text);
  if (isImapUrlError(u)) assert.fail(u.reason);
  return u;
}

test('resolveImapUrl gives the named bytes and BADURL for every miss', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'postern-resolve-url-'));
  const s = await SqliteStore.open({ dir, recover: true });
  try {
    const alice = await s.createAccount('alice', 'alice@example.test');
    const bob = await s.createAccount('bob', 'bob@example.test');
    const drafts = await s.createMailbox(alice.id, 'Drafts/Entwürfe');
    const big = Buffer.alloc(URL_READ_CHUNK * 2 + 100, 'x');
    big.write('Subject: big\r\n\r\n');
    const r = await s.appendMessages(alice.id, drafts.id, [
      { blob: await s.stageBlob(MSG), flags: [], internalDate: new Date(), cache: null },
      { blob: await s.stageBlob(big), flags: [], internalDate: new Date(), cache: null },
    ]);
    const [uid, bigUid] = r.uids as [number, number];
    const base = `/Drafts/Entw%C3%BCrfe;UIDVALIDITY=${r.uidValidity}/;UID=${uid}`;
    const get = async (text: string, account = alice.id): Promise<string> => {
      const res = await resolveImapUrl(s, account, url(text));
      if (isImapUrlError(res)) return `BADURL ${res.reason}`;
      const data = await readResolvedUrl(res);
      assert.equal(data.length, res.size);
      return data.toString('latin1');
    };
    assert.equal(await get(base), MSG.toString('latin1'));
    assert.equal(await get(`${base}/;PARTIAL=6.14`), 'a@example.test');
    assert.equal(await get(`${base}/;PARTIAL=${MSG.length + 5}`), '');
    assert.equal(await get(`${base}/;SECTION=1`), 'first part');
    assert.equal(await get(`${base}/;SECTION=2`), 'nul\x00here');
    assert.equal(await get(`${base}/;SECTION=2.MIME`), 'Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n');
    assert.equal(await get(`${base}/;SECTION=HEADER.FIELDS%20(SUBJECT)`), 'Subject: parts\r\n\r\n');
    assert.equal(await get(`${base}/;SECTION=1/;PARTIAL=6.4`), 'part');
    // A message bigger than one read is streamed in pieces, partial ranges across them too.
    const whole = await resolveImapUrl(s, alice.id, url(`/Drafts/Entw%C3%BCrfe/;UID=${bigUid}`));
    assert.ok(!isImapUrlError(whole));
    let pieces = 0;
    for await (const c of whole.chunks()) assert.ok(c.length <= URL_READ_CHUNK, String(++pieces));
    assert.equal((await readResolvedUrl(whole)).equals(big), true);
    assert.equal(await get(`/Drafts/Entw%C3%BCrfe/;UID=${bigUid}/;PARTIAL=${URL_READ_CHUNK - 2}.4`), 'xxxx');

    assert.equal(await get(`/Drafts/Entw%C3%BCrfe;UIDVALIDITY=${r.uidValidity + 1}/;UID=${uid}`), 'BADURL UIDVALIDITY mismatch');
    assert.equal(await get(`/Drafts/Entw%C3%BCrfe/;UID=${bigUid + 1}`), 'BADURL no such message');
    assert.equal(await get(`/Nonexistent/;UID=${uid}`), 'BADURL no such mailbox');
    assert.equal(await get(`${base}/;SECTION=3`), 'BADURL no such section');
    assert.equal(await get(`${base}/;SECTION=1.2`), 'BADURL no such section');
    // Section URLs of one message with a source cache: the content is read once, the answers alike.
    let reads = 0;
    const counting = new Proxy(s, {
      get(target, prop, recv) {
        if (prop === 'readBlob') reads++;
        const v = Reflect.get(target, prop, recv) as unknown;
        return typeof v === 'function' ? v.bind(target) : v;
      },
    }) as Store;
    const sources = new UrlSourceCache();
    for (const sec of ['HEADER', '1', '2.MIME', '2']) {
      const res = await resolveImapUrl(counting, alice.id, url(`${base}/;SECTION=${sec}`), sources);
      assert.ok(!isImapUrlError(res));
      assert.equal((await readResolvedUrl(res)).toString('latin1'), await get(`${base}/;SECTION=${sec}`));
    }
    assert.equal(reads, 1);

    // Accounts are isolated: bob's session resolving alice's mailbox name finds nothing.
    assert.equal(await get(base, bob.id), 'BADURL no such mailbox');
    await s.createMailbox(bob.id, 'Drafts/Entwürfe');
    assert.match(await get(base, bob.id), /^BADURL (UIDVALIDITY mismatch|no such message)$/);
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
