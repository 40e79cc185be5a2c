// The outbound queue with several workers (issue 20): its runner lives in worker slot 0; mail
// submitted through any other worker kicks it over the bus and is delivered at once (not at the
// runner's next poll, 30 s later), and each message reaches the next hop exactly once.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { needPeer } from '../e2e/need-peer.js';
import { startRawSink } from '../smtp-e2e/raw-sink.js';
import { ADDRESS, PASSWORD, clusterDir, removeDir, startCluster } from './cluster-child.js';

const MESSAGES = 4;

function swaks(args: string[]): Promise<string> {
  return new Promise((resolve) => execFile('swaks', args, { timeout: 60_000 }, (_err, stdout) => resolve(stdout)));
}

test('mail submitted through every worker is delivered at once, each message once', async (t) => {
  if (!(await needPeer(t, 'swaks'))) return;
  const sink = await startRawSink();
  const dir = clusterDir(['submission'], { transports: { '*': { host: '127.0.0.1', port: sink.port, tls: 'none' } } });
  const c = await startCluster(dir, 2, ['submission']);
  try {
    const accepted: number[] = [];
    // The last message goes through a worker without the runner: nothing else kicks the runner after it.
    for (let i = 0; i < MESSAGES || accepted.at(-1) === 0; i++) {
      assert.ok(i < 3 * MESSAGES, 'submissions never reached a second worker');
      const before = [...c.output().matchAll(/ info message accepted worker=(\d+)/g)].length;
      const out = await swaks(['--server', '127.0.0.1', '--port', String(c.ports.submission), '--tls', '--auth', 'PLAIN', '--auth-user', ADDRESS, '--auth-password', PASSWORD,
        '--from', ADDRESS, '--to', `carol${i}@remote.example`, '--header', `Subject: queued ${i}`]);
      assert.match(out, /<~ +250 /, out);
      await c.waitFor('the accepted line', () => [...c.output().matchAll(/ info message accepted worker=(\d+)/g)].length > before);
      accepted.push(Number([...c.output().matchAll(/ info message accepted worker=(\d+)/g)][before]![1]));
    }
    assert.ok(accepted.some((w) => w !== 0), `every message went through the runner's worker: ${accepted}`);
    // Well before the runner's 30 s poll: only a kick over the bus delivers this soon.
    await c.waitFor('every message delivered', () => sink.transactions.length >= accepted.length, 10_000);
    await new Promise((r) => setTimeout(r, 1000));
    const subjects = sink.transactions.map((tx) => /^Subject: (queued \d+)\r$/m.exec(tx.data.toString('latin1'))?.[1]).sort();
    assert.deepEqual(subjects, accepted.map((_, i) => `queued ${i}`).sort(), 'each message exactly once');
  } finally {
    await c.kill('SIGTERM');
    await sink.close();
    removeDir(dir);
  }
});
