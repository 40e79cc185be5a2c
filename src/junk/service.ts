// The junk filter of a running server: the loaded models, the training queue, and the verdict for
// one account at delivery. An account used for the first time is seeded from its existing mail in
// the background; until it has MIN_TRAINED_PER_CLASS messages of each class no verdict is given.

import type { Logger } from '../log/logger.js';
import type { Store } from '../store/types.js';
import { classify, type Verdict } from './filter.js';
import { DEFAULT_THRESHOLD } from './limits.js';
import { JunkModels } from './model.js';
import { JunkTrainer } from './trainer.js';
import { familiarity, type SenderKeys } from './reputation.js';

export interface JunkOptions {
  /** Score from which mail is spam, for accounts without a threshold of their own. */
  threshold: number;
}

export class JunkService {
  readonly models: JunkModels;
  readonly trainer: JunkTrainer;
  private readonly seeding = new Map<number, Promise<void>>();

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly opts: JunkOptions = { threshold: DEFAULT_THRESHOLD },
  ) {
    this.models = new JunkModels(store);
    this.trainer = new JunkTrainer(store, this.models, log);
  }

  start(): void {
    this.trainer.start();
  }

  async stop(): Promise<void> {
    await this.trainer.stop();
    await Promise.allSettled(this.seeding.values());
  }

  async verdict(accountId: number, tokens: readonly number[], sender?: SenderKeys): Promise<Verdict> {
    // The state is read each time: `postern junk threshold` changes the threshold from another
    // process, and other worker processes train the account (its version moves).
    const state = await this.store.junk.state(accountId);
    const model = await this.models.get(accountId, state.version);
    if (!model.seeded && !this.seeding.has(accountId)) {
      model.seeded = true;
      const p = this.trainer.seed(accountId)
        .catch((err) => this.log.warn('junk filter seeding failed', { err, account: accountId }))
        .finally(() => this.seeding.delete(accountId));
      this.seeding.set(accountId, p);
    }
    model.threshold = state.threshold;
    const familiar = sender ? familiarity(sender, await this.store.junk.reputation(accountId, sender.keys)) : undefined;
    return classify(model, tokens, this.opts.threshold, familiar);
  }

  /** Resolves when seeding and queued training are done (tests, bench). */
  async idle(): Promise<void> {
    await Promise.allSettled(this.seeding.values());
    await this.trainer.idle();
  }
}
