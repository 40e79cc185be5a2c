// The junk filter as delivery uses it: score a message for an account and say where it goes, with
// the verdict in a header field (X-Postern-Junk) that the user's client and Sieve (spamtest) read.
// Classification is synchronous and cheap (hash lookups in the loaded model); loading a model and
// training happen elsewhere.

import { DEFAULT_THRESHOLD, MIN_TRAINED_PER_CLASS } from './limits.js';
import type { AccountModel } from './model.js';
import { thresholdFor, type Familiarity } from './reputation.js';

export const VERDICT_FIELD = 'X-Postern-Junk';

export interface Verdict {
  spam: boolean;
  score: number;
  threshold: number;
  /** Too few messages of one class trained yet: no verdict, the score is only recorded. */
  untrained: boolean;
  /** The sender's reputation with the account, when looked up. */
  sender?: Familiarity;
}

export function classify(model: AccountModel, tokens: readonly number[], defaultThreshold = DEFAULT_THRESHOLD, sender?: Familiarity): Verdict {
  const base = model.threshold ?? defaultThreshold;
  const threshold = sender ? thresholdFor(base, sender) : base;
  const untrained = model.spamMessages < MIN_TRAINED_PER_CLASS || model.hamMessages < MIN_TRAINED_PER_CLASS;
  const score = model.score(tokens);
  return { spam: !untrained && score >= threshold, score, threshold, untrained, ...(sender && { sender }) };
}

/** `X-Postern-Junk: yes; score=0.993; threshold=0.900; sender=new` (CRLF-terminated). */
export function verdictField(v: Verdict): string {
  const word = v.untrained ? 'untrained' : v.spam ? 'yes' : 'no';
  const sender = v.sender ? `; sender=${v.sender}` : '';
  return `${VERDICT_FIELD}: ${word}; score=${v.score.toFixed(3)}; threshold=${v.threshold.toFixed(3)}${sender}\r\n`;
}
