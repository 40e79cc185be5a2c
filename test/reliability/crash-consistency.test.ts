// Spec 10 under SIGKILL, short form: `postern serve` as a child, mixed IMAP (APPEND, STORE, EXPUNGE,
// MOVE) and SMTP submission load, killed at a random moment, restarted and checked; 10 rounds
// (POSTERN_CRASH_ROUNDS to change). The long form is `node build/fuzz/crash.js --rounds 50`.
// What is checked: see crash-consistency.ts.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { crashConsistency } from './crash-consistency.js';

const ROUNDS = Number(process.env.POSTERN_CRASH_ROUNDS ?? 10);

test(`SIGKILL under mixed IMAP/SMTP load, ${ROUNDS} rounds: nothing acknowledged lost or doubled, counters monotonic, no orphan files`, { timeout: 600_000 }, async (t) => {
  const r = await crashConsistency({ rounds: ROUNDS, log: (l) => t.diagnostic(l) });
  try {
    t.diagnostic(`${r.acknowledged} operations acknowledged over ${r.rounds} kills; ${r.messages} messages at the end`);
    assert.ok(r.perRound.every((x) => x.ops > 0), 'every round acknowledged something before its kill');
    assert.deepEqual(r.problems, []);
  } finally {
    if (r.problems.length === 0) rmSync(r.dir, { recursive: true, force: true });
    else t.diagnostic(`data directory kept for inspection: ${r.dir}`);
  }
});
