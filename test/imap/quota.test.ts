// Storage quota over IMAP (RFC 9208): QUOTA reports the account's real limit and usage; APPEND
// and COPY over it fail with NO [OVERQUOTA]; expunge gives room back; concurrent APPENDs from
// several connections cannot overshoot it (the quota race test).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { message, startHarness, type Client, type Harness } from './harness.js';

/** A message of exactly `size` bytes. */
function sized(subject: string, size: number): Buffer {
  const head = message(subject, '');
  assert.ok(head.length < size);
  return Buffer.from(head + 'x'.repeat(size - head.length));
}

async function storage(c: Client): Promise<string> {
  const r = await c.ok('GETQUOTAROOT INBOX');
  assert.deepEqual(r.untagged[0], '* QUOTAROOT INBOX ""');
  const g = await c.ok('GETQUOTA ""');
  assert.deepEqual(g.untagged, [r.untagged[1]]);
  return r.untagged[1]!;
}

describe('imap quota (RFC 9208)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  it('QUOTA reports the limit and usage; APPEND and COPY over it get NO [OVERQUOTA]; expunge gives room back', async () => {
    await h.store.setQuota('mjl', 10 * 1024);
    const c = await h.client();
    assert.equal(await storage(c), '* QUOTA "" (STORAGE 0 10)');

    assert.equal((await c.append('INBOX', sized('one', 3000))).status, 'OK');
    assert.equal((await c.append('INBOX', sized('two', 3000))).status, 'OK');
    // RFC 9208 5.1: units of 1024 octets; 6000 bytes used are reported as 6.
    assert.equal(await storage(c), '* QUOTA "" (STORAGE 6 10)');

    // Refused before the continuation: the client never sends the data.
    const r = await c.append('INBOX', sized('three', 5000));
    assert.equal(r.status, 'NO');
    assert.match(r.text, /^\[OVERQUOTA\] /);
    await c.ok('NOOP');

    await c.ok('SELECT INBOX');
    // Both messages (6000 more bytes) do not fit; nothing is copied. One does.
    await c.no('COPY 1:2 Archive', 'OVERQUOTA');
    assert.match((await c.ok('STATUS Archive (MESSAGES)')).untagged[0]!, /\(MESSAGES 0\)/);
    await c.ok('COPY 1 Archive');
    assert.equal(await storage(c), '* QUOTA "" (STORAGE 9 10)');
    // A move within the account takes no room: allowed even when full.
    await c.ok('MOVE 2 Trash');
    assert.equal(await storage(c), '* QUOTA "" (STORAGE 9 10)');

    // Expunging gives the room back, at once.
    await c.ok('STORE 1 +FLAGS (\\Deleted)');
    await c.ok('EXPUNGE');
    assert.equal(await storage(c), '* QUOTA "" (STORAGE 6 10)');
    assert.equal((await c.append('INBOX', sized('four', 3000))).status, 'OK');
    // Deleting a mailbox gives its messages' room back.
    await c.ok('DELETE Trash');
    assert.equal(await storage(c), '* QUOTA "" (STORAGE 6 10)');

    // MULTIAPPEND counts every message of the command: the second does not fit with the first.
    const tag = c.nextTag();
    c.write(`${tag} APPEND INBOX {3000}\r\n`);
    assert.match(await c.readLine(), /^\+ /);
    c.write(sized('five', 3000));
    c.write(' {3000}\r\n');
    // The server may acknowledge the first message's data with an untagged OK (cmd-append.ts).
    let line = await c.readLine();
    while (line.startsWith('* OK ')) line = await c.readLine();
    assert.match(line, new RegExp(`^${tag} NO \\[OVERQUOTA\\] `));
    await c.ok('NOOP');
    assert.equal(await storage(c), '* QUOTA "" (STORAGE 6 10)');

    // SETQUOTA stays an administrator's job (RFC 9208 4.1.3).
    await c.no('SETQUOTA "" (STORAGE 100000)', 'NOPERM');
    await h.store.setQuota('mjl', null);
  });

  it('concurrent APPENDs from several connections cannot overshoot the quota (the quota race test)', async () => {
    const size = 4000;
    const clients: Client[] = [];
    for (let i = 0; i < 12; i++) clients.push(await h.client());
    const before = (await h.store.getQuota(h.accountId)).used;
    // Room for exactly five more, and half of a sixth.
    await h.store.setQuota('mjl', before + 5 * size + size / 2);
    // Every connection passes the check before its continuation (usage is unchanged then), and
    // then all send their data at once: only the commit can tell who still fits.
    const tags = clients.map((c) => {
      const tag = c.nextTag();
      c.write(`${tag} APPEND Archive {${size}}\r\n`);
      return tag;
    });
    for (const c of clients) assert.match(await c.readLine(), /^\+ /);
    for (const [i, c] of clients.entries()) c.write(Buffer.concat([sized(`race ${i}`, size), Buffer.from('\r\n')]));
    const replies = await Promise.all(clients.map((c, i) => c.reply(tags[i]!)));
    const ok = replies.filter((r) => r.status === 'OK').length;
    assert.equal(ok, 5, replies.map((r) => `${r.status} ${r.text}`).join('\n'));
    for (const r of replies.filter((x) => x.status !== 'OK')) assert.match(r.text, /^\[OVERQUOTA\] /);
    const q = await h.store.getQuota(h.accountId);
    assert.equal(q.used, before + 5 * size);
    const mb = (await h.store.getMailbox(h.accountId, 'Archive'))!;
    assert.equal((await h.store.mailboxCounts(mb.id)).messages - 1, 5);
    await h.store.setQuota('mjl', null);
  });
});
