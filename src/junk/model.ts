// Per-account models held in memory for classification: each token's counts packed in one number
// of a Map, loaded from the store on first use and kept current by training. Each model knows the
// store's version it reflects: training in this process moves it one step with the store, and a
// model found behind the store (another process trained the account) is loaded again. At most
// MAX_LOADED_MODELS accounts are held (least recently used dropped), and an account's table is
// pruned past MAX_TOKENS_PER_ACCOUNT, so memory stays bounded.

import type { Store } from '../store/types.js';
import { combine, tokenProbability, type ClassCounts } from './bayes.js';
import { MAX_LOADED_MODELS, MAX_TOKENS_PER_ACCOUNT } from './limits.js';

/** Counts are packed as spam * PACK + ham; both stay far below PACK (2^21). */
const PACK = 2 ** 21;

export class AccountModel implements ClassCounts {
  readonly counts = new Map<number, number>();
  spamMessages = 0;
  hamMessages = 0;
  threshold: number | null = null;
  seeded = false;
  /** The store's model version these counts are (JunkAccountState.version). */
  version = 0;

  score(tokens: readonly number[]): number {
    const probs: number[] = [];
    for (const t of tokens) {
      const packed = this.counts.get(t);
      if (packed === undefined) continue;
      probs.push(tokenProbability({ spam: Math.floor(packed / PACK), ham: packed % PACK }, this));
    }
    return combine(probs);
  }

  /** Applies a training step that the store has committed, which made `version`. */
  apply(tokens: readonly number[], spam: boolean, untrained: boolean, version: number): void {
    this.version = version;
    for (const t of tokens) {
      const v = this.counts.get(t) ?? 0;
      let s = Math.floor(v / PACK);
      let h = v % PACK;
      if (spam) s++;
      else h++;
      if (untrained && spam) h = Math.max(0, h - 1);
      if (untrained && !spam) s = Math.max(0, s - 1);
      if (s === 0 && h === 0) this.counts.delete(t);
      else this.counts.set(t, s * PACK + h);
    }
    if (spam) this.spamMessages++;
    else this.hamMessages++;
    if (untrained) {
      if (spam) this.hamMessages = Math.max(0, this.hamMessages - 1);
      else this.spamMessages = Math.max(0, this.spamMessages - 1);
    }
  }
}

export class JunkModels {
  private readonly loaded = new Map<number, Promise<AccountModel>>();

  constructor(private readonly store: Store) {}

  /** The account's model, loaded once; the most recently used stay in memory. With `version`
   * (the store's, just read), a model behind it is loaded again. */
  async get(accountId: number, version?: number): Promise<AccountModel> {
    const m = await this.cached(accountId);
    if (version === undefined || m.version >= version) return m;
    this.forget(accountId);
    return this.cached(accountId);
  }

  private cached(accountId: number): Promise<AccountModel> {
    let m = this.loaded.get(accountId);
    if (m) {
      this.loaded.delete(accountId);
    } else {
      m = this.load(accountId);
      m.catch(() => this.loaded.delete(accountId));
    }
    this.loaded.set(accountId, m);
    while (this.loaded.size > MAX_LOADED_MODELS) this.loaded.delete(this.loaded.keys().next().value!);
    return m;
  }

  /** The loaded model or null: training updates only what is in memory. */
  peek(accountId: number): Promise<AccountModel> | null {
    return this.loaded.get(accountId) ?? null;
  }

  forget(accountId: number): void {
    this.loaded.delete(accountId);
  }

  private async load(accountId: number): Promise<AccountModel> {
    if ((await this.store.junk.tokenCount(accountId)) > MAX_TOKENS_PER_ACCOUNT) await this.store.junk.prune(accountId);
    const { state, tokens } = await this.store.junk.model(accountId);
    const m = new AccountModel();
    m.spamMessages = state.spamMessages;
    m.hamMessages = state.hamMessages;
    m.threshold = state.threshold;
    m.seeded = state.seeded;
    m.version = state.version;
    for (const [t, s, h] of tokens) m.counts.set(t, s * PACK + h);
    return m;
  }
}
