/**
 * Helpers that keep template-generated text grammatical and self-contained: verb phrases and noun
 * phrases read through the `compromise` parser (is the action a verb phrase, its past tense, the
 * singular of an actor), conditions without a doubled connective ("only only when …"), "whether …"
 * clauses without a double negation, and references ("that period", "such a request", "it") that
 * point to nothing once a phrase is lifted out of its clause.
 */
import nlp from 'compromise';
import { memoised } from './memo';

/** compromise's tags of one word read on its own (its lexicon's reading, no sentence context). */
export const lexicalTags = memoised((word: string): string[] => [...(nlp(word).docs.flat()[0]?.tags ?? [])], 16384);

const isInfinitive = (word: string): boolean => lexicalTags(word).includes('Infinitive');
/** A manner adverb before a verb ("promptly notify"); "such", "only" and the like are no part of a verb phrase. */
const isAdverb = (word: string): boolean => /ly$/.test(word) && lexicalTags(word).includes('Adverb');

/** A verb's forms, from compromise's conjugator, for a word known to be an infinitive. */
const conjugate = memoised((infinitive: string): { past: string; present: string } | null => {
  const doc = nlp(infinitive);
  doc.tag('Infinitive');
  const forms = (doc.verbs().conjugate() as Array<Record<string, string>>)[0];
  if (!forms?.['PastTense'] || !forms['PresentTense']) return null;
  return { past: forms['PastTense'], present: forms['PresentTense'] };
}, 4096);

/**
 * The head of a verb phrase: its leading verbs as infinitives with what joins them ("use or
 * disclose", "promptly notify"), and the rest. Null when the phrase does not start with a verb in
 * its base form ("gifts …", "such use …", "be …" counts as a verb).
 */
export interface VerbPhrase {
  /** Words before the verbs (adverbs: "promptly"). */
  adverbs: string[];
  /** The coordinated infinitives ("use", "disclose") and their joiners ("or"). */
  verbs: string[];
  joiners: string[];
  rest: string;
}

export function verbPhrase(action: string): VerbPhrase | null {
  const words = action.trim().split(/\s+/);
  let i = 0;
  const adverbs: string[] = [];
  while (i < words.length - 1 && isAdverb(words[i] as string) && !isInfinitive(words[i] as string)) adverbs.push(words[i++] as string);
  const first = words[i];
  if (first === undefined || !/^[a-z]+$/.test(first) || !isInfinitive(first)) return null;
  const verbs = [first];
  const joiners: string[] = [];
  i += 1;
  // "use or disclose", "retain and protect": coordinated infinitives share the object.
  while (i + 1 < words.length && /^(?:or|and)$/.test(words[i] as string) && isInfinitive(words[i + 1] as string)) {
    joiners.push(words[i] as string);
    verbs.push(words[i + 1] as string);
    i += 2;
  }
  return { adverbs, verbs, joiners, rest: words.slice(i).join(' ') };
}

/**
 * The action in the past tense, conjugated by compromise ("use or disclose protected health
 * information" → "used or disclosed protected health information"); null when the action is no
 * verb phrase, is passive ("be …"), a verb has no past form, or a later "and/or VERB" would be left
 * unconjugated.
 */
export function pastTenseOf(action: string): string | null {
  const vp = verbPhrase(action);
  if (!vp || vp.verbs.includes('be')) return null;
  // "document the titles … and retain the documentation": a later coordinated verb would stay in
  // the base form; such a phrase gets no past tense rather than a half-conjugated one.
  for (const m of vp.rest.matchAll(/\b(?:and|or)\s+([a-z]+)\s+(\S+)/g)) {
    const word = m[1] as string;
    const tags = lexicalTags(word);
    if (tags.includes('Determiner') || tags.includes('Preposition') || tags.includes('Pronoun') || /(?:ing|s)$/.test(word)) continue;
    // A base-form verb for the lexicon, or a word with an object after it ("and retain the documentation").
    if (
      (tags.includes('Infinitive') && !tags.includes('Noun')) ||
      DETERMINER_WORD.test(m[2] as string) ||
      /^(?:its|their|such)$/.test(m[2] as string)
    )
      return null;
  }
  const past: string[] = [];
  for (const v of vp.verbs) {
    const forms = conjugate(v);
    if (!forms) return null;
    past.push(forms.past);
  }
  const head = past.flatMap((v, k) => (k === 0 ? [v] : [vp.joiners[k - 1] as string, v])).join(' ');
  return [...vp.adverbs, head, vp.rest].filter(Boolean).join(' ');
}

const DETERMINER_WORD = /^(?:a|an|the|any|each|every|all)$/i;

