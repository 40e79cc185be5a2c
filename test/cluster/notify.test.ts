// NOTIFY (RFC 5465) with `postern serve --workers 2`: a session on one worker is told of mailbox,
// subscription, message and METADATA changes made through the other worker (the change feed
// carries them over the cluster bus).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ImapClient } from '../../src/imap/client/index.js';
import type { Client } from '../imap/harness.js';
import { ADDRESS, PASSWORD, clusterDir, loginOnWorker, removeDir, startCluster, type ClusterChild } from './cluster-child.js';

let dir: string;
let c: ClusterChild;

before(async () => {
  dir = clusterDir(['imaps']);
  c = await startCluster(dir, 2, ['imaps']);
});

after(async () => {
  await c?.kill('SIGTERM');
  removeDir(dir);
});

async function until(client: Client, re: RegExp): Promise<string> {
  for (;;) {
    const line = await client.readLine(5000);
    if (re.test(line)) return line;
  }
}

test('a NOTIFY session on one worker sees LIST, STATUS and METADATA for changes made on the other', async () => {
  const watcher = await loginOnWorker(c);
  // Writers until one lands on the other worker (connections are spread over the workers).
  let writer: ImapClient | null = null;
  for (let i = 0; i < 8 && !writer; i++) {
    const before = c.logins().length;
    const w = await ImapClient.connect({ host: '127.0.0.1', port: c.ports.imaps!, tls: 'implicit', insecure: true, auth: { username: ADDRESS, password: PASSWORD } });
    await c.waitFor('the login line', () => c.logins().length > before);
    if (c.logins()[before] !== watcher.worker) writer = w;
    else await w.logout();
  }
  assert.ok(writer, 'no session reached the other worker');
  const a = watcher.client;
  await a.ok('NOTIFY SET (personal (MessageNew MessageExpunge MailboxName SubscriptionChange MailboxMetadataChange ServerMetadataChange))');
  await writer.create('Elsewhere');
  assert.equal(await until(a, /Elsewhere/), '* LIST (\\HasNoChildren) "/" Elsewhere');
  await writer.rename('Elsewhere', 'Moved');
  assert.equal(await until(a, /Moved/), '* LIST (\\HasNoChildren) "/" Moved ("OLDNAME" (Elsewhere))');
  await writer.subscribe('Moved');
  assert.equal(await until(a, /Moved/), '* LIST (\\HasNoChildren \\Subscribed) "/" Moved');
  await writer.append('Moved', 'Subject: across\r\n\r\nbody\r\n');
  assert.match(await until(a, /STATUS/), /^\* STATUS Moved \(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \d+ UNSEEN 1\)$/);
  await writer.raw('SETMETADATA Moved (/private/comment "from the other worker")');
  assert.equal(await until(a, /METADATA/), '* METADATA Moved /private/comment');
  await writer.raw('SETMETADATA "" (/shared/comment "server")');
  assert.equal(await until(a, /METADATA/), '* METADATA "" /shared/comment');
  await writer.delete('Moved');
  assert.equal(await until(a, /Moved/), '* LIST (\\NonExistent) "/" Moved');
  await writer.logout();
  await a.ok('LOGOUT');
});
