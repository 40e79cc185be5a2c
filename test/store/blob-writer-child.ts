// Child process of shared-recovery.test.ts: another process writing messages into the shared store.
// On "stage" it writes a message file (fsynced, not committed) and prints its file id; on
// "commit" it appends the staged messages to alice's INBOX and prints their UIDs.

import { createInterface } from 'node:readline';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { StagedBlob } from '../../src/store/types.js';
import { crashMessage } from './crash-message.js';

const [dir] = process.argv.slice(2);
const store = await SqliteStore.open({ dir: dir! });
const account = (await store.getAccount('alice'))!;
const inbox = (await store.getMailbox(account.id, 'INBOX'))!;
const staged: StagedBlob[] = [];
let n = 0;
process.stdout.write('ready\n');
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'stage') {
    const content = crashMessage(++n);
    // Streamed: always a file (a small buffer would be kept in the database).
    const blob = await store.stageBlob((async function* () { yield content; })());
    staged.push(blob);
    process.stdout.write(`staged ${blob.fileId}\n`);
  } else if (line === 'commit') {
    const r = await store.appendMessages(account.id, inbox.id, staged.splice(0).map((blob) => ({ blob, flags: [], internalDate: new Date(), cache: null })));
    process.stdout.write(`committed ${r.uids.join(',')}\n`);
  }
}
