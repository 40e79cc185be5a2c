import assert from 'node:assert/strict';
import { test } from 'node:test';
import { STAR, type SequenceSet } from '../proto/types.js';
import { MailboxView, ViewMessage } from './mailbox-view.js';
import { MessageTable } from './message-table.js';

function view(uids: number[]): MailboxView {
  const mailbox = { id: 1, accountId: 1, name: 'INBOX', specialUse: null, subscribed: true, uidValidity: 7, uidNext: 100, highestModseq: 1, created: new Date(0), firstRecentUid: 100 };
  const messages = new MessageTable<ViewMessage>();
  for (const u of uids) messages.set(u, new ViewMessage(u, [], 1, 0, 0, 10, u, u));
  return new MailboxView(mailbox, false, { uids: [...uids], messages });
}

const set = (...ranges: [number, number][]): SequenceSet => ({ kind: 'ranges', ranges: ranges.map(([start, end]) => ({ start, end })) });

test('resolve: whole-mailbox sets (the fast path) and partial ones give the same as testing each message', () => {
  const v = view([3, 5, 9]);
  // UID sets; * is the highest UID in use.
  assert.deepEqual(v.resolve(set([1, STAR]), true), [3, 5, 9]);
  assert.deepEqual(v.resolve(set([STAR, 1]), true), [3, 5, 9]);
  assert.deepEqual(v.resolve(set([3, 9]), true), [3, 5, 9]);
  assert.deepEqual(v.resolve(set([4, STAR]), true), [5, 9]);
  assert.deepEqual(v.resolve(set([10, STAR]), true), [9]);
  assert.deepEqual(v.resolve(set([1, 4], [6, STAR]), true), [3, 9]);
  // Sequence numbers.
  assert.deepEqual(v.resolve(set([1, STAR]), false), [3, 5, 9]);
  assert.deepEqual(v.resolve(set([2, 3]), false), [5, 9]);
  assert.deepEqual(v.resolve(set([STAR, STAR]), false), [9]);
  // The answer is a copy: changing it leaves the view alone.
  v.resolve(set([1, STAR]), true).pop();
  assert.deepEqual(v.uids, [3, 5, 9]);
  assert.deepEqual(view([]).resolve(set([1, STAR]), true), []);
});

test('\\Recent ranges: merged as claims come, counted over the UIDs the view holds, expunged ones gone', () => {
  const v = view([1, 2, 5, 7, 9]);
  v.markRecent(2, 6);
  v.markRecent(6, 8); // touches the last range: merged
  v.markRecent(3, 3); // empty
  assert.equal(v.recentCount, 3); // 2, 5, 7
  assert.deepEqual([1, 2, 5, 7, 9].filter((u) => v.isRecent(u)), [2, 5, 7]);
  v.removeReported(5);
  assert.equal(v.recentCount, 2);
  assert.equal(v.isRecent(5), false);
  const m = v.messages.get(2)!;
  m.flags = ['\\Seen'];
  assert.deepEqual(v.shownFlags(m, false), ['\\Recent', '\\Seen']);
  assert.deepEqual(v.shownFlags(m, true), ['\\Seen']);
  // One list with \Recent per distinct flag list (FETCH encodes each list once).
  assert.equal(v.shownFlags(m, false), v.shownFlags(m, false));
  v.markRecent(100, Infinity);
  assert.equal(v.recentCount, 2);
});
