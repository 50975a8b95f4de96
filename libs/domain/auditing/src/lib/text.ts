/**
 * Text normalisation and tokenisation shared by every metric in this library.
 *
 * normalise(text):
 *   1. Unicode NFKD, combining marks removed ("café" → "cafe"), lower-cased;
 *   2. apostrophes removed inside words ("can't" → "cant", "employee's" → "employees");
 *   3. thousands separators removed between digits ("1,000" → "1000").
 * tokenise(text): the normalised text split into runs of letters/digits; a decimal part stays
 * attached to its number ("2.5"); every other punctuation mark is a separator and is dropped.
 * Optionally articles (SQuAD) or English stop words are removed.
 */

const APOSTROPHES = /['\u2018\u2019\u02bc`]/gu;
const THOUSANDS = /(\p{N}),(?=\p{N}{3}(?!\p{N}))/gu;
const TOKEN = /[\p{L}\p{N}]+(?:\.\p{N}+)*/gu;
const TOKEN_OR_CURRENCY = /[$€£¥]|[\p{L}\p{N}]+(?:\.\p{N}+)*/gu;

export const ARTICLES: ReadonlySet<string> = new Set(['a', 'an', 'the']);

/**
 * English function words, including modal verbs and negations (so they never count as key terms
 * or drive near-duplicate similarity). Tokens are in normalised form (no apostrophes).
 */
export const STOP_WORDS: ReadonlySet<string> = new Set(
  `a about above after again against all also always am an and any are arent as at be because been before
being below between both but by can cannot cant could couldnt did didnt do does doesnt doing dont down
during each either etc ever every few for from further had hadnt has hasnt have havent having he her here hers
herself him himself his how however i if in into is isnt it its itself just let lets may me might more
most must mustnt my myself need needs neither never no nor not now of off on once only or other ought our
ours ourselves out over own per same shall shant she should shouldnt so some such than that thats the
their theirs them themselves then there theres these they this those through thus to too under until
up upon us very via was wasnt we were werent what whats when where whether which while who whom whose
why will with within without wont would wouldnt yes yet you your youre yours yourself yourselves
ive im id youve youd hes shes weve were theyre theyve`.split(/\s+/u),
);

export type StopWordMode = 'none' | 'articles' | 'english';

export interface TokeniseOptions {
  /** Which function words to drop: none (default), articles only (SQuAD) or English stop words. */
  stopWords?: StopWordMode;
}

export function normalise(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(APOSTROPHES, '')
    .replace(THOUSANDS, '$1');
}

function dropped(mode: StopWordMode): ReadonlySet<string> | null {
  if (mode === 'articles') return ARTICLES;
  if (mode === 'english') return STOP_WORDS;
  return null;
}

export function tokenise(text: string, options: TokeniseOptions = {}): string[] {
  const tokens = normalise(text).match(TOKEN) ?? [];
  const drop = dropped(options.stopWords ?? 'none');
  return drop ? tokens.filter((t) => !drop.has(t)) : tokens;
}

/** Like tokenise (no stop-word removal) but currency symbols ($ € £ ¥) are kept as tokens of their own. */
export function tokeniseWithCurrency(text: string): string[] {
  return normalise(text).match(TOKEN_OR_CURRENCY) ?? [];
}

/** Splits text into sentences at . ! ? ; and line breaks (a decimal point between digits does not split). */
export function sentences(text: string): string[] {
  return text
    .split(/(?<!\d)[.!?;]+|[.!?;]+(?!\d)|\n+/u)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * Folds simple English plurals so that "days" matches "day" and "policies" matches "policy":
 * "-ies" → "-y" (length > 4); a final "s" is dropped (length > 3) unless the word ends in "ss", "us" or "is".
 * Numbers are never folded.
 */
export function foldPlural(token: string): string {
  if (/^\p{N}/u.test(token)) return token;
  if (token.length > 4 && token.endsWith('ies')) return `${token.slice(0, -3)}y`;
  if (token.length > 3 && token.endsWith('s') && !/(?:ss|us|is)$/u.test(token)) return token.slice(0, -1);
  return token;
}
