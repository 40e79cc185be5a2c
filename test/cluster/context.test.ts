// `postern serve --workers 2`: a search kept current (RFC 5267 RETURN (UPDATE)) in a session on one
// worker hears of changes made by a session on the other worker (through the cluster's change feed):
// ADDTO after EXISTS, REMOVEFROM with the flag change and before the EXPUNGE, also during IDLE.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { message, type Client } from '../imap/harness.js';
import { clusterDir, loginOnWorker, removeDir, startCluster, type ClusterChild } from './cluster-child.js';

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

/** A logged-in raw session and the worker that took it. */
async function login(): Promise<{ s: Client; worker: number }> {
  const { client, worker } = await loginOnWorker(c);
  return { s: client, worker };
}

test('updates for changes made through the other worker', async () => {
  const a = await login();
  let b = await login();
  const spare: Client[] = [];
  while (b.worker === a.worker) {
    assert.ok(spare.length < 6, 'connections never reached the second worker');
    spare.push(b.s);
    b = await login();
  }
  await a.s.ok('CREATE ctx');
  for (let i = 1; i <= 3; i++) await a.s.append('ctx', message(`w${i}`));
  await a.s.ok('SELECT ctx');
  await b.s.ok('SELECT ctx');
  a.s.write('U1 UID SEARCH RETURN (UPDATE ALL) UNSEEN\r\n');
  assert.deepEqual((await a.s.reply('U1')).untagged, ['* ESEARCH (TAG "U1") UID ALL 1:3']);
  a.s.write('U2 SORT RETURN (UPDATE ALL) (REVERSE SUBJECT) UTF-8 UNFLAGGED\r\n');
  assert.deepEqual((await a.s.reply('U2')).untagged, ['* ESEARCH (TAG "U2") ALL 3,2,1']);

  // The change feed crosses processes after the commit: wait for it with IDLE.
  const tag = a.s.nextTag();
  a.s.write(`${tag} IDLE\r\n`);
  assert.match(await a.s.readLine(), /^\+ /);
  await b.s.ok('STORE 2 +FLAGS (\\Seen \\Flagged)');
  assert.match(await a.s.readLine(), /^\* 2 FETCH \(FLAGS /);
  assert.equal(await a.s.readLine(), '* ESEARCH (TAG "U1") UID REMOVEFROM (0 2)');
  assert.equal(await a.s.readLine(), '* ESEARCH (TAG "U2") REMOVEFROM (2 2)');
  await b.s.append('ctx', message('w4'));
  assert.equal(await a.s.readLine(), '* 4 EXISTS');
  let line = await a.s.readLine();
  if (/RECENT$/.test(line)) line = await a.s.readLine();
  assert.equal(line, '* ESEARCH (TAG "U1") UID ADDTO (0 4)');
  assert.equal(await a.s.readLine(), '* ESEARCH (TAG "U2") ADDTO (1 4)');
  await b.s.ok('STORE 1 +FLAGS (\\Deleted)');
  assert.match(await a.s.readLine(), /^\* 1 FETCH \(FLAGS /);
  await b.s.ok('EXPUNGE');
  assert.equal(await a.s.readLine(), '* ESEARCH (TAG "U1") UID REMOVEFROM (0 1)');
  assert.equal(await a.s.readLine(), '* ESEARCH (TAG "U2") REMOVEFROM (3 1)');
  assert.equal(await a.s.readLine(), '* 1 EXPUNGE');
  a.s.write('DONE\r\n');
  assert.equal((await a.s.reply(tag)).status, 'OK');
  for (const s of [a.s, b.s, ...spare]) s.destroy();
});