/** "a" or "an" before a word, by its sound as far as its spelling shows. */
export function indefiniteArticle(word: string): 'a' | 'an' {
  if (/^(?:uni|use|usu|uti|eu|one|once)/i.test(word)) return 'a';
  if (/^(?:hour|honest|honou?r|heir)/i.test(word)) return 'an';
  if (/^[A-Z]{2,}/.test(word)) return /^[AEFHILMNORSX]/.test(word) ? 'an' : 'a';
  return /^[aeiou]/i.test(word) ? 'an' : 'a';
}

/**
 * One member of the group a noun phrase names, as an indefinite noun phrase: "the covered entity" →
 * "a covered entity", "Employees" → "an employee" (singular by compromise). Null where a plural head
 * has words after it (a relative clause's verb would need re-inflecting) or the phrase is a name.
 */
export function oneOf(np: string): string | null {
  const words = np.trim().split(/\s+/);
  const first = words[0];
  if (first === undefined) return null;
  if (/^(?:a|an)$/i.test(first)) return [first.toLowerCase(), ...words.slice(1)].join(' ');
  if (/^(?:the|any|each|every)$/i.test(first)) {
    const next = words[1];
    if (next === undefined || lexicalTags(next).includes('Plural')) return null;
    return [indefiniteArticle(next), ...words.slice(1)].join(' ');
  }
  // "Employees", "Managers": a plural head noun first, nothing after it that agrees with a plural.
  if (words.length === 1 && lexicalTags(first).includes('Plural')) {
    const singular = nlp(first).nouns().toSingular().text();
    if (!singular || singular.toLowerCase() === first.toLowerCase()) return null;
    const lower = /^[A-Z][a-z]/.test(singular) ? singular.toLowerCase() : singular;
    return `${indefiniteArticle(lower)} ${lower}`;
  }
  return null;
}

/** A noun phrase as it reads inside a sentence: a leading determiner or a capitalised common plural in lower case. */
export function inSentence(np: string): string {
  const [first, second] = np.split(/\s+/);
  if (first === undefined) return np;
  if (DETERMINER_WORD.test(first)) return first.toLowerCase() + np.slice(first.length);
  // "Managers who …" → "managers who …"; keep names ("Corporate Communications", "IT").
  if (/^[A-Z][a-z]+s$/.test(first) && !(second && /^[A-Z]/.test(second)) && lexicalTags(first).includes('Plural')) {
    return first.toLowerCase() + np.slice(first.length);
  }
  return np;
}

/** Leading connectives of an extracted condition, longest first. */
const CONNECTIVE = /^(?:only\s+)?(provided that|as long as|so long as|only if|only when|only where|if|when|whenever|where|once|unless)\s+/i;
const LEADING_ONLY = /^only\s+/i;

/** A condition split into its connective (lower case, "only" dropped) and its content. */
export interface ConditionParts {
  /** "if", "when", "where", "provided that", …; null for a phrase such as "with the approval of …". */
  connective: string | null;
  content: string;
}

export function conditionParts(condition: string): ConditionParts {
  const text = condition.trim();
  const m = CONNECTIVE.exec(text);
  if (m) return { connective: (m[1] as string).toLowerCase().replace(/^only\s+/, ''), content: text.slice(m[0].length) };
  return { connective: null, content: text.replace(LEADING_ONLY, '') };
}

/**
 * The condition restated after "only": "only when they are reasonable", "only if the total value …",
 * "only with the written approval of …" — whatever connective the extracted condition started with.
 */
export function onlyPhrase(condition: string): string {
  const { connective, content } = conditionParts(condition);
  if (connective === null) return `only ${content}`;
  if (connective === 'unless') return `unless ${content}`;
  if (/^(?:provided that|as long as|so long as)$/.test(connective)) return `only if ${content}`;
  return `only ${connective} ${content}`;
}

