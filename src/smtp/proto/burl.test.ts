import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ehloReply, parseEhloReply } from './capabilities.js';
import { parseCommand } from './command.js';
import { SmtpError } from './smtp-error.js';

const URL = 'imap://harry@gray.example.com/outbox;uidvalidity=1078863300/;uid=25;urlauth=submit+harry:internal:91354a473744909de610943775f92038';

test('BURL (RFC 4468 3): absolute URI and optional LAST; bad syntax is 501 5.5.4 and not fatal', () => {
  assert.deepEqual(parseCommand(`BURL ${URL} LAST`), { verb: 'BURL', url: URL, last: true });
  assert.deepEqual(parseCommand(`burl ${URL}`), { verb: 'BURL', url: URL, last: false });
  assert.deepEqual(parseCommand(`BURL ${URL} last`), { verb: 'BURL', url: URL, last: true });
  for (const line of ['BURL', 'BURL ', `BURL ${URL} LAST extra`, `BURL ${URL} NOTLAST`, 'BURL not-a-uri', 'BURL :x']) {
    try {
      parseCommand(line);
      assert.fail(`accepted: ${line}`);
    } catch (e) {
      assert.ok(e instanceof SmtpError, String(e));
      assert.equal(e.reply.code, 501, line);
      assert.equal(e.reply.enhanced, '5.5.4', line);
      assert.equal(e.fatal, false, line);
    }
  }
});

test('EHLO: BURL with its URL types, bare BURL, or none', () => {
  const r = ehloReply('mail.example', '', { chunking: true, burl: ['imap', 'imap://mail.example'] });
  assert.ok(r.lines.includes('BURL imap imap://mail.example'));
  assert.deepEqual(parseEhloReply(r).keywords.get('BURL'), ['imap', 'imap://mail.example']);
  assert.ok(ehloReply('m', '', { burl: [] }).lines.includes('BURL'));
  assert.ok(!ehloReply('m', '', { chunking: true }).lines.some((l) => l.startsWith('BURL')));
});
