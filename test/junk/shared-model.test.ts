// The junk filter with two processes on one store (two store instances, each with its own
// JunkService, as two workers of `postern serve` have): a model one of them holds in memory does
// not go stale when the other trains the account, and of two meeting an account at once, one seeds it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/log/logger.js';
import { JunkService } from '../../src/junk/service.js';
import { tokenize } from '../../src/junk/tokenizer.js';
import { stripOwnFields } from '../../src/junk/trainer.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { generateCorpus, generateMessage, rng } from './corpus.js';

test('a model held by one process is reloaded after another process trained the account', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'postern-junk-shared-'));
  const a = await SqliteStore.open({ dir, recover: true });
  const b = await SqliteStore.open({ dir });
  try {
    const id = (await a.createAccount('alice', 'alice@example.test')).id;
    assert.equal(await a.junk.markSeeded(id), true);
    assert.equal(await b.junk.markSeeded(id), false, 'seeded once, by one of them');
    const onA = new JunkService(a, silentLogger, { threshold: 0.9 });
    const onB = new JunkService(b, silentLogger, { threshold: 0.9 });
    const spam = tokenize(stripOwnFields(generateMessage(rng(5), true, 123456)));

    // Worker A classifies first: nothing trained yet, its model is loaded empty and kept.
    assert.equal((await onA.verdict(id, spam)).untrained, true);
    // Worker B trains the account (users moving mail to Junk and back on its sessions).
    for (const m of generateCorpus(120, 3)) await onB.trainer.trainOne(id, m.raw, m.spam);
    // Worker A's next verdict uses what B trained.
    const v = await onA.verdict(id, spam);
    assert.equal(v.untrained, false, 'A sees the training done by B');
    assert.equal(v.spam, true);
    const [mA, mB] = [await onA.models.get(id), await onB.models.get(id)];
    assert.equal(mA.version, mB.version);
    assert.equal(mA.counts.size, mB.counts.size);

    // Training on A again, after B: A's model moves along with the store; B's reloads.
    const extra = generateMessage(rng(11), false, 654321);
    await onA.trainer.trainOne(id, extra, false);
    await onB.verdict(id, spam);
    const state = await a.junk.state(id);
    assert.equal((await onA.models.get(id)).version, state.version);
    assert.equal((await onB.models.get(id)).version, state.version);
    assert.equal((await onB.models.get(id)).hamMessages, state.hamMessages);
    assert.deepEqual([...(await onA.models.get(id)).counts].sort(), [...(await onB.models.get(id)).counts].sort(), 'both hold the same counts');
  } finally {
    await a.close();
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
