/**
 * Concept labels: how a phrase of a document becomes a concept's preferred label and id, and how
 * noun phrases and verbs are read out of a statement's parts. Words are read by `compromise`
 * (part of speech, lemma); nothing here knows a document's vocabulary.
 */
import nlp from 'compromise';

/** A small bounded cache for pure functions of a string (compromise parses are costly). */
function cached<T>(fn: (key: string) => T, capacity = 8192): (key: string) => T {
  const cache = new Map<string, T>();
  return (key: string): T => {
    const hit = cache.get(key);
    if (hit !== undefined || cache.has(key)) return hit as T;
    const value = fn(key);
    if (cache.size >= capacity) cache.delete(cache.keys().next().value as string);
    cache.set(key, value);
    return value;
  };
}

/** Words that open a noun phrase without being part of its label. */
const DETERMINERS = new Set([
  'a',
  'an',
  'the',
  'any',
  'every',
  'each',
  'all',
  'some',
  'such',
  'this',
  'these',
  'that',
  'those',
  'its',
  'their',
  'his',
  'her',
  'our',
  'your',
  'my',
  'no',
  'another',
  'either',
  'neither',
  'both',
  'certain',
  'same',
  'other',
  'further',
  'whose',
  'which',
  'what',
]);

/**
 * English prepositions and subordinating words: a closed class of the language (not of any
 * document), listed because compromise's lexicon reads several of them ("against", "under") as
 * adjectives.
 */
const FUNCTION_WORDS = new Set(
  (
    'about above across after against along amid among around as at before behind below beneath beside besides between beyond by ' +
    'concerning despite down during except excluding following for from in including inside into like near notwithstanding of off on ' +
    'onto out outside over past per pursuant regarding since than through throughout till to toward towards under underneath unless ' +
    'until unto up upon via versus with within without ahead whether while because although though if when whenever where wherever ' +
    'whereas who whom whose which that and or nor but so yet'
  ).split(' '),
);

/** Words that never make a concept on their own (pronouns, placeholders). */
const NON_CONCEPTS = new Set([
  'it',
  'they',
  'them',
  'he',
  'she',
  'him',
  'we',
  'us',
  'you',
  'i',
  'one',
  'ones',
  'anything',
  'something',
  'everything',
  'nothing',
  'anyone',
  'someone',
  'everyone',
  'anybody',
  'somebody',
  'everybody',
  'nobody',
  'whoever',
  'whatever',
  'thing',
  'things',
  'way',
  'part',
  'extent',
  'time',
  'case',
  'manner',
  'respect',
  'purpose',
  'kind',
  'type',
  'form',
  'lot',
  'number',
  'amount',
  'use',
  'following',
  'foregoing',
  'other',
  'itself',
  'themselves',
  'himself',
  'herself',
]);

/** True for an acronym or other all-capital token ("PHI", "FDA", "HIV"); kept in its case. */
export function isAcronym(word: string): boolean {
  return /^[A-Z][A-Z0-9&]*[A-Z](?:s)?$/.test(word) && word.replace(/s$/, '').length >= 2;
}

/** The singular of a noun ("gifts" → "gift", "entities" → "entity", "people" → "person"), the word itself when not plural. */
export const singular = cached((word: string): string => {
  if (isAcronym(word)) return word.replace(/([A-Z])s$/, '$1');
  const lower = word.toLowerCase();
  if (!/[a-z]/.test(lower) || lower.length < 3) return lower;
  if (/(?:ss|us|is|ics|news|series|species|means)$/.test(lower)) return lower;
  const doc = nlp(lower);
  doc.tag('Noun');
  const out = (doc.nouns().toSingular().text() as string).trim().toLowerCase();
  if (!out || out.includes(' ')) return lower;
  // compromise only ever shortens a plural; anything else is a misreading.
  if (out.length > lower.length || (!lower.endsWith('s') && out === lower)) return lower;
  return out;
});

/** The base form of a verb ("accepted" → "accept", "disclosing" → "disclose"). */
export const verbLemma = cached((word: string): string => {
  const lower = word.toLowerCase();
  const doc = nlp(lower);
  doc.tag('Verb');
  const out = (doc.verbs().toInfinitive().text() as string).trim().toLowerCase();
  return out && !out.includes(' ') ? out : lower;
});

