// SearchContexts against a MailboxView without a server: the result-size limit (refused when made,
// ended when a result grows past it), and a SORT result's positions as messages come and go.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MessageMeta, Store } from '../../store/types.js';
import { MailboxView, ViewMessage, type ViewOutput } from './mailbox-view.js';
import { MessageTable } from './message-table.js';
import { SearchContexts } from './search-context.js';

function view(uids: number[]): MailboxView {
  const mailbox = { id: 1, accountId: 1, name: 'INBOX', specialUse: null, subscribed: true, uidValidity: 7, uidNext: 100, highestModseq: 1, created: new Date(0), firstRecentUid: 100 };
  const messages = new MessageTable<ViewMessage>();
  for (const u of uids) messages.set(u, new ViewMessage(u, [], 1, u * 1000, 0, 10 * u, u, u));
  return new MailboxView(mailbox, false, { uids: [...uids], messages });
}

function output(): ViewOutput & { lines: string[] } {
  const lines: string[] = [];
  return { lines, untagged: async (t) => void lines.push(t), condstore: false, qresync: false, rev2: true, flagList: (f) => `(${f.join(' ')})` };
}

/** Only getMessages is used (new messages' metadata); nothing is read for flag-only programs. */
function store(): Store {
  const getMessages = async (_mb: number, uids: number[]): Promise<MessageMeta[]> =>
    uids.map((uid) => ({ uid, flags: [], modseq: 2, internalDate: new Date(uid * 1000), saveDate: new Date(0), size: 10 * uid, fileId: uid, id: uid }) as unknown as MessageMeta);
  return { getMessages } as unknown as Store;
}

test('a result over the size limit is refused; one that grows past it ends with NOUPDATE', async () => {
  const v = view([1, 2, 3]);
  const s = store();
  const ctx = new SearchContexts(s, v, { contexts: 2, result: 3 });
  assert.match(ctx.add('big', true, { op: 'all' }, null, [1, 2, 3, 4]) ?? '', /more than 3 messages/);
  assert.equal(ctx.add('a', true, { op: 'all' }, null, [1, 2, 3]), null);
  assert.equal(ctx.add('b', true, { op: 'flag', flag: '\\Seen', present: false }, null, [1, 2, 3]), null);
  assert.match(ctx.add('c', true, { op: 'all' }, null, []) ?? '', /no more than 2/);
  assert.equal(v.observer, ctx);
  // A fourth message: both results grow to 4, past the limit; both end, told so.
  v.queue([{ kind: 'append', mailboxId: 1, uids: [4], modseq: 2 }]);
  const out = output();
  await v.sync(s, out, true);
  assert.deepEqual(out.lines, [
    '4 EXISTS',
    'ESEARCH (TAG "a") UID ADDTO (0 4)',
    'NO [NOUPDATE "a"] no result of more than 3 messages kept current',
    'ESEARCH (TAG "b") UID ADDTO (0 4)',
    'NO [NOUPDATE "b"] no result of more than 3 messages kept current',
  ]);
  assert.equal(v.observer, null);
  assert.deepEqual(ctx.cancel(['a']), ['a']);
});

test('SORT positions: REVERSE SIZE, runs of neighbours in one pair, later pairs counted after earlier ones', async () => {
  const v = view([1, 2, 3, 4, 5, 6]);
  const s = store();
  const ctx = new SearchContexts(s, v);
  // REVERSE SIZE: 6 5 4 3 2 1 (size is 10 * uid).
  assert.equal(ctx.add('s', true, { op: 'all' }, [{ key: 'SIZE', reverse: true }], [6, 5, 4, 3, 2, 1]), null);
  v.queue([{ kind: 'expunge', mailboxId: 1, uids: [5, 4, 2], modseq: 3 }]);
  let out = output();
  await v.sync(s, out, true);
  // Positions 2-3 (5, 4) as one run; then 2, at position 5 of the list before, 3 once the run is out.
  // The REMOVEFROM before the EXPUNGEs (RFC 5267 4.3.4).
  assert.deepEqual(out.lines, ['ESEARCH (TAG "s") UID REMOVEFROM (2 5,4 3 2)', '5 EXPUNGE', '4 EXPUNGE', '2 EXPUNGE']);
  // New 7 and 8, the largest: one run at position 1, in sort order (8 before 7).
  v.queue([{ kind: 'append', mailboxId: 1, uids: [7, 8], modseq: 4 }]);
  out = output();
  await v.sync(s, out, true);
  assert.deepEqual(out.lines, ['5 EXISTS', 'ESEARCH (TAG "s") UID ADDTO (1 8,7)']);
});
