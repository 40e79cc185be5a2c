// RFC 5092 IMAP URL parsing: the absolute, URLAUTH and relative forms CATENATE, URLAUTH and BURL
// use, and malformed URLs, each refused with a BADURL value (never an exception).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatImapUrl, isImapUrlError, parseImapUrl, rumpUrl, type ImapUrl } from './imap-url.js';

function ok(text: string, opts?: Parameters<typeof parseImapUrl>[1]): ImapUrl {
  const u = parseImapUrl(text, opts);
  if (isImapUrlError(u)) assert.fail(`${text}: ${u.reason}`);
  return u;
}

const TOKEN = '91354a473744909de610943775f92038';

describe('IMAP URL parsing (RFC 5092)', () => {
  it('parses an absolute URL with every part', () => {
    const u = ok(`imap://fred%20x;AUTH=*@Mail.Example.COM:1143/Drafts%2FSub;UIDVALIDITY=385759045/;UID=20/;SECTION=1.2.mime/;PARTIAL=10.20;EXPIRE=2026-12-31T23:59:59Z;URLAUTH=submit+fred:INTERNAL:${TOKEN}`);
    assert.deepEqual(u, {
      mailbox: 'Drafts/Sub',
      uid: 20,
      user: 'fred x',
      authMech: '*',
      host: 'mail.example.com',
      port: 1143,
      uidValidity: 385759045,
      section: '1.2.MIME',
      partial: { offset: 10, length: 20 },
      expire: new Date('2026-12-31T23:59:59Z'),
      access: 'submit+fred',
      urlauth: { mechanism: 'INTERNAL', token: TOKEN },
    });
  });

  it('decodes percent-encoded UTF-8 mailbox names and keeps "/" as hierarchy', () => {
    assert.equal(ok('/Entw%C3%BCrfe/2024;UIDVALIDITY=1/;UID=3').mailbox, 'Entwürfe/2024');
    assert.equal(ok('/INBOX/;UID=3').mailbox, 'INBOX');
    assert.equal(ok('imap://h/a/b/;UID=3').mailbox, 'a/b');
  });

  it('takes the RFC 4469 relative forms', () => {
    const u = ok('/Drafts;UIDVALIDITY=385759045/;UID=20/;section=HEADER');
    assert.deepEqual(u, { mailbox: 'Drafts', uidValidity: 385759045, uid: 20, section: 'HEADER' });
    const r = ok(';UID=20/;SECTION=1', { relativeTo: { mailbox: 'INBOX', uidValidity: 7 } });
    assert.deepEqual(r, { mailbox: 'INBOX', uidValidity: 7, uid: 20, section: '1' });
    assert.deepEqual(ok(';uid=5', { relativeTo: { mailbox: '' } }), { mailbox: '', uid: 5 });
  });

  it('canonicalises sections, HEADER.FIELDS included', () => {
    assert.equal(ok('/a/;UID=1/;SECTION=header.fields%20(to%20From)').section, 'HEADER.FIELDS (TO FROM)');
    assert.equal(ok('/a/;UID=1/;SECTION=2.text').section, '2.TEXT');
  });

  it('a rump URL (URLAUTH without verifier) keeps its access', () => {
    const u = ok('imap://joe@example.com/INBOX/;UID=1;URLAUTH=user+joe%40x');
    assert.equal(u.access, 'user+joe@x');
    assert.equal(u.urlauth, undefined);
    assert.equal(ok('imap://h/INBOX/;UID=1;URLAUTH=anonymous').access, 'anonymous');
    assert.equal(ok('imap://h/INBOX/;UID=1;URLAUTH=AuthUser').access, 'authuser');
  });

  it('rumpUrl strips ":mech:token" and only that', () => {
    const rump = 'imap://joe@example.com/INBOX/;uid=20/;section=1.2;urlauth=submit+fred';
    assert.equal(rumpUrl(`${rump}:internal:${TOKEN}`), rump);
    assert.equal(rumpUrl(rump), null);
    assert.equal(rumpUrl('imap://joe@example.com/INBOX/;uid=20'), null);
    assert.equal(rumpUrl('garbage'), null);
    // enc-user may hold ":" (achar); mechanism and token are the last two fields.
    assert.equal(rumpUrl(`imap://h/INBOX/;UID=1;URLAUTH=submit+a:b:INTERNAL:${TOKEN}`), 'imap://h/INBOX/;UID=1;URLAUTH=submit+a:b');
    assert.equal(ok(`imap://h/INBOX/;UID=1;URLAUTH=submit+a:b:INTERNAL:${TOKEN}`).access, 'submit+a:b');
  });

  it('formatImapUrl round-trips', () => {
    for (const t of [
      `imap://fred;AUTH=*@mail.example.com:1143/Drafts;UIDVALIDITY=385759045/;UID=20/;SECTION=1.2.MIME/;PARTIAL=10.20;EXPIRE=2026-12-31T23:59:59.000Z;URLAUTH=submit+fred:INTERNAL:${TOKEN}`,
      '/Entw%C3%BCrfe;UIDVALIDITY=1/;UID=3/;SECTION=HEADER.FIELDS%20(TO)',
      '/a%20b/;UID=3/;PARTIAL=0',
      // Found by the imap-url fuzz target: a quoted field name, a pct-encoded host, a mailbox level
      // that is empty or starts with "/", ":" in the access user.
      '/a/;UID=1/;SECTION=HEADER.FIELDS%20(%22a%20b%22%20To)',
      'imap://mail%C3%BC.example/INBOX/;UID=1',
      '/%2FSub/;UID=1',
      '/a%2F%2Fb%2F/;UID=1',
      `imap://h/INBOX/;UID=1;URLAUTH=submit+fred:INTERNAL:91354a47374490%610943775f92038`,
    ]) {
      const u = ok(t);
      assert.deepEqual(ok(formatImapUrl(u)), u, t);
    }
    assert.equal(formatImapUrl({ mailbox: 'Entwürfe', uid: 3, uidValidity: 1 }), '/Entw%C3%BCrfe;UIDVALIDITY=1/;UID=3');
    assert.equal(formatImapUrl({ mailbox: '', uid: 3, section: '1' }), ';UID=3/;SECTION=1');
  });

  it('refuses malformed URLs with BADURL', () => {
    const bad: Array<[string, RegExp]> = [
      ['', /empty/],
      ['imap://host', /no message/],
      ['imap://host/INBOX', /no message/],
      ['imap://host/INBOX;UIDVALIDITY=5', /no message/],
      ['imap://host/INBOX/;UID=0', /bad UID/],
      ['imap://host/INBOX/;UID=4294967296', /bad UID/],
      ['imap://host/INBOX/;UID=12abc', /bad UID/],
      ['imap://host/INBOX/;UID=-1', /bad UID/],
      ['imap://host/INBOX;UID=1', /expected "\/" before ;UID=/],
      ['imap://host/INBOX/;UID=1;UIDVALIDITY=1', /out of place/],
      ['imap://host/INBOX/;UID=1;SECTION=1', /expected "\/" before ;SECTION=/],
      ['imap://host/INBOX/;UID=1/;SECTION=1/', /bad SECTION/],
      ['imap://host/INBOX/;UID=1/', /bad UID/],
      ['imap://host/INBOX/;UID=1/;SECTION=', /empty section/],
      ['imap://host/INBOX/;UID=1/;SECTION=1.FOO', /bad SECTION/],
      ['imap://host/INBOX/;UID=1/;SECTION=0', /bad SECTION/],
      ['imap://host/INBOX/;UID=1/;SECTION=1%5D', /bad SECTION/],
      ['imap://host/INBOX/;UID=1/;PARTIAL=5.0', /PARTIAL length/],
      ['imap://host/INBOX/;UID=1/;PARTIAL=x', /PARTIAL offset/],
      ['imap://host/INBOX/;UID=1/;SECTION=1/;UID=2', /out of place/],
      ['imap://host/INBOX/;UID=1/;FOO=2', /unknown parameter/],
      ['imap://host/INBOX/;UID=1;EXPIRE=2026-01-01T00:00:00Z', /EXPIRE= without ;URLAUTH=/],
      ['imap://host/INBOX/;UID=1;EXPIRE=yesterday;URLAUTH=anonymous', /EXPIRE/],
      ['imap://host/INBOX/;UID=1;URLAUTH=everyone', /unknown URLAUTH access/],
      ['imap://host/INBOX/;UID=1;URLAUTH=anonymous:INTERNAL:abcd', /shorter than 32/],
      ['imap://host/INB%XYOX/;UID=1', /percent-encoding/],
      ['imap://host/INB%FFOX/;UID=1', /not UTF-8/],
      ['imap://host/INB%00OX/;UID=1', /control character/],
      ['imap://host/IN BOX/;UID=1', /percent-encoded/],
      ['imap://host/INBOX?/;UID=1', /not allowed/],
      ['imap://host/Entwürfe/;UID=1', /percent-encoded/],
      ['imap://host/INBOX/;UID=1#frag', /fragment/],
      ['imap://host:99999/INBOX/;UID=1', /bad port/],
      ['imap://host:0/INBOX/;UID=1', /bad port/],
      ['imap://fred;AUTH@host/INBOX/;UID=1', /AUTH=/],
      ['imap://@host/INBOX/;UID=1', /empty user/],
      ['imap://ho/st/INBOX', /no message/],
      ['imap:///INBOX/;UID=1', /bad host/],
      ['imap://host//;UID=1', /empty mailbox/],
      ['http://host/INBOX/;UID=1', /not an imap/],
      ['//host/INBOX/;UID=1', /network-path/],
      ['/;UID=1', /empty mailbox/],
      ['INBOX/;UID=1', /unsupported relative/],
      [';UID=1', /without a selected mailbox/],
      [';SECTION=1', /unsupported relative/],
      ['/INBOX/;UID=1' + 'x'.repeat(9000), /too long/],
    ];
    for (const [text, why] of bad) {
      const u = parseImapUrl(text, text === ';UID=1' ? {} : undefined);
      assert.ok(isImapUrlError(u), `${JSON.stringify(text)} was accepted`);
      assert.equal(u.code, 'BADURL');
      assert.match(u.reason, why, JSON.stringify(text));
    }
  });

  it('never throws, whatever the input', () => {
    const alphabet = ['imap://', '/', ';', 'UID=', '1', 'SECTION=', '%', '%C3', '.', ':', '@', 'AUTH=', 'URLAUTH=', 'a', '=', 'PARTIAL=', '('];
    let seed = 7;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    for (let i = 0; i < 5000; i++) {
      let s = '';
      for (let k = rnd(12); k >= 0; k--) s += alphabet[rnd(alphabet.length)];
      const u = parseImapUrl(s, { relativeTo: { mailbox: 'INBOX' } });
      if (!isImapUrlError(u)) assert.ok(u.uid > 0, s);
    }
    assert.equal(isImapUrlError(null), false);
    assert.equal(isImapUrlError({ code: 'BADURL' }), false);
  });
});
