// A worker that dies is restarted, with a delay that grows while its replacements keep dying at
// start (here: a broken postern.conf), never in a fork loop; once the config loads again, the slot
// serves again. The other worker serves throughout.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ImapClient } from '../../src/imap/client/index.js';
import { ADDRESS, PASSWORD, clusterDir, removeDir, startCluster } from './cluster-child.js';

test('a dying worker is restarted with growing delays, and serves again once it can start', async () => {
  const dir = clusterDir(['imap']);
  const c = await startCluster(dir, 2, ['imap']);
  const file = join(dir, 'postern.conf');
  const good = readFileSync(file, 'utf8');
  try {
    const delays = () => [...c.output().matchAll(/ warn worker died slot=1 .*restartInMs=(\d+)/g)].map((m) => Number(m[1]));
    const pid = c.workers().get(1)!;
    writeFileSync(file, good + '\nnot a known key: 1\n');
    process.kill(pid, 'SIGKILL');
    await c.waitFor('three deaths of slot 1', () => delays().length >= 3, 30_000);
    assert.deepEqual(delays().slice(0, 3), [1000, 2000, 4000]);
    // Meanwhile slot 0 serves.
    const client = await ImapClient.connect({ host: '127.0.0.1', port: c.ports.imap!, tls: 'starttls', insecure: true, auth: { username: ADDRESS, password: PASSWORD } });
    await client.logout();
    writeFileSync(file, good);
    const restarted = (): number | null => {
      const m = / worker restarted slot=1 pid=(\d+)/.exec(c.output());
      return m ? Number(m[1]) : null;
    };
    await c.waitFor('slot 1 serving again', () => restarted() !== null, 60_000);
    assert.notEqual(restarted(), pid);
    // The primary's line and the new worker's own ready line come from two processes in either order.
    await c.waitFor('the new worker ready', () => c.workers().get(1) === restarted());
    assert.equal(delays().length, 3, 'no restart after the one that worked');
  } finally {
    await c.kill('SIGTERM');
    removeDir(dir);
  }
});