/** Lexical tags of one word read alone. */
export const wordTags = cached((word: string): string[] => [
  ...((nlp(word).docs as Array<Array<{ tags: Set<string> }>>).flat()[0]?.tags ?? []),
]);

function cleanText(label: string): string {
  return label
    .replace(/[*_`]+/g, '')
    .replace(/[“”"‘’]/g, (c) => (c === '’' || c === '‘' ? "'" : ''))
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^[\s,;:.()[\]-]+|[\s,;:.()[\]-]+$/g, '');
}

/** A word of a label as the label keeps it: lower case unless an acronym. */
function caseOf(word: string): string {
  return isAcronym(word) ? word : word.toLowerCase();
}

/**
 * The normalised form of a concept label: markup and quotes removed, leading articles, quantifiers
 * and possessive pronouns dropped ("A covered entity" → "covered entity", "their manager" →
 * "manager"), lower case except acronyms ("PHI"), the head (last word) in its singular ("Gifts" →
 * "gift"; a trailing possessive "'s" dropped). Empty when nothing is left.
 */
export function normaliseLabel(label: string): string {
  const words = cleanText(label)
    .split(' ')
    .map((w) => w.replace(/^[([]+|[)\],;:.]+$/g, ''))
    .filter((w) => w.length > 0);
  while (words.length > 0 && DETERMINERS.has((words[0] as string).toLowerCase())) words.shift();
  if (words.length === 0) return '';
  const last = (words[words.length - 1] as string).replace(/['’]s?$/, '');
  const head = singular(last);
  const kept = words.slice(0, -1).map((w) => caseOf(w.replace(/['’]s$/, '')));
  return [...kept, isAcronym(last) ? head : head.toLowerCase()].join(' ').trim();
}

/** A concept's id: `c-` + slug of its normalised label ("covered entity" → "c-covered-entity", "PHI" → "c-phi"). */
export function conceptId(normalisedLabel: string): string {
  const slug = normalisedLabel
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (!slug) throw new Error(`conceptId: the label ${JSON.stringify(normalisedLabel)} has no letters or digits`);
  return `c-${slug}`;
}

/**
 * True when a normalised label can name a concept: one to five words, no digits, amounts or
 * clause signs, not a pronoun or placeholder, not a single function word or verb form.
 */
export function isConceptLabel(label: string): boolean {
  if (!label || label.length < 2 || label.length > 60) return false;
  if (/[0-9$§%@/\\<>=+]/.test(label)) return false;
  const words = label.split(' ');
  if (words.length > 5) return false;
  if (words.some((w) => !/^[A-Za-z][A-Za-z'&-]*$/.test(w))) return false;
  const lower = words.map((w) => w.toLowerCase());
  if (lower.some((w) => DETERMINERS.has(w) && w !== 'other' && w !== 'same')) return false;
  if (NON_CONCEPTS.has(label.toLowerCase())) return false;
  if (words.length === 1) {
    const tags = wordTags(lower[0] as string);
    if (!isAcronym(words[0] as string) && (lower[0] as string).length < 3) return false;
    if (
      tags.some((t) =>
        ['Pronoun', 'Preposition', 'Conjunction', 'Determiner', 'Adverb', 'Modal', 'Auxiliary', 'Copula', 'Value'].includes(t),
      )
    )
      return false;
  }
  const lastTags = wordTags(lower[lower.length - 1] as string);
  if (lastTags.some((t) => ['Preposition', 'Conjunction', 'Determiner', 'Pronoun', 'Adverb', 'Modal', 'Copula'].includes(t))) return false;
  const firstTags = wordTags(lower[0] as string);
  if (firstTags.some((t) => ['Preposition', 'Conjunction', 'Pronoun', 'Modal', 'Copula'].includes(t))) return false;
  return true;
}

interface Term {
  text: string;
  word: string;
  tags: Set<string>;
  pre: string;
  post: string;
}

function termsOf(text: string): Term[] {
  const docs = nlp(text).docs as Array<Array<{ text: string; tags: Set<string>; pre: string; post: string }>>;
  return docs.flat().map((t) => ({ text: t.text, word: t.text.toLowerCase(), tags: t.tags, pre: t.pre, post: t.post }));
}

/** Closed-class parts of speech: they end (or, for determiners, open) a noun phrase. */
const CLOSED = [
  'Preposition',
  'Conjunction',
  'Determiner',
  'Pronoun',
  'Modal',
  'Auxiliary',
  'Copula',
  'Adverb',
  'QuestionWord',
  'Negative',
  'Cardinal',
];

function closed(t: Term): boolean {
  if (DETERMINERS.has(t.word) || FUNCTION_WORDS.has(t.word.replace(/[^a-z'-]/g, ''))) return true;
  const lexical = wordTags(t.word.replace(/[^a-z'-]/g, ''));
  const lexicallyClosed = lexical.some((x) => CLOSED.includes(x)) && !lexical.includes('Noun');
  if (lexicallyClosed) return true;
  return CLOSED.some((x) => t.tags.has(x)) && !t.tags.has('Noun') && !t.tags.has('Adjective');
}

/** A verb form that opens a clause inside a phrase ("items bearing a logo", "decision related to it"). */
function opensClause(t: Term, next: Term | undefined, previous: Term | undefined): boolean {
  // a gerund after a noun ("documents containing …") opens a clause.
  if (previous?.tags.has('Noun') && /ing$/.test(t.word) && (t.tags.has('Gerund') || t.tags.has('Verb')) && !t.tags.has('Noun')) return true;
  if (!next) return false;
  const verbal = /(?:ing|ed|en)$/.test(t.word) || t.tags.has('Gerund') || t.tags.has('PastTense') || t.tags.has('Participle');
  return verbal && (next.tags.has('Determiner') || next.tags.has('Preposition') || next.word === 'to' || DETERMINERS.has(next.word));
}

/**
 * The noun phrases at the start of a text, coordinated ("Gifts and Entertainment", "Company time,
 * equipment or Confidential Information"), each without determiners, up to the first word that
 * ends the phrase: a preposition, relative pronoun, modal, adverb, number, a verb form that opens
 * a clause, punctuation that starts something else. Parts of speech are compromise's; open-class
 * words are kept whatever compromise calls them, so only closed-class words decide the cuts.
 */
export function leadingNounPhrases(text: string): string[] {
  const terms = termsOf(cleanText(text));
  const phrases: string[] = [];
  let current: Term[] = [];
  /** Adjectives waiting for the head of the next conjunct ("actual or potential conflict" → actual conflict). */
  let pendingAdjectives: Term[][] = [];
  const flush = (): void => {
    // a post-modifying participle is no part of the name ("amount spent", "advice given").
    const participle = (t: Term): boolean =>
      (/(?:ed|en)$/.test(t.word) || t.tags.has('PastTense') || t.tags.has('Participle')) && !t.tags.has('Noun');
    // nor is a trailing adjective or base verb ("documentation sufficient", "changes effective", "request contain").
    const trailing = (t: Term): boolean =>
      participle(t) ||
      (t.tags.has('Adjective') && !t.tags.has('Noun') && !wordTags(t.word).includes('Noun')) ||
      (wordTags(t.word).includes('Infinitive') && !wordTags(t.word).includes('Noun') && !t.tags.has('Noun'));
    const afterNoun = (): boolean => {
      const before = current[current.length - 2];
      return before !== undefined && before.tags.has('Noun') && !before.tags.has('Adjective');
    };
    while (
      current.length > 1 &&
      trailing(current[current.length - 1] as Term) &&
      (participle(current[current.length - 1] as Term) || afterNoun())
    )
      current.pop();
    if (current.length > 0) {
      const words = current.map((w) => w.text.replace(/[^A-Za-z0-9'’&-]+$/g, ''));
      const head = words[words.length - 1] as string;
      for (const adjectives of pendingAdjectives)
        phrases.push([...adjectives.map((w) => w.text.replace(/[^A-Za-z0-9'’&-]+$/g, '')), head].join(' '));
      pendingAdjectives = [];
      phrases.push(words.join(' '));
    }
    current = [];
  };
  const adjectivesOnly = (): boolean =>
    current.length > 0 && current.every((w) => w.tags.has('Adjective') && !w.tags.has('Noun') && !wordTags(w.word).includes('Noun'));
  let i = 0;
  while (i < terms.length) {
    const t = terms[i] as Term;
    const next = terms[i + 1];
    if (/[([]/.test(t.pre) && current.length > 0) {
      // "paragraph (a)", "section 3.2": a reference, not a concept.
      if (/^[(\d]/.test(t.text) || /\(\s*$/.test(t.pre)) current = [];
      break;
    }
    if (/^\d/.test(t.text) && current.length > 0) {
      current = [];
      break;
    }
    if (!/[a-z]/i.test(t.text)) break;
    if (closed(t)) {
      if (current.length === 0 && (t.tags.has('Determiner') || DETERMINERS.has(t.word))) {
        i += 1;
        continue;
      }
      if (
        (t.word === 'and' || t.word === 'or') &&
        current.length > 0 &&
        next &&
        !/[([]/.test(next.pre) &&
        (!closed(next) || DETERMINERS.has(next.word))
      ) {
        if (adjectivesOnly()) {
          pendingAdjectives.push(current);
          current = [];
        } else flush();
        i += 1;
        continue;
      }
      break;
    }
    if (current.length > 0 && opensClause(t, next, current[current.length - 1])) break;
    // a gerund with its own object is a verb phrase, not a name ("making the Guidelines available").
    if (current.length === 0 && /ing$/.test(t.word) && next && (next.tags.has('Determiner') || DETERMINERS.has(next.word))) break;
    // a finite verb cannot open a noun phrase ("creates or receives …"): no phrase here.
    if (current.length === 0 && t.tags.has('Verb') && !t.tags.has('Noun') && !t.tags.has('Adjective') && !t.tags.has('Gerund')) break;
    current.push(t);
    i += 1;
    // a possessor is not the thing named: "the covered entity's information" → information.
    if (/['’]s?$/.test(t.text) && terms[i] && !closed(terms[i] as Term)) {
      current = [];
      continue;
    }
    if (/[,;:)\]]/.test(t.post)) {
      flush();
      if (!/,/.test(t.post) || !next) break;
      // a comma list goes on with another noun phrase ("time, equipment or information").
      if (next.word === 'and' || next.word === 'or') i += 1;
      const after = terms[i];
      if (!after || (closed(after) && !DETERMINERS.has(after.word))) break;
    }
  }
  flush();
  return phrases;
}

export interface VerbReading {
  /** The verbs' base forms ("offer", "give", "accept"). */
  verbs: string[];
  /** True for a passive "be accepted": the verb's object is the statement's subject. */
  passive: boolean;
  /** The words after the verbs. */
  rest: string;
}

const isBaseVerb = (word: string): boolean => {
  if (/[^su]s$/.test(word)) return false;
  const tags = wordTags(word.toLowerCase());
  return tags.includes('Infinitive') || (tags.includes('Verb') && !tags.includes('PastTense') && !tags.includes('Gerund'));
};

/**
 * The leading verbs of a verb-phrase action ("offer, give, request or accept any Gift" → offer,
 * give, request, accept; "be accepted only …" → accept, passive; "promptly notify" → notify).
 * Null when the phrase does not open with a verb.
 */
export function readVerbs(action: string): VerbReading | null {
  const words = cleanText(action).split(' ');
  let i = 0;
  while (i < words.length - 1 && /ly$/i.test(words[i] as string) && wordTags((words[i] as string).toLowerCase()).includes('Adverb')) i += 1;
  let passive = false;
  if (/^(?:be|being|been)$/i.test(words[i] ?? '') && i + 1 < words.length) {
    passive = true;
    i += 1;
    while (i < words.length - 1 && /ly$/i.test(words[i] as string)) i += 1;
  }
  const verbs: string[] = [];
  for (;;) {
    const raw = words[i];
    if (raw === undefined) break;
    const word = raw.replace(/[,;]$/, '');
    if (!/^[a-z][a-z-]*$/.test(word)) break;
    const ok = passive ? wordTags(word).includes('Verb') || /ed$/.test(word) : isBaseVerb(word);
    if (!ok) break;
    verbs.push(verbLemma(word));
    i += 1;
    if (raw.endsWith(',')) {
      if (/^(?:and|or)$/.test(words[i] ?? '')) i += 1;
      continue;
    }
    if (/^(?:and|or)$/.test(words[i] ?? '') && words[i + 1] !== undefined && isBaseVerb((words[i + 1] as string).replace(/[,;]$/, ''))) {
      i += 1;
      continue;
    }
    break;
  }
  if (verbs.length === 0) return null;
  return { verbs, passive, rest: words.slice(i).join(' ') };
}
