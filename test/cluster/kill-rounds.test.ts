// SIGKILL rounds with several workers (issue 20): concurrent APPENDs over several connections, and
// at a random moment either one worker or every process (primary and workers) is killed. After
// each round every APPEND that got OK is there under the UID it was given, and no UID ever names
// two different messages (a reused UID would make clients show the wrong message).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ImapClient, sectionKey } from '../../src/imap/client/index.js';
import { ADDRESS, PASSWORD, clusterDir, killAll, removeDir, startCluster, type ClusterChild } from './cluster-child.js';

const WORKERS = 2;
const CONNECTIONS = 4;
const ROUNDS: ('worker' | 'all')[] = ['worker', 'all', 'all'];
const HEADER = sectionKey('HEADER.FIELDS (MESSAGE-ID)');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every UID ever acknowledged or seen, with its Message-ID; a second Message-ID for one UID is a reuse. */
class UidLedger {
  readonly byUid = new Map<number, string>();
  readonly acked = new Map<number, string>();
  readonly problems: string[] = [];

  note(uid: number, id: string, how: string): void {
    const had = this.byUid.get(uid);
    if (had !== undefined && had !== id) this.problems.push(`UID ${uid} reused: ${had}, then ${id} (${how})`);
    else this.byUid.set(uid, id);
  }

  ack(uid: number, id: string): void {
    this.acked.set(uid, id);
    this.note(uid, id, 'acknowledged');
  }
}

/** APPENDs on `n` connections until stop(); reconnects after its worker dies. */
function startLoad(c: ClusterChild, round: number, ledger: UidLedger): { stop(): Promise<number> } {
  let running = true;
  let acked = 0;
  const loop = async (conn: number): Promise<void> => {
    let seq = 0;
    while (running) {
      let client: ImapClient | null = null;
      try {
        client = await ImapClient.connect({ host: '127.0.0.1', port: c.ports.imap!, tls: 'starttls', insecure: true, auth: { username: ADDRESS, password: PASSWORD }, timeouts: { command: 10_000 } });
        while (running) {
          const id = `r${round}-c${conn}-${seq++}@cluster.test`;
          const r = await client.append('INBOX', `Message-ID: <${id}>\r\nSubject: load\r\n\r\nbody of ${id}\r\n`);
          assert.ok(r.uid, 'APPENDUID');
          ledger.ack(r.uid, id);
          acked++;
        }
        await client.logout().catch(() => {});
      } catch {
        // The worker (or every process) was killed: the append in flight may or may not be there.
        client?.close();
        if (running) await sleep(100);
      }
    }
  };
  const loops = Array.from({ length: CONNECTIONS }, (_, i) => loop(i));
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return acked;
    },
  };
}

async function verify(c: ClusterChild, ledger: UidLedger, round: number): Promise<number> {
  const client = await ImapClient.connect({ host: '127.0.0.1', port: c.ports.imap!, tls: 'starttls', insecure: true, auth: { username: ADDRESS, password: PASSWORD } });
  try {
    const mb = await client.select('INBOX');
    const have = new Map<number, string>();
    if (mb.exists > 0) {
      for (const m of await client.fetch('1:*', { uid: true, body: ['HEADER.FIELDS (MESSAGE-ID)'] })) {
        const id = /Message-ID:\s*<([^>]+)>/i.exec(m.body?.[HEADER]?.toString('latin1') ?? '')?.[1];
        assert.ok(m.uid && id, `round ${round}: a message without UID or Message-ID`);
        have.set(m.uid, id);
        ledger.note(m.uid, id, `seen after round ${round}`);
      }
    }
    for (const [uid, id] of ledger.acked) {
      if (have.get(uid) !== id) ledger.problems.push(`round ${round}: acknowledged ${id} (UID ${uid}) is ${have.has(uid) ? `now ${have.get(uid)}` : 'missing'}`);
    }
    await client.logout();
    return have.size;
  } finally {
    client.close();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('SIGKILL of one worker, and of every process, during concurrent APPENDs: nothing acknowledged lost, no UID reused', async (t) => {
  const dir = clusterDir(['imap']);
  const ledger = new UidLedger();
  let c = await startCluster(dir, WORKERS, ['imap']);
  try {
    for (const [round, kind] of ROUNDS.entries()) {
      const load = startLoad(c, round, ledger);
      await sleep(400 + Math.random() * 1200);
      if (kind === 'worker') {
        const slots = [...c.workers().entries()];
        const [slot, pid] = slots[Math.floor(Math.random() * slots.length)]!;
        process.kill(pid, 'SIGKILL');
        // The primary restarts that slot (after its backoff); the other worker keeps serving.
        await c.waitFor(`worker ${slot} restarted`, () => c.workers().get(slot) !== pid, 30_000);
        await sleep(300);
        await load.stop();
      } else {
        const pids = [c.proc.pid!, ...c.workers().values()];
        killAll(c);
        await load.stop();
        const deadline = Date.now() + 10_000;
        while (pids.some(alive)) {
          assert.ok(Date.now() < deadline, 'processes outlived SIGKILL');
          await sleep(50);
        }
        c = await startCluster(dir, WORKERS, ['imap']);
      }
      const n = await verify(c, ledger, round);
      assert.deepEqual(ledger.problems, [], `after round ${round} (${kind})`);
      assert.ok(n >= ledger.acked.size, `round ${round}: ${n} messages, ${ledger.acked.size} acknowledged`);
    }
    assert.ok(ledger.acked.size > 0, 'some APPENDs were acknowledged');
    t.diagnostic(`${ledger.acked.size} APPENDs acknowledged over ${ROUNDS.length} rounds, ${ledger.byUid.size} UIDs seen`);
  } finally {
    await c.kill('SIGTERM');
    removeDir(dir);
  }
});
