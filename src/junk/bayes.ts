// The statistical classifier: Gary Robinson's token probabilities with a prior, combined with
// Fisher's chi-square method (the SpamBayes scheme). A score near 1 is spam, near 0 ham; the
// middle means the evidence is weak or mixed.

import { MAX_DISCRIMINATORS } from './limits.js';

/** Robinson's prior strength and the probability of a token never seen. */
const PRIOR_WEIGHT = 0.45;
const UNKNOWN_PROB = 0.5;
/** Tokens closer than this to 0.5 are not evidence. */
const MIN_STRENGTH = 0.1;

export interface TokenCounts {
  /** Spam and ham messages containing the token. */
  spam: number;
  ham: number;
}

export interface ClassCounts {
  spamMessages: number;
  hamMessages: number;
}

/** The probability that a message with this token is spam, shrunk towards 0.5 when rarely seen. */
export function tokenProbability(t: TokenCounts, c: ClassCounts): number {
  const spamRatio = t.spam / Math.max(c.spamMessages, 1);
  const hamRatio = t.ham / Math.max(c.hamMessages, 1);
  const raw = spamRatio + hamRatio === 0 ? UNKNOWN_PROB : spamRatio / (spamRatio + hamRatio);
  const n = t.spam + t.ham;
  return (PRIOR_WEIGHT * UNKNOWN_PROB + n * raw) / (PRIOR_WEIGHT + n);
}

/** Score of a message from its tokens' probabilities. */
export function combine(probs: number[]): number {
  const clues = probs.filter((p) => Math.abs(p - 0.5) >= MIN_STRENGTH);
  if (clues.length > MAX_DISCRIMINATORS) {
    clues.sort((a, b) => Math.abs(b - 0.5) - Math.abs(a - 0.5));
    clues.length = MAX_DISCRIMINATORS;
  }
  if (clues.length === 0) return 0.5;
  let lnSpam = 0;
  let lnHam = 0;
  for (const p of clues) {
    const q = Math.min(Math.max(p, 1e-6), 1 - 1e-6);
    lnHam += Math.log(1 - q);
    lnSpam += Math.log(q);
  }
  const n = clues.length;
  const s = 1 - chi2Q(-2 * lnHam, 2 * n);
  const h = 1 - chi2Q(-2 * lnSpam, 2 * n);
  return (s - h + 1) / 2;
}

/** P(chi-square with v (even) degrees of freedom >= x2). */
export function chi2Q(x2: number, v: number): number {
  const m = x2 / 2;
  let term = Math.exp(-m);
  let sum = term;
  for (let i = 1; i < v / 2; i++) {
    term *= m / i;
    sum += term;
  }
  return Math.min(sum, 1);
}
