// Limits of the junk filter: what one message may cost to classify, and what one account's model
// may hold in memory and in the database.

/** Raw bytes of a message that are tokenized (headers and the start of the text parts). */
export const MAX_TOKENIZE_BYTES = 64 * 1024;
/** Distinct tokens taken from one message. */
export const MAX_TOKENS_PER_MESSAGE = 1500;
/** Tokens (the most telling ones) that decide a score (SpamBayes uses 150). */
export const MAX_DISCRIMINATORS = 150;
/** Distinct tokens an account's model keeps; past it, the rarest are pruned. */
export const MAX_TOKENS_PER_ACCOUNT = 150_000;
/** Accounts whose model is held in memory at once (least recently used dropped). */
export const MAX_LOADED_MODELS = 16;
/** Training jobs waiting, over all accounts; more are dropped (and logged). */
export const MAX_PENDING_TRAINING = 2000;
/** Messages trained from existing mail when an account's filter is first used, per class. */
export const SEED_MESSAGES_PER_CLASS = 500;
/** Messages of each class needed before a verdict is given. */
export const MIN_TRAINED_PER_CLASS = 5;
/** Default spam threshold on the 0..1 score. */
export const DEFAULT_THRESHOLD = 0.9;
/** Sender reputation keys kept per account (least recently updated dropped). */
export const MAX_REPUTATION_KEYS = 20_000;
/** First contact: the threshold is lowered by this much for a sender domain never seen before. */
export const NEW_SENDER_STRICTNESS = 0.1;
/** A known sender's mail goes to Junk only from this score on. */
export const KNOWN_SENDER_THRESHOLD = 0.999;