const AUX_NOT = /\b(is|are|was|were|has|have|had|can|could|will|would|should|may|might)\s+not\b/gi;
const CANNOT = /\bcannot\b/gi;
/** Negations that cannot be dropped without re-inflecting a verb ("does not exceed") or rewording. */
const HARD_NEGATION = /\b(?:not|never|no|none|nothing|nobody|neither|nor|without|cannot|n't)\b/i;

/**
 * A proposition fit to follow "whether": "whether X" and "whether not X" ask the same question,
 * so a single auxiliary negation is dropped ("the value of a Gift is not known" → "the value of a
 * Gift is known"). Null when the proposition carries a negation that cannot be dropped cleanly
 * ("does not exceed", "never", two negations): the caller should not render it.
 */
export function whetherProposition(proposition: string): string | null {
  const text = conditionParts(proposition).content;
  const negations = (text.match(/\b(?:not|never|no|none|nothing|nobody|neither|nor|cannot)\b|n't\b/gi) ?? []).length;
  if (negations === 0) return text;
  if (negations > 1) return null;
  const dropped = text.replace(AUX_NOT, '$1').replace(CANNOT, 'can');
  return HARD_NEGATION.test(dropped) ? null : dropped;
}

/** Nouns after "this/these/that" that name the document itself: they resolve without context. */
/** Also the parts of a legal text ("this subpart", "this section", "this paragraph"), which name where the reader already is. */
const DOCUMENT_NOUNS =
  /^(?:guidelines?|policy|policies|code|rules?|document|regulations?|title|chapter|subchapter|part|subpart|section|subsection|paragraph|subparagraph|article|schedule|annex|appendix)$/i;
/** Words after "that"/"this"/"such" that show it is not a demonstrative before a noun. */
const NOT_A_NOUN = new Set(
  `a an the as is are was were be been has have had do does did can could may might must shall should will would
it its they them their he she his her we you i this that these those there here which who whom whose what
not no any all each every some one in on of to for from with by at or and but if when where so`.split(/\s+/),
);
/** Nouns for people: "the individual" is no antecedent for "it". */
const PERSON_NOUNS =
  /^(?:individual|person|people|employees?|colleagues?|managers?|customers?|journalists?|engineers?|staff|officials?|relatives?|partners?|director|officers?|someone|anyone|everyone|recipients?|investors?|analysts?)$/i;
/** Words ending in "s" that are no plural noun. */
const NOT_PLURAL = new Set([
  'its',
  'has',
  'was',
  'does',
  'this',
  'as',
  'yes',
  'always',
  'unless',
  'whereas',
  'less',
  'thus',
  'perhaps',
  'towards',
  'afterwards',
  'sometimes',
  'otherwise',
  'besides',
]);
const PRONOUN_IT = /\b(?:[Ii]t|[Ii]ts|itself)\b/;
const PRONOUN_THEY = /\b(?:[Tt]hey|them|their|themselves)\b/;
const DETERMINED_NP = /\b(?:a|an|the|any|every|each|one|this|that)\s+((?:[A-Za-z$][\w'$-]*\s+){0,3}?)([A-Za-z][\w-]*)\b/g;
const PLURAL_NP = /\b(?:the|all|any|some|these|those)?\s*([A-Za-z][\w-]*s)\b/g;

const MODAL_OR_VERB = /^(?:must|shall|may|should|will|report|send|receive|forward|open|click|delete|share|use)$/i;
const fold = (word: string): string =>
  word
    .toLowerCase()
    .replace(/(?:ies)$/, 'y')
    .replace(/(?<!s)s$/, '');

/** The demonstrative phrases of a text ("that period", "such a request", "these persons"). */
function demonstratives(text: string): Array<{ phrase: string; noun: string; index: number }> {
  const out: Array<{ phrase: string; noun: string; index: number }> = [];
  for (const m of text.matchAll(/\b(that|this|these|those|such)\s+(?:(an?)\s+)?([A-Za-z][\w-]*)/gi)) {
    const noun = m[3] as string;
    if (NOT_A_NOUN.has(noun.toLowerCase()) || DOCUMENT_NOUNS.test(noun)) continue;
    // "that employees …" / "records that are …": a relative or complement clause, not a demonstrative.
    if (/^that$/i.test(m[1] as string) && !m[2]) {
      const before = text.slice(0, m.index).trimEnd();
      const prev = /([A-Za-z]+)$/.exec(before)?.[1]?.toLowerCase() ?? '';
      const next = text.slice((m.index ?? 0) + m[0].length).trimStart();
      if (!/^(?:after|before|during|for|from|in|of|on|to|with|about|by|under|within|beyond|exceeding|declare|at|than)$/.test(prev))
        continue;
      if (/^(?:is|are|was|were|has|have|can|could|may|must|should|will|would|do|does)\b/i.test(next)) continue;
    }
    out.push({ phrase: m[0], noun, index: m.index ?? 0 });
  }
  return out;
}

/**
 * The first reference in a phrase lifted out of its clause that points to nothing within the
 * phrase, or null when there is none:
 * - "that/this/such (a) NOUN" whose noun occurs nowhere else in the phrase ("delete records after
 *   that period", "ignore such a request"); "these Guidelines", "this policy" name the document;
 * - "it"/"its" with no non-person noun phrase in the phrase ("explain why they are making it");
 * - "they"/"them"/"their" with no plural noun phrase and a singular or no actor.
 */
export function danglingReference(phrase: string): string | null {
  for (const d of demonstratives(phrase)) {
    const rest = phrase.slice(0, d.index) + ' ' + phrase.slice(d.index + d.phrase.length);
    const words = rest.match(/[A-Za-z][\w-]*/g) ?? [];
    if (!words.some((w) => fold(w) === fold(d.noun))) return d.phrase;
  }
  const it = PRONOUN_IT.exec(phrase);
  if (it) {
    const candidates = [
      ...[...phrase.matchAll(DETERMINED_NP)].map((m) => m[2] as string),
      // Defined terms ("Personal Data") and abstract nouns ("harassment", "information").
      ...(phrase.slice(1).match(/\b[A-Z][a-z][\w-]*\b/g) ?? []),
      ...(phrase.match(/\b[a-z]+(?:ment|tion|sion|ness|ity|ance|ence|ure)\b/g) ?? []),
    ];
    if (!candidates.some((noun) => !PERSON_NOUNS.test(noun) && !DOCUMENT_NOUNS.test(noun) && !/^(?:It|Its)$/.test(noun))) return it[0];
  }
  const they = PRONOUN_THEY.exec(phrase);
  if (they) {
    // Singular "they" refers to a person ("every Employee … they believe"), plural "they" to a plural noun.
    const words = phrase.match(/[A-Za-z][\w-]*/g) ?? [];
    const plurals = [...phrase.matchAll(PLURAL_NP)]
      .map((m) => m[1] as string)
      .filter((w) => !/(?:ss|us|is|ous)$/i.test(w) && !NOT_PLURAL.has(w.toLowerCase()) && !DOCUMENT_NOUNS.test(w) && !PRONOUN_THEY.test(w));
    if (plurals.length === 0 && !words.some((w) => PERSON_NOUNS.test(w))) return they[0];
  }
  return null;
}

/**
 * Resolve "that/this/such NOUN" from the clause's earlier text: the last noun phrase there with the
 * same head noun, as "the … NOUN …" with what qualifies it up to the next comma or conjunction
 * ("after that period" + "retain records for the periods set out in the Records Retention Schedule"
 * → "after the period set out in the Records Retention Schedule"). Phrases with no antecedent stay.
 */
export function resolveDemonstratives(phrase: string, earlier: string, context = ''): string {
  let out = phrase;
  const inContext = new Set((context.match(/[A-Za-z][\w-]*/g) ?? []).map(fold));
  for (const d of demonstratives(phrase).reverse()) {
    const head = fold(d.noun);
    const rest = phrase.slice(0, d.index) + ' ' + phrase.slice(d.index + d.phrase.length);
    // Already resolved by the phrase or its actor ("who have a financial interest … declare that interest").
    if (inContext.has(head) || (rest.match(/[A-Za-z][\w-]*/g) ?? []).some((w) => fold(w) === head)) continue;
    let best: string | null = null;
    const np =
      /\b(?:the|a|an|any|every|each)\s+((?:[A-Za-z][\w'-]*\s+){0,3}?)([A-Za-z][\w-]*)((?:\s+(?:set out|listed|described|defined|referred to|in|of|for|under|from)\b[^,;.]*?)?)(?=[,;.]|\s+(?:and|or|but|unless|if|when|where|shall|must|may|should|will|is|are|using|with)\b|\s*$)/g;
    for (const m of earlier.matchAll(np)) {
      if (fold(m[2] as string) !== head) continue;
      const words = `${(m[1] as string).trim()} ${d.noun} ${(m[3] as string).trim()}`.trim().split(/\s+/);
      if (words.length <= 12) best = `the ${words.join(' ')}`;
    }
    // "such messages" after "report suspected phishing messages": a plural with up to two modifiers.
    if (best === null && /s$/.test(d.noun)) {
      for (const m of earlier.matchAll(/((?:\b[a-z][\w-]*\s+){0,2})\b([a-z][\w-]*s)\b/g)) {
        if (fold(m[2] as string) !== head) continue;
        const modifiers = (m[1] as string).trim().split(/\s+/).filter(Boolean);
        while (
          modifiers.length > 0 &&
          (NOT_A_NOUN.has((modifiers[0] as string).toLowerCase()) || MODAL_OR_VERB.test(modifiers[0] as string))
        )
          modifiers.shift();
        if (modifiers.length > 0) best = [...modifiers, d.noun].join(' ');
      }
    }
    if (best === null) continue;
    out = out.slice(0, d.index) + best + out.slice(d.index + d.phrase.length);
  }
  return out;
}
