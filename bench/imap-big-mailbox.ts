// Fills a 10,000-message mailbox and times SELECT, `UID FETCH 1:* (FLAGS)` and `SEARCH BODY <rare
// word>` over a real socket. Prints figures; asserts nothing.
import { performance } from 'node:perf_hooks';
import { buildCache } from '../src/imap/server/message-cache.js';
import { startHarness } from '../test/imap/harness.js';

const COUNT = Number(process.env.BENCH_MESSAGES ?? 10000);

async function main(): Promise<void> {
  const h = await startHarness();
  const mb = (await h.store.getMailbox(h.accountId, 'INBOX'))!;
  let t = performance.now();
  // Filled through the store (as delivery would), in batches of 500 per transaction.
  for (let i = 0; i < COUNT; i += 500) {
    const batch = [];
    for (let j = i; j < Math.min(COUNT, i + 500); j++) {
      const body = j === COUNT - 7 ? 'the rare word xylophonist appears here\r\n' : `ordinary text number ${j}\r\n`.repeat(20);
      const buf = Buffer.from(`From: a${j}@example.org\r\nTo: b@example.org\r\nSubject: message ${j}\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\n${body}`);
      batch.push({ blob: await h.store.stageBlob(buf), flags: j % 3 ? ['\\Seen'] : [], internalDate: new Date(), cache: JSON.stringify(buildCache(buf)) });
    }
    await h.store.appendMessages(h.accountId, mb.id, batch);
  }
  console.log(`fill ${COUNT} messages: ${(performance.now() - t).toFixed(0)} ms`);
  const c = await h.client();
  const time = async (label: string, cmd: string): Promise<void> => {
    t = performance.now();
    const r = await c.ok(cmd);
    console.log(`${label}: ${(performance.now() - t).toFixed(1)} ms (${r.untagged.length} untagged)`);
  };
  await time('SELECT INBOX', 'SELECT INBOX');
  await time('UID FETCH 1:* (FLAGS)', 'UID FETCH 1:* (FLAGS)');
  await time('SEARCH BODY xylophonist', 'SEARCH BODY xylophonist');
  await time('SEARCH UNSEEN', 'SEARCH UNSEEN');
  await time('FETCH 1:* (ENVELOPE)', 'FETCH 1:* (ENVELOPE)');
  c.destroy();
  await h.close();
}

await main();
