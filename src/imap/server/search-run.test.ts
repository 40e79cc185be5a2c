// The view-only search path (runSearch without content keys, search-eval matchesCheap) against the
// general evaluator (matches, one promise per message): the same UIDs for random trees of every key
// the view decides, over a view with gaps in its UIDs, \Recent ranges and varied flags, sizes and dates.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SearchKey, SequenceSet } from '../proto/types.js';
import { STAR } from '../proto/types.js';
import type { Store } from '../../store/types.js';
import { MailboxView, ViewMessage } from './mailbox-view.js';
import { MessageTable } from './message-table.js';
import { runSearch } from './search-run.js';
import { matches, type SearchTarget } from './search-eval.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const FLAGS = ['\\Seen', '\\Flagged', '\\Deleted', '\\Answered', '$Junk', 'kw'];
const DAY = 86_400_000;
const BASE = Date.UTC(2026, 0, 1);

function makeView(r: () => number): MailboxView {
  const mailbox = { id: 1, accountId: 1, name: 'INBOX', specialUse: null, subscribed: true, uidValidity: 7, uidNext: 1000, highestModseq: 500, created: new Date(0), firstRecentUid: 1000 };
  const messages = new MessageTable<ViewMessage>();
  const uids: number[] = [];
  for (let u = 1; u < 900; u += 1 + Math.floor(r() * 4)) {
    const flags = FLAGS.filter(() => r() < 0.3);
    const internal = BASE + Math.floor(r() * 20) * DAY + Math.floor(r() * DAY);
    messages.set(u, new ViewMessage(u, flags, 1 + Math.floor(r() * 500), internal, internal + DAY, 100 + Math.floor(r() * 5000), u, u));
    uids.push(u);
  }
  const v = new MailboxView(mailbox, false, { uids, messages });
  v.markRecent(uids[Math.floor(uids.length / 2)]!, 1000);
  return v;
}

function randomSet(r: () => number, max: number): SequenceSet {
  const ranges = [];
  for (let i = 0, n = 1 + Math.floor(r() * 3); i < n; i++) {
    const a = 1 + Math.floor(r() * max);
    ranges.push({ start: a, end: r() < 0.2 ? STAR : 1 + Math.floor(r() * max) });
  }
  return { kind: 'ranges', ranges };
}

function randomKey(r: () => number, depth: number): SearchKey {
  const pick = Math.floor(r() * (depth > 2 ? 11 : 14));
  const date = { year: 2026, month: 1, day: 1 + Math.floor(r() * 20) };
  const cmp = (['before', 'on', 'since'] as const)[Math.floor(r() * 3)]!;
  switch (pick) {
    case 0: return { op: 'flag', flag: FLAGS[Math.floor(r() * FLAGS.length)]!, present: r() < 0.5 };
    case 1: return { op: 'size', cmp: r() < 0.5 ? 'larger' : 'smaller', n: Math.floor(r() * 5000) };
    case 2: return { op: 'modseq', modseq: Math.floor(r() * 500) };
    case 3: return { op: 'date', field: 'internal', cmp, date };
    case 4: return { op: 'date', field: 'save', cmp, date };
    case 5: return { op: 'uid', set: randomSet(r, 900) };
    case 6: return { op: 'seq', set: randomSet(r, 300) };
    case 7: return (['recent', 'new', 'old'] as const).map((op) => ({ op }))[Math.floor(r() * 3)]!;
    case 8: return { op: r() < 0.5 ? 'older' : 'younger', seconds: 1 + Math.floor(r() * 400 * DAY / 1000) };
    case 9: return { op: 'savedatesupported' };
    case 10: return { op: 'flag', flag: '\\Seen', present: false };
    case 11: return { op: 'not', key: randomKey(r, depth + 1) };
    case 12: return { op: 'or', a: randomKey(r, depth + 1), b: randomKey(r, depth + 1) };
    default: return { op: 'and', keys: [randomKey(r, depth + 1), randomKey(r, depth + 1), randomKey(r, depth + 1)] };
  }
}

/** The general evaluator, message by message; content is never asked for these keys. */
async function reference(view: MailboxView, key: SearchKey, now: number): Promise<number[]> {
  const out: number[] = [];
  const noContent = (): never => assert.fail('content asked for a view-only key');
  for (const uid of view.uids) {
    const t: SearchTarget = { msg: view.messages.get(uid)!, msn: view.msn(uid), raw: noContent, content: noContent, text: noContent };
    if (await matches(key, t, view, now)) out.push(uid);
  }
  return out;
}

test('view-only keys: runSearch gives what the general evaluator gives, for 300 random trees', async () => {
  const r = rng(20261205);
  const view = makeView(r);
  // No store call is made for these keys: a store that fails on any use proves it.
  const store = new Proxy({}, { get: () => assert.fail('store used by a view-only search') }) as unknown as Store;
  let nonTrivial = 0;
  for (let i = 0; i < 300; i++) {
    const key = randomKey(r, 0);
    const want = await reference(view, key, Date.now());
    const got = await runSearch(store, view, key);
    assert.deepEqual(got.found, want, JSON.stringify(key));
    assert.equal(got.gone, false);
    if (want.length > 0 && want.length < view.uids.length) nonTrivial++;
  }
  // The trees are not all empty or all-matching, so the comparison says something.
  assert.ok(nonTrivial > 100, `only ${nonTrivial} trees split the mailbox`);
});
