// Child process of crash.test.ts: appends messages (and expunges some) as fast as it can and prints
// a line for each acknowledged operation, until it is killed.

import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { crashMessage } from './crash-message.js';

const [dir, startText] = process.argv.slice(2);
const store = await SqliteStore.open({ dir: dir!, recover: true });
const account = (await store.getAccount('alice'))!;
const inbox = (await store.getMailbox(account.id, 'INBOX'))!;
for (let n = Number(startText); ; n++) {
  // Every other message as a stream, so that both kinds of content are exercised: files (streamed)
  // and small buffers kept in the database.
  const content = crashMessage(n);
  const blob = await store.stageBlob(n % 2 ? (async function* () { yield content; })() : content);
  const r = await store.appendMessages(account.id, inbox.id, [{ blob, flags: [], internalDate: new Date(), cache: JSON.stringify({ n }) }]);
  process.stdout.write(`ack ${n} ${r.uids[0]} ${r.modseq}\n`);
  if (n % 7 === 0) {
    const ex = await store.expunge(account.id, inbox.id, r.uids);
    process.stdout.write(`expunged ${n} ${ex.modseq}\n`);
  }
}
