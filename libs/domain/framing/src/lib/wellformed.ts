/**
 * The well-formedness gate of generated examples: a question that is not a question, a fragment,
 * an opener glued to a clause, a modal or a bare number standing as the subject, a reference left
 * dangling or a sentence cut at an abbreviation. Generation drops such an example and counts it
 * by reason, so a data report can show how much was dropped and why.
 */
import nlp from 'compromise';
import { memoised } from './memo';
import { lexicalTags } from './phrasing';

export const ILL_FORMED_REASONS = [
  'not-a-question',
  'fragment',
  'glued-opener',
  'modal-or-number-subject',
  'dangling-reference',
  'cut-abbreviation',
] as const;
export type IllFormedReason = (typeof ILL_FORMED_REASONS)[number];

export interface IllFormed {
  reason: IllFormedReason;
  /** The words that show the problem, for review. */
  detail: string;
}

/** Words that open a question in English: an auxiliary or modal, or a wh-word. */
const QUESTION_OPENER =
  /^(?:is|are|am|was|were|do|does|did|can|could|may|might|must|shall|should|will|would|has|have|had|what|which|who|whom|whose|how|when|where|why|under|in|to|for|from|as|according)\b/i;

/** Abbreviations that, at the end of a sentence or before a capital, show that a sentence was cut there. */
const LEGAL_ABBREVIATION =
  /[\s(]((?:\d+\s+)?(?:U\.\s?S\.\s?C|C\.\s?F\.\s?R|e\.\s?g|i\.\s?e|No|Nos|Pub\.\s?L|Pub|Stat|et seq|cf|Sec|Secs|Art|para|Inc|Corp|Co|Ltd|vs?|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.)(?=\s*$|\s+[A-Z(§$0-9])/;
/** A code or register named without the section it cites: "… prohibited by 18 U.S.C." at a sentence's end. */
const UNCITED_CODE = /\b\d+\s+(?:U\.\s?S\.\s?C|C\.\s?F\.\s?R|CFR|USC|FR|Stat)\.?\s*$/;
/** A sentence whose subject is a bare number left from a cut reference: "209, which prohibits …". */
const NUMBER_REMNANT = /^(?:\d+[A-Za-z]?|§+\s*\d[\w.]*)(?:\([^)]*\))*,?\s+(?:which|that|who|and|or|of|to|in)\b/;
/** Function words that, capitalised in mid-sentence, show a sentence opener pasted into a template. */
const OPENER_WORD =
  /^(?:as|in|if|when|where|whenever|for|with|under|notwithstanding|except|subject|pursuant|consistent|unless|upon|after|before|although|because|while|during|nothing|a|an|the|any|each|every|such|this|these|those|that|no|or|and|but|to|of|by|on|at)$/;
const ENUMERATOR = /(?:^|\s)\((?:[a-z]{1,4}|\d{1,3}|[A-Z])\)\s+[A-Z]/;

const MODAL = /^(?:may|must|shall|should|will|would|can|could|might)$/i;

/** Sentences of a generated text, cut only at terminal punctuation followed by a capital. */
function sentencesOf(text: string): string[] {
  return text
    .split(/(?<=[.?!])\s+(?=["“(]?[A-Z0-9§])/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** The citation a generated answer ends with ("(§3.2.1)", "(§ 164.502(a))") is not prose: leave it out. */
function withoutTrailingCitation(text: string): string {
  return text.replace(/\s*\(§[^()]*(?:\([^()]*\)[^()]*)*\)\.?\s*$/, '').trim();
}

function unbalancedParenthesis(text: string): boolean {
  let depth = 0;
  for (const ch of text) {
    if (ch === '(') depth += 1;
    else if (ch === ')') {
      depth -= 1;
      if (depth < 0) return true;
    }
  }
  return depth !== 0;
}

/** A word capitalised in the middle of a sentence that is a function word: an opener glued into a template. */
function gluedOpener(sentence: string): string | null {
  const m = ENUMERATOR.exec(sentence);
  if (m && m.index > 0) return m[0].trim();
  const words = sentence.split(/\s+/);
  for (let i = 1; i < words.length; i++) {
    const word = (words[i] as string).replace(/^["“'(]+/, '').replace(/[,;:.?!"”')]+$/, '');
    if (!/^[A-Z][a-z]+$/.test(word) && !/^A$/.test(word)) continue;
    const before = words[i - 1] as string;
    // After a colon, a quote or an opening parenthesis a capital starts something new.
    if (/[:"“(]$/.test(before) || /^["“(]/.test(words[i] as string)) continue;
    if (OPENER_WORD.test(word.toLowerCase())) return `${before} ${words[i]}`;
  }
  return null;
}

/** One term of a sentence as compromise reads it in context: its normal form and its tags. */
interface SentenceTerm {
  normal: string;
  tags: readonly string[];
}

/**
 * compromise's reading of a sentence, term by term; one parse per distinct sentence, shared by the
 * checks that read it (a rule's sentence recurs in every answer that restates it).
 */
const termsOf = memoised(
  (sentence: string): SentenceTerm[] =>
    nlp(sentence)
      .docs.flat()
      .map((t) => ({ normal: t.normal, tags: [...(t.tags ?? [])] })),
  4096,
);

/** The words a problem is shown by: terms `from`..`to` of a sentence, each as compromise writes it (punctuation kept). */
function termTexts(sentence: string, from: number, to: number): string {
  const terms = nlp(sentence).terms().json() as Array<{ text: string }>;
  return terms
    .slice(from, to + 1)
    .map((t) => t.text)
    .join(' ');
}

/** True when compromise tags some term of the sentence with `tag` (as `nlp(sentence).has('#Tag')`). */
const sentenceHas = (sentence: string, tag: string): boolean => termsOf(sentence).some((t) => t.tags.includes(tag));

/** A modal standing where the subject should be ("May would raise …"), or a number doing so ("if 7323 were to …"). */
function modalOrNumberSubject(sentence: string): string | null {
  const terms = termsOf(sentence);
  for (let i = 0; i + 1 < terms.length; i++) {
    const a = terms[i];
    const b = terms[i + 1];
    if (!a || !b) continue;
    if (MODAL.test(a.normal) && MODAL.test(b.normal)) return termTexts(sentence, i, i + 1);
    const bareNumber = a.tags.includes('Cardinal') && !a.tags.includes('Money') && !a.tags.includes('Percent') && /^\d+$/.test(a.normal);
    const previous = i > 0 ? terms[i - 1] : undefined;
    const subjectSlot = previous === undefined || /^(?:if|whether|that|when|where|because|unless|and|or|but)$/.test(previous.normal);
    if (bareNumber && subjectSlot && b.tags.includes('Verb') && !b.tags.includes('Gerund')) return termTexts(sentence, i, i + 1);
  }
  return null;
}

/**
 * A question whose tail after a colon names who, not what ("Is the following allowed under the
 * rules: an employee?"): a short phrase with no verb whose head is a person or actor for compromise.
 */
function verblessTail(question: string): string | null {
  const colon = question.lastIndexOf(':');
  if (colon < 0) return null;
  const tail = question.slice(colon + 1).replace(/[?.!\s]+$/, '');
  if (tail.trim().split(/\s+/).length > 3) return null;
  const doc = nlp(tail);
  return !doc.has('#Verb') && doc.has('(#Actor|#Person|#Pronoun)') ? tail.trim() : null;
}

/** "known whether", "clear whether": a clause with its own subject must follow. */
const WHETHER_CLAUSE = /\b(?:known|clear|unclear|certain|sure|decide|determine|know|check|establish)\s+whether\s+(\S+)/gi;

/** compromise's tags of one word read on its own, in lower case. */
function tagsOf(word: string): string[] {
  return lexicalTags(word.toLowerCase());
}

/**
 * A clause with no subject where one is needed: "It is not known whether permitted by …" (a verb
 * form right after "known whether"), or "… intends to X; permitted or required by …" (a past
 * participle right after a semicolon).
 */
function subjectlessClause(sentence: string): string | null {
  for (const m of sentence.matchAll(WHETHER_CLAUSE)) {
    const word = (m[1] as string).replace(/[^A-Za-z'-]/g, '');
    const tags = tagsOf(word);
    if (word && (tags.includes('Verb') || tags.includes('Preposition')) && !tags.includes('Gerund')) return `whether ${m[1]}`;
  }
  for (const m of sentence.matchAll(/;\s+(\S+)/g)) {
    const word = (m[1] as string).replace(/[^A-Za-z'-]/g, '');
    const tags = tagsOf(word);
    if (word && (tags.includes('PastTense') || tags.includes('Participle')) && !tags.includes('Noun')) return `; ${m[1]}`;
  }
  return null;
}

/** True when a phrase can follow "whether", "because" or a semicolon: it does not open with a verb form or a preposition. */
export function readsAsClause(text: string): boolean {
  const first =
    text
      .trim()
      .split(/\s+/)[0]
      ?.replace(/[^A-Za-z'-]/g, '') ?? '';
  if (first.length === 0) return false;
  const tags = tagsOf(first);
  return !(tags.includes('Verb') || tags.includes('Preposition') || tags.includes('Participle'));
}

/** The first word, read in its sentence by compromise, when it is a third-person verb with no subject before it. */
function verbWithoutSubject(sentence: string): string | null {
  const terms = termsOf(sentence);
  const term = terms[0];
  // "Engineers may stop …": a plural subject before its verb, whatever the tagger guessed for it.
  const next = terms[1]?.tags ?? [];
  if (next.includes('Verb') || next.includes('Modal') || next.includes('Auxiliary')) return null;
  if (!term || !/s$/.test(term.normal) || /^(?:is|was|has|does|as|yes|thus|this|its|his|hers|ours|yours|theirs)$/.test(term.normal))
    return null;
  const t = term.tags;
  return t.includes('PresentTense') && !t.includes('Noun') && !t.includes('Infinitive') ? termTexts(sentence, 0, 0) : null;
}

/** A question that stops on a word that needs more after it ("… regarding uses or disclosures that?"). */
const OPEN_END =
  /\b(?:as follows|the following|that|which|who|whom|whose|of|to|the|a|an|and|or|for|by|with|in|on|at|from|than|as|is|are|under|if|when|unless|where|whether|because|except)\s*\?$/i;
/** An answer's sentence that stops on a word that needs more after it ("This requirement does not apply to."). */
const OPEN_SENTENCE_END =
  /\b(?:that|which|who|whom|whose|of|to|the|a|an|and|or|for|by|with|from|than|under|if|when|unless|where|whether|because|except)\s*[.!]$/i;

/** "… disclosures that?" stops inside a clause; "… tell her that?" ends on a pronoun object. */
function openEnd(question: string): string | null {
  const m = OPEN_END.exec(question);
  if (!m) return null;
  if (/^(?:that|which)\b/i.test(m[0])) {
    const before = question.slice(0, m.index).trim().split(/\s+/).pop() ?? '';
    const tags = tagsOf(before.replace(/[^A-Za-z'-]/g, ''));
    if (tags.includes('Pronoun') || tags.includes('Verb')) return null;
  }
  return m[0];
}

/**
 * A sentence with no verb: compromise reads none in the sentence, and no word of it is a verb in
 * compromise's lexicon either (the tagger reads "A relative asks …" with "asks" as a plural noun).
 */
function verbless(sentence: string): boolean {
  if (sentenceHas(sentence, 'Verb')) return false;
  return !sentence
    .split(/\s+/)
    .map((w) => w.replace(/[^A-Za-z'-]/g, ''))
    .some((w) => w.length > 0 && tagsOf(w).includes('Verb'));
}

/** Words that open an adverbial phrase before a sentence's main clause. */
const OPENER_START =
  /^(?:in|notwithstanding|except|as|if|for|under|when|where|whenever|subject|pursuant|consistent|unless|upon|after|before|with|without|within|although|because|while|during|other than|to|once|by)\b/i;
const FUNCTION_SUBJECT =
  /^(?:in|notwithstanding|except|as|if|for|under|when|where|whenever|subject|pursuant|consistent|unless|upon|after|before|with|without|within|although|because|while|during|other|to|once|by)\b/i;

/** The subject and verb compromise reads in a text's first sentence. */
const mainClauseOf = memoised(
  (text: string): { subject?: string; verb?: string } | undefined =>
    (nlp(text).sentences().json() as Array<{ sentence?: { subject?: string; verb?: string } }>)[0]?.sentence,
  4096,
);

/**
 * A sentence that is only its opening phrase ("Except for uses … prohibited under § 164.502(a)(5)(i),
 * pursuant to … § 164.508.", "When required by the Secretary … to investigate …."): it opens with a
 * preposition or subordinator, has no modal, and no part after a comma has a subject of its own.
 */
function noMainClause(sentence: string): boolean {
  if (!OPENER_START.test(sentence) || /\?$/.test(sentence) || sentenceHas(sentence, 'Modal')) return false;
  const hasClause = (text: string): boolean => {
    // An imperative ("…, make clear that the views are your own") is a main clause without a subject.
    if (!OPENER_START.test(text) && tagsOf((text.split(/\s+/)[0] ?? '').replace(/[^A-Za-z'-]/g, '')).includes('Infinitive')) return true;
    const parsed = mainClauseOf(text);
    const subject = (parsed?.subject ?? '').trim();
    return subject.length > 0 && !FUNCTION_SUBJECT.test(subject) && (parsed?.verb ?? '').trim().length > 0;
  };
  const parts = sentence.split(/,\s+/);
  for (let i = 1; i < parts.length; i++) if (hasClause(parts.slice(i).join(', '))) return false;
  return !hasClause(sentence);
}

/** Checks shared by questions and answers: references left hanging and sentences cut at an abbreviation. */
function proseProblem(text: string): IllFormed | null {
  if (unbalancedParenthesis(text)) return { reason: 'cut-abbreviation', detail: text.slice(Math.max(0, text.lastIndexOf('(') - 20)) };
  for (const sentence of sentencesOf(text)) {
    const problem = sentenceProblem(sentence);
    if (problem) return problem;
  }
  return null;
}

/** The problem of one sentence of a question or answer (see `proseProblem`); one reading per distinct sentence. */
const sentenceProblem = memoised((sentence: string): IllFormed | null => {
  const body = sentence.replace(/[?!]$/, '');
  const cut = LEGAL_ABBREVIATION.exec(body);
  if (cut && cut.index + cut[0].length >= body.length) {
    if (UNCITED_CODE.test(body)) return { reason: 'dangling-reference', detail: body.slice(-30) };
    return { reason: 'cut-abbreviation', detail: cut[1] as string };
  }
  if (NUMBER_REMNANT.test(sentence)) return { reason: 'dangling-reference', detail: sentence.slice(0, 30) };
  // "Prohibits the parties from …": a sentence that opens on a verb inflected for a subject it lacks.
  if (noMainClause(sentence)) return { reason: 'fragment', detail: sentence.slice(0, 40) };
  const opener = verbWithoutSubject(sentence);
  if (opener) return { reason: 'fragment', detail: opener };
  const stop = OPEN_SENTENCE_END.exec(sentence);
  if (stop) return { reason: 'fragment', detail: stop[0] };
  const glued = gluedOpener(sentence);
  if (glued) return { reason: 'glued-opener', detail: glued };
  const subject = modalOrNumberSubject(sentence);
  if (subject) return { reason: 'modal-or-number-subject', detail: subject };
  const subjectless = subjectlessClause(sentence);
  if (subjectless) return { reason: 'fragment', detail: subjectless };
  return null;
}, 16384);

/** The problem with a generated question, or null when it is a well-formed question. */
export function questionProblem(question: string): IllFormed | null {
  const text = question.trim();
  if (!text.endsWith('?')) return { reason: 'not-a-question', detail: text.slice(-30) };
  const sentences = sentencesOf(text);
  const last = sentences[sentences.length - 1] ?? text;
  if (!QUESTION_OPENER.test(last)) return { reason: 'not-a-question', detail: last.slice(0, 30) };
  // "comply with the following requirements" points to a list the question does not carry.
  const forward = /\b(?:the following|as follows)\b(?![^?]*:)/i.exec(text);
  if (forward) return { reason: 'dangling-reference', detail: forward[0] };
  const open = openEnd(last);
  if (open) return { reason: 'fragment', detail: open };
  const tail = verblessTail(last);
  if (tail !== null) return { reason: 'fragment', detail: tail };
  for (const sentence of sentences) {
    if (verbless(sentence)) return { reason: 'fragment', detail: sentence.slice(0, 40) };
  }
  return proseProblem(text);
}

/** The problem with a generated answer (its closing citation left aside), or null when it reads as whole sentences. */
export function answerProblem(answer: string): IllFormed | null {
  const text = withoutTrailingCitation(answer);
  if (text.length === 0) return { reason: 'fragment', detail: answer.slice(0, 30) };
  // A list item restated as it stands ("Social security number.") says nothing on its own; a verdict
  // ("Yes.", "No, not unless …", "It depends …") is the one sentence an answer may open with that has no verb of its own.
  const prose = proseProblem(text);
  if (prose) return prose;
  for (const sentence of sentencesOf(text)) {
    if (!ANSWER_VERDICT.test(sentence) && verbless(sentence)) return { reason: 'fragment', detail: sentence.slice(0, 40) };
  }
  return null;
}

const ANSWER_VERDICT = /^(?:yes|no|it depends)\b/i;

/** The first problem of a generated question/answer pair, the question's first; null when both are well-formed. */
export function wellFormednessProblem(example: { question: string; answer: string }): IllFormed | null {
  return questionProblem(example.question) ?? answerProblem(example.answer);
}

/** Counts per reason, every reason present (0 when none). */
export function emptyReasonCounts(): Record<IllFormedReason, number> {
  return Object.fromEntries(ILL_FORMED_REASONS.map((r) => [r, 0])) as Record<IllFormedReason, number>;
}
