// The junk filter as delivery uses it: score a message for an account and say where it goes, with
// the verdict in a header field (X-Postern-Junk) that the user's client and Sieve (spamtest) read.
// Classification is synchronous and cheap (hash lookups in the loaded model); loading a model and
// training happen elsewhere.

import { DEFAULT_THRESHOLD, MIN_TRAINED_PER_CLASS } from './limits.js';
import type { AccountModel } from './model.js';

export const VERDICT_FIELD = 'X-Postern-Junk';

export interface Verdict {
  spam: boolean;
  score: number;
  threshold: number;
  /** Too few messages of one class trained yet: no verdict, the score is only recorded. */
  untrained: boolean;
}

export function classify(model: AccountModel, tokens: readonly number[], defaultThreshold = DEFAULT_THRESHOLD): Verdict {
  const threshold = model.threshold ?? defaultThreshold;
  const untrained = model.spamMessages < MIN_TRAINED_PER_CLASS || model.hamMessages < MIN_TRAINED_PER_CLASS;
  const score = model.score(tokens);
  return { spam: !untrained && score >= threshold, score, threshold, untrained };
}

/** `X-Postern-Junk: yes; score=0.993; threshold=0.900` (CRLF-terminated). */
export function verdictField(v: Verdict): string {
  const word = v.untrained ? 'untrained' : v.spam ? 'yes' : 'no';
  return `${VERDICT_FIELD}: ${word}; score=${v.score.toFixed(3)}; threshold=${v.threshold.toFixed(3)}\r\n`;
}
