import { polarityFlipped } from './polarity';
import { tokenise } from './text';

/**
 * SQuAD token F1 between a candidate and a reference.
 * Both are tokenised with articles removed; the overlap is the multiset intersection.
 * P = overlap / |candidate|, R = overlap / |reference|, F1 = 2PR / (P + R).
 * Both empty → 1; exactly one empty, or no overlap → 0.
 */
export function tokenF1(candidate: string, reference: string): number {
  return tokenF1OfTokens(tokenise(candidate, { stopWords: 'articles' }), tokenise(reference, { stopWords: 'articles' }));
}

export function tokenF1OfTokens(candidate: readonly string[], reference: readonly string[]): number {
  if (candidate.length === 0 || reference.length === 0) return candidate.length === reference.length ? 1 : 0;
  const counts = new Map<string, number>();
  for (const t of reference) counts.set(t, (counts.get(t) ?? 0) + 1);
  let overlap = 0;
  for (const t of candidate) {
    const left = counts.get(t) ?? 0;
    if (left > 0) {
      overlap += 1;
      counts.set(t, left - 1);
    }
  }
  if (overlap === 0) return 0;
  const precision = overlap / candidate.length;
  const recall = overlap / reference.length;
  return (2 * precision * recall) / (precision + recall);
}

/** Length of the longest common subsequence of two token sequences (O(n·m) time, O(min(n,m)) memory). */
export function lcsLength(a: readonly string[], b: readonly string[]): number {
  const [long, short] = a.length >= b.length ? [a, b] : [b, a];
  let previous = new Array<number>(short.length + 1).fill(0);
  let current = new Array<number>(short.length + 1).fill(0);
  for (const x of long) {
    for (let j = 1; j <= short.length; j += 1) {
      current[j] = x === short[j - 1] ? (previous[j - 1] ?? 0) + 1 : Math.max(previous[j] ?? 0, current[j - 1] ?? 0);
    }
    [previous, current] = [current, previous];
  }
  return previous[short.length] ?? 0;
}

/**
 * ROUGE-L F-measure (β = 1) between a candidate and a reference over normalised tokens (stop words kept).
 * P = LCS / |candidate|, R = LCS / |reference|, F = 2PR / (P + R).
 * Both empty → 1; exactly one empty, or LCS = 0 → 0.
 */
export function rougeL(candidate: string, reference: string): number {
  const c = tokenise(candidate);
  const r = tokenise(reference);
  if (c.length === 0 || r.length === 0) return c.length === r.length ? 1 : 0;
  const lcs = lcsLength(c, r);
  if (lcs === 0) return 0;
  const precision = lcs / c.length;
  const recall = lcs / r.length;
  return (2 * precision * recall) / (precision + recall);
}

export interface CorrectnessWeights {
  tokenF1: number;
  rougeL: number;
}

/** correctness = 0.5 · tokenF1 + 0.5 · ROUGE-L against the reference answer. */
export const DEFAULT_CORRECTNESS_WEIGHTS: Readonly<CorrectnessWeights> = Object.freeze({ tokenF1: 0.5, rougeL: 0.5 });

export interface CorrectnessScore {
  tokenF1: number;
  rougeL: number;
  correctness: number;
  /** The reference opens with a clear yes or no and the answer with the opposite one: correctness is 0. */
  polarityFlipped: boolean;
}

/**
 * Correctness of an answer against the reference: the weighted mean
 * (w_f1 · tokenF1 + w_rl · ROUGE-L) / (w_f1 + w_rl), by default the plain mean of the two — except that
 * an answer whose yes/no polarity is the opposite of the reference's ("Yes. Employees may …" against
 * "No. Employees must never …", see `polarityOf`) scores 0, however many words it copies from the rule.
 * tokenF1 and rougeL are still reported as measured.
 */
export function correctness(
  answer: string,
  reference: string,
  weights: CorrectnessWeights = DEFAULT_CORRECTNESS_WEIGHTS,
): CorrectnessScore {
  if (!(weights.tokenF1 >= 0 && weights.rougeL >= 0 && weights.tokenF1 + weights.rougeL > 0)) {
    throw new Error(
      `correctness weights must be non-negative with a positive sum, got tokenF1=${weights.tokenF1} rougeL=${weights.rougeL}`,
    );
  }
  const f1 = tokenF1(answer, reference);
  const rl = rougeL(answer, reference);
  const flipped = polarityFlipped(answer, reference);
  return {
    tokenF1: f1,
    rougeL: rl,
    correctness: flipped ? 0 : (weights.tokenF1 * f1 + weights.rougeL * rl) / (weights.tokenF1 + weights.rougeL),
    polarityFlipped: flipped,
  };
}

/** Arithmetic mean; null for an empty list. */
export function mean(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}
