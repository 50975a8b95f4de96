import { foldPlural, STOP_WORDS, tokenise, tokeniseWithCurrency } from './text';

/**
 * Key terms of a clause: what an answer that relies on the clause should mention.
 *
 * Extraction (deterministic, in order of first occurrence, duplicates removed):
 * - amounts: a number token with the currency symbol just before it ("$100") and/or the unit
 *   words just after it ("30 days", "3 business days", "5 percent"): matched on the number and unit tokens;
 * - content words: every other token that is not an English stop word (modal verbs and negations
 *   included in those), not a bare unit word consumed by an amount, and at least 3 characters long
 *   (numbers of any length count).
 * A term is found in an answer when its tokens occur contiguously in the answer's tokens,
 * comparing tokens after plural folding (foldPlural).
 */

export type KeyTermKind = 'amount' | 'word';

export interface KeyTerm {
  /** Readable form, e.g. "$100", "30 days", "supplier". */
  text: string;
  kind: KeyTermKind;
  /** Normalised tokens the answer must contain, contiguously. */
  tokens: string[];
}

/** Unit words that attach to a preceding number to form an amount. */
export const UNIT_WORDS: ReadonlySet<string> = new Set(
  `second seconds minute minutes hour hours day days week weeks month months year years
percent pct dollar dollars usd euro euros eur pound pounds gbp cent cents k m bn million millions
billion billions thousand thousands times item items`.split(/\s+/u),
);
/** Qualifiers that may sit between a number and its unit ("3 business days"). */
const UNIT_QUALIFIERS: ReadonlySet<string> = new Set(['business', 'working', 'calendar', 'consecutive']);
const CURRENCY: ReadonlySet<string> = new Set(['$', '€', '£', '¥']);
const NUMBER = /^\p{N}+(?:\.\p{N}+)*$/u;

export function isNumberToken(token: string): boolean {
  return NUMBER.test(token);
}

function termKey(tokens: readonly string[]): string {
  return tokens.map(foldPlural).join(' ');
}

export function extractKeyTerms(text: string): KeyTerm[] {
  const tokens = tokeniseWithCurrency(text);
  const terms: KeyTerm[] = [];
  const seen = new Set<string>();
  const add = (term: KeyTerm): void => {
    const key = termKey(term.tokens);
    if (seen.has(key)) return;
    seen.add(key);
    terms.push(term);
  };
  for (let i = 0; i < tokens.length; i += 1) {
    const token = tokens[i] as string;
    if (CURRENCY.has(token)) continue;
    if (isNumberToken(token)) {
      const currency = i > 0 && CURRENCY.has(tokens[i - 1] as string) ? (tokens[i - 1] as string) : '';
      const termTokens = [token];
      let j = i + 1;
      const next = tokens[j];
      const afterNext = tokens[j + 1];
      if (next !== undefined && UNIT_QUALIFIERS.has(next) && afterNext !== undefined && UNIT_WORDS.has(afterNext)) {
        termTokens.push(next, afterNext);
        j += 2;
      } else if (next !== undefined && UNIT_WORDS.has(next)) {
        termTokens.push(next);
        j += 1;
      }
      add({ text: `${currency}${termTokens.join(' ')}`, kind: 'amount', tokens: termTokens });
      i = j - 1;
      continue;
    }
    if (token.length < 3 || STOP_WORDS.has(token)) continue;
    add({ text: token, kind: 'word', tokens: [token] });
  }
  return terms;
}

/** Key terms of several clauses together, duplicates (after plural folding) removed. */
export function extractKeyTermsOfAll(texts: readonly string[]): KeyTerm[] {
  const seen = new Set<string>();
  const all: KeyTerm[] = [];
  for (const text of texts) {
    for (const term of extractKeyTerms(text)) {
      const key = termKey(term.tokens);
      if (seen.has(key)) continue;
      seen.add(key);
      all.push(term);
    }
  }
  return all;
}

function containsSequence(haystack: readonly string[], needle: readonly string[]): boolean {
  if (needle.length === 0) return true;
  outer: for (let i = 0; i + needle.length <= haystack.length; i += 1) {
    for (let j = 0; j < needle.length; j += 1) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return true;
  }
  return false;
}

export interface Coverage {
  /** found / total; 1 when there are no key terms (nothing to cover). */
  coverage: number;
  found: KeyTerm[];
  missing: KeyTerm[];
}

/** Share of the given key terms that the answer contains. */
export function coverageOfTerms(answer: string, terms: readonly KeyTerm[]): Coverage {
  const answerTokens = tokenise(answer).map(foldPlural);
  const found: KeyTerm[] = [];
  const missing: KeyTerm[] = [];
  for (const term of terms) {
    (containsSequence(answerTokens, term.tokens.map(foldPlural)) ? found : missing).push(term);
  }
  return { coverage: terms.length === 0 ? 1 : found.length / terms.length, found, missing };
}

/** Key-term coverage of one clause by an answer. */
export function keyTermCoverage(answer: string, clauseText: string): Coverage {
  return coverageOfTerms(answer, extractKeyTerms(clauseText));
}
