import { z } from 'zod';
import { ARTICLES, foldPlural, tokenise } from '@studio/auditing';
import setFile from '../data/general-ability.v1.json';
import { wilson, type RateCI } from './stats';

/**
 * General ability: a fixed general-purpose question set written for the project (see `provenance` in
 * src/data/general-ability.v1.json), answered by the base and the aligned models so that the audit can report
 * how much alignment cost in ordinary ability.
 *
 * Scoring (scoreGeneralAbility) reads the first sentence of the reply that is not filler ("Sure!", "Answer:"):
 * - an accepted answer that is a number (digits, or one number word such as "twelve") is compared as a number
 *   with the sentence's answer number: the first number in the sentence that does not occur in the question,
 *   or the sentence's first number when all of them do (a reading-comprehension answer quoted from the passage);
 * - any other accepted answer must appear in the sentence as a contiguous run of tokens, compared after
 *   normalisation (lower case, accents and punctuation dropped, articles dropped, plurals folded, number words
 *   read as numbers), and no distractor of the item (a wrong option the question names) may appear before it
 *   ("Sara is older than Tom" is wrong for "Tom").
 */

export const GeneralAbilityItem = z.object({
  id: z.string().min(1),
  category: z.string().min(1),
  question: z.string().min(1),
  answers: z.array(z.string().min(1)).min(1),
  /** Wrong options the question itself names ("Who is older, Tom or Sara?"): a reply naming one before the answer is wrong. */
  distractors: z.array(z.string().min(1)).optional(),
});
export type GeneralAbilityItem = z.infer<typeof GeneralAbilityItem>;

export const GeneralAbilitySet = z
  .object({
    version: z.string().min(1),
    provenance: z.string().min(1),
    items: z.array(GeneralAbilityItem).min(1),
  })
  .superRefine((set, ctx) => {
    const seen = new Set<string>();
    for (const item of set.items) {
      if (seen.has(item.id)) ctx.addIssue({ code: 'custom', message: `duplicate general-ability item id ${item.id}` });
      seen.add(item.id);
    }
  });
export type GeneralAbilitySet = z.infer<typeof GeneralAbilitySet>;

function loadSet(raw: unknown): GeneralAbilitySet {
  const parsed = GeneralAbilitySet.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`general-ability.v1.json is not a valid general-ability set: ${problems}`);
  }
  return parsed.data;
}

/** The fixed set shipped with the library. */
export const GENERAL_ABILITY_SET: GeneralAbilitySet = loadSet(setFile);

const NUMBER_WORDS: Readonly<Record<string, string>> = {
  zero: '0',
  one: '1',
  two: '2',
  three: '3',
  four: '4',
  five: '5',
  six: '6',
  seven: '7',
  eight: '8',
  nine: '9',
  ten: '10',
  eleven: '11',
  twelve: '12',
  thirteen: '13',
  fourteen: '14',
  fifteen: '15',
  sixteen: '16',
  seventeen: '17',
  eighteen: '18',
  nineteen: '19',
  twenty: '20',
  thirty: '30',
  forty: '40',
  fifty: '50',
  sixty: '60',
  seventy: '70',
  eighty: '80',
  ninety: '90',
  hundred: '100',
  thousand: '1000',
};

const NUMBER = /^\p{N}+(?:\.\p{N}+)?$/u;

function tokens(text: string): string[] {
  return tokenise(text)
    .filter((t) => !ARTICLES.has(t))
    .map((t) => NUMBER_WORDS[t] ?? foldPlural(t));
}

function numbersOf(text: string): number[] {
  return tokens(text)
    .filter((t) => NUMBER.test(t))
    .map(Number);
}

/** Openers that carry no answer. */
const FILLER: ReadonlySet<string> = new Set(
  'sure okay ok certainly of course great good question well hmm let me think here is the answer alright happy to help glad'.split(' '),
);

/** The first sentence of the reply that is not filler, with an "Answer:" / "A:" label removed. */
export function answerSentence(reply: string): string {
  const parts = reply
    .split(/(?<=[.!?])\s+|\n+/u)
    .map((s) => s.replace(/^\s*(?:answer|a)\s*[:=-]\s*/iu, '').trim())
    .filter((s) => s.length > 0);
  for (const part of parts) {
    const words = tokenise(part);
    if (words.length > 0 && words.every((w) => FILLER.has(w))) continue;
    return part;
  }
  return '';
}

/** Index of the first occurrence of the needle's tokens, contiguous, in the haystack; -1 when absent. */
function indexOfRun(haystack: readonly string[], needle: readonly string[]): number {
  if (needle.length === 0) return -1;
  outer: for (let i = 0; i + needle.length <= haystack.length; i += 1) {
    for (let j = 0; j < needle.length; j += 1) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

export function scoreGeneralAbility(item: GeneralAbilityItem, answer: string): boolean {
  const sentence = answerSentence(answer);
  if (sentence.length === 0) return false;
  const sentenceTokens = tokens(sentence);
  const sentenceNumbers = numbersOf(sentence);
  const questionNumbers = new Set(numbersOf(item.question));
  const answerNumber = sentenceNumbers.find((n) => !questionNumbers.has(n)) ?? sentenceNumbers[0];
  const firstDistractor = Math.min(...(item.distractors ?? []).map((d) => indexOfRun(sentenceTokens, tokens(d))).filter((i) => i >= 0));
  return item.answers.some((accepted) => {
    const acceptedTokens = tokens(accepted);
    if (acceptedTokens.length === 1 && NUMBER.test(acceptedTokens[0] as string)) {
      return answerNumber !== undefined && answerNumber === Number(acceptedTokens[0]);
    }
    const at = indexOfRun(sentenceTokens, acceptedTokens);
    return at >= 0 && at < firstDistractor;
  });
}

export interface GeneralAbilityResult {
  /** Items answered (the answers given). */
  items: number;
  correct: number;
  accuracy: RateCI;
  /** Accuracy per category of the answered items. */
  byCategory: Record<string, RateCI>;
}

/**
 * Scores answers keyed by item id against the set (default: the shipped set). Only the items answered are
 * counted; an id the set does not have is an error.
 */
export function generalAbility(
  answers: Readonly<Record<string, string>>,
  set: Pick<GeneralAbilitySet, 'items' | 'version'> = GENERAL_ABILITY_SET,
): GeneralAbilityResult {
  const byId = new Map(set.items.map((item) => [item.id, item]));
  const unknown = Object.keys(answers).filter((id) => !byId.has(id));
  if (unknown.length > 0) {
    throw new Error(`generalAbility: ${unknown.length} answer(s) for items not in ${set.version}: ${unknown.slice(0, 5).join(', ')}`);
  }
  let correct = 0;
  const categories = new Map<string, { k: number; n: number }>();
  for (const [id, answer] of Object.entries(answers)) {
    const item = byId.get(id) as GeneralAbilityItem;
    const right = scoreGeneralAbility(item, answer);
    if (right) correct += 1;
    const c = categories.get(item.category) ?? { k: 0, n: 0 };
    c.n += 1;
    if (right) c.k += 1;
    categories.set(item.category, c);
  }
  const items = Object.keys(answers).length;
  const byCategory: Record<string, RateCI> = {};
  for (const category of [...categories.keys()].sort()) {
    const c = categories.get(category) as { k: number; n: number };
    byCategory[category] = wilson(c.k, c.n);
  }
  return { items, correct, accuracy: wilson(correct, items), byCategory };
}
