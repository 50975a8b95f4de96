import type { SparseVector } from './vector-index';

/**
 * Lexical sparse vectors for hybrid retrieval, the same in every profile: text is split into
 * lower-cased letter/digit tokens, stop-words and one-character tokens are dropped, each term
 * is hashed to a stable unsigned 32-bit index (FNV-1a over its UTF-8 bytes) and weighted by
 * `1 + ln(term frequency)`. Documents and queries are encoded alike, so the dot product of two
 * vectors scores shared terms. No IDF: scores do not depend on the rest of the collection.
 */

const STOP_WORDS: ReadonlySet<string> = new Set(
  (
    'a about above after again against all am an and any are as at be because been before being below between both ' +
    'but by can could did do does doing down during each few for from further had has have having he her here hers ' +
    'herself him himself his how i if in into is it its itself just me more most my myself no nor not of off on once ' +
    'only or other our ours ourselves out over own same she should so some such than that the their theirs them ' +
    'themselves then there these they this those through to too under until up very was we were what when where ' +
    'which while who whom why will with would you your yours yourself yourselves'
  ).split(' '),
);

const TOKEN = /[\p{L}\p{N}]+/gu;
const encoder = new TextEncoder();

export function isStopWord(term: string): boolean {
  return STOP_WORDS.has(term);
}

/** Lower-cased terms of `text` in order, stop-words and one-character tokens removed. */
export function tokenize(text: string): string[] {
  const terms: string[] = [];
  for (const match of text.normalize('NFKC').toLowerCase().matchAll(TOKEN)) {
    const term = match[0];
    if (term.length > 1 && !STOP_WORDS.has(term)) terms.push(term);
  }
  return terms;
}

/** FNV-1a, 32 bits, over the UTF-8 bytes of `term`: an unsigned integer, stable across runs and platforms. */
export function termIndex(term: string): number {
  let hash = 0x811c9dc5;
  for (const byte of encoder.encode(term)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The sparse vector of `text`: indices ascending and unique, weights `1 + ln(tf)`. Empty text gives an empty vector. */
export function encodeSparse(text: string): SparseVector {
  const counts = new Map<number, number>();
  for (const term of tokenize(text)) {
    const index = termIndex(term);
    counts.set(index, (counts.get(index) ?? 0) + 1);
  }
  const indices = [...counts.keys()].sort((a, b) => a - b);
  return { indices, values: indices.map((i) => 1 + Math.log(counts.get(i) ?? 1)) };
}

/** Dot product of two sparse vectors (indices need not be sorted). */
export function sparseDot(a: SparseVector, b: SparseVector): number {
  const weights = new Map<number, number>();
  a.indices.forEach((index, i) => weights.set(index, (weights.get(index) ?? 0) + (a.values[i] ?? 0)));
  let sum = 0;
  b.indices.forEach((index, i) => {
    const w = weights.get(index);
    if (w !== undefined) sum += w * (b.values[i] ?? 0);
  });
  return sum;
}
