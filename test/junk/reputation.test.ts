// Sender reputation: first contact from an authenticated domain is judged more strictly; a sender
// the user wrote to (a message saved in Sent) or kept mail from is trusted; an unauthenticated From
// earns nothing, only the client's network does.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/log/logger.js';
import { recipientKeys, senderKeys } from '../../src/junk/reputation.js';
import { JunkService } from '../../src/junk/service.js';
import { tokenize } from '../../src/junk/tokenizer.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { generateCorpus } from './corpus.js';

let dir: string;
let store: SqliteStore;
let id: number;
let junk: JunkService;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'postern-rep-'));
  store = await SqliteStore.open({ dir, recover: true });
  id = (await store.createAccount('alice', 'alice@example.test')).id;
  junk = new JunkService(store, silentLogger, { threshold: 0.9 });
  await store.junk.markSeeded(id);
  for (const m of generateCorpus(200, 3)) await junk.trainer.trainOne(id, m.raw, m.spam);
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A message as delivery stores it: our Authentication-Results and Received on top. */
function stored(from: string, ip: string, dmarc: 'pass' | 'fail', body = 'Hello, about the meeting tomorrow.'): Buffer {
  return Buffer.from(
    `Authentication-Results: mx.example.test; spf=pass; dkim=pass; dmarc=${dmarc} header.from=${from.split('@')[1]}\r\n` +
    `Received: from mx.sender ([${ip}])\r\n\tby mx.example.test with ESMTP id x; Mon, 1 Jan 2024 00:00:00 +0000\r\n` +
    `From: <${from}>\r\nTo: <alice@example.test>\r\nSubject: hi\r\n\r\n${body}\r\n`);
}

test('sender keys: address and domain only with DMARC pass; the network from our Received field', () => {
  assert.deepEqual(senderKeys(stored('Bob@Pals.example', '192.0.2.77', 'pass')).keys, ['a:bob@pals.example', 'd:pals.example', 'n:192.0.2.0/24']);
  assert.deepEqual(senderKeys(stored('bob@pals.example', '2001:db8:1:2::5', 'fail')).keys, ['n:2001:db8:1::/48']);
  assert.deepEqual(recipientKeys(Buffer.from('From: a@example.test\r\nTo: Bob <bob@pals.example>, team: c@x.example;\r\nCc: d@y.example\r\n\r\n')).sort(),
    ['a:bob@pals.example', 'a:c@x.example', 'a:d@y.example', 'd:pals.example', 'd:x.example', 'd:y.example']);
});

test('first contact is stricter, a sender the user wrote to is trusted, an unauthenticated From is not', async () => {
  const msg = stored('carol@newco.example', '198.51.100.9', 'pass');
  let v = await junk.verdict(id, tokenize(msg), senderKeys(msg));
  assert.equal(v.sender, 'new');
  assert.ok(Math.abs(v.threshold - 0.8) < 1e-9, String(v.threshold));

  // The user writes to carol: a message saved in Sent.
  const sent = (await store.listMailboxes(id)).find((b) => b.specialUse === '\\Sent')!;
  junk.start();
  await store.appendMessages(id, sent.id, [{ blob: await store.stageBlob(Buffer.from('From: alice@example.test\r\nTo: Carol <carol@newco.example>\r\nSubject: re\r\n\r\nSure.\r\n')), flags: [], internalDate: new Date(), cache: null }]);
  const deadline = Date.now() + 5000;
  for (;;) {
    v = await junk.verdict(id, tokenize(msg), senderKeys(msg));
    if (v.sender === 'known' || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  await junk.stop();
  assert.equal(v.sender, 'known');
  assert.ok(v.threshold >= 0.999);

  // The same From without DMARC pass (a forgery) gets no trust from carol's address.
  const forged = stored('carol@newco.example', '203.0.113.5', 'fail');
  const f = await junk.verdict(id, tokenize(forged), senderKeys(forged));
  assert.notEqual(f.sender, 'known');
});

test('mail kept from a sender (trained as ham) makes it known; junked mail does not', async () => {
  const kept = stored('dave@shop2.example', '198.51.100.20', 'pass', 'Your order has shipped, tracking attached.');
  const other = stored('erin@spamco.example', '198.51.100.30', 'pass', 'winner lottery claim prize now');
  await junk.trainer.trainOne(id, kept, false);
  await junk.trainer.trainOne(id, other, true);
  assert.equal((await junk.verdict(id, tokenize(kept), senderKeys(kept))).sender, 'known');
  assert.equal((await junk.verdict(id, tokenize(other), senderKeys(other))).sender, 'seen');
});
