// The junk filter at the end of DATA: each local recipient account's verdict on the message as it
// will be stored (our Authentication-Results included), recorded in its copy's X-Postern-Junk field;
// spam goes to that account's Junk mailbox.

import type { MessageSource } from '../../delivery/message-source.js';
import { verdictField } from '../../junk/filter.js';
import { MAX_TOKENIZE_BYTES } from '../../junk/limits.js';
import type { JunkService } from '../../junk/service.js';
import { tokenize } from '../../junk/tokenizer.js';
import { senderKeys } from '../../junk/reputation.js';
import type { SessionView } from './policy.js';
import type { LocalRouting } from './transaction.js';

export async function junkVerdicts(junk: JunkService, message: MessageSource, routing: LocalRouting, s: SessionView, accounts: Iterable<number>): Promise<void> {
  const head = await message.head(MAX_TOKENIZE_BYTES);
  const tokens = tokenize(head);
  const sender = senderKeys(head);
  for (const accountId of accounts) {
    const v = await junk.verdict(accountId, tokens, sender);
    routing.fields.set(accountId, Buffer.from(verdictField(v), 'utf8'));
    if (v.spam) routing.junk.add(accountId);
    s.log.debug('junk verdict', { account: accountId, score: v.score, spam: v.spam, untrained: v.untrained });
  }
}
