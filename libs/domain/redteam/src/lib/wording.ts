import { indefiniteArticle, lexicalTags, NormativeStatement, renderActor, sha256Hex, verbPhrase } from '@studio/framing';
import nlp from 'compromise';

/**
 * Wording shared by attack goals and benign probes: the rule's parts read as what the party it
 * binds would say, in the first person ("their manager" → "my manager"), with the actor as a noun
 * phrase a request can name and the condition as the scope of the act. Internal to the library.
 */

/** Modalities that make an "obligation" no duty at all ("is not required to"): nothing to dodge. */
export const NEGATED_OBLIGATION = /\bnot (?:required|obliged|obligated|expected) to\b|\bneed(?:s)? not\b|\bnot (?:need|have) to\b/i;
/**
 * Condition parts that only point to compliance with another provision or to the document
 * ("as required by paragraph (j)", "notwithstanding any other provision", "in accordance with …"):
 * they do not scope the act and read badly inside a request.
 */
export const REFERENCE_CONDITION =
  /^(?:notwithstanding|except as|as (?:required|provided|permitted|described|set out|specified|defined)\b|in accordance with|pursuant to|subject to|consistent with|under (?:this|these|the)\b|in all\b)/i;
/** A condition that names a cross-reference anywhere ("… paragraph (c)(1) of this section"): it reads as the rule talking, not a user. */
export const CROSS_REFERENCE = /§|\b(?:paragraph|subparagraph|subpart|section|subchapter|chapter|article)\s+(?:\(|\d|[A-Z]\b|of this)/i;
/** A phrase cut inside its clause, which no request can end on. */
export const OPEN_ENDING =
  /\b(?:as follows|the following|if|when|unless|where|whether|because|except|who|whom|whose|that|which|to|of|and|or|the|a|an|by|for|with|in|on|at|from|such as|including)$/i;

export const MAX_SCOPE_WORDS = 20;

/** Connectives that open an adverbial clause after the act. */
const SCOPE_OPENER =
  /^(?:if|when|whenever|where|wherever|unless|provided|once|until|while|whether|even|regardless|only|so|as|except|including|before|after|worth)$/i;

/** True when a condition part opens like an adverbial (a preposition, a connective, an adverb, a gerund), so it can follow the act. */
export function readsAsScope(part: string): boolean {
  const first = /^([A-Za-z]+)/.exec(part)?.[1];
  if (!first) return false;
  // "if it", "when required": a connective with too little after it was cut inside its clause.
  if (SCOPE_OPENER.test(first)) return part.trim().split(/\s+/).length >= 3;
  const tags = lexicalTags(first.toLowerCase());
  if (tags.includes('Determiner') || tags.includes('Pronoun')) return false;
  return ['Preposition', 'Conjunction', 'Adverb', 'Gerund', 'QuestionWord', 'PastTense', 'Participle'].some((t) => tags.includes(t));
}

/** A condition part as it reads after the action: the scope of the act ("when giving gifts", "within five business days"). */
export function scopeOf(condition: string | null): string | null {
  if (!condition) return null;
  const parts = condition
    .split(/;\s+/)
    .map((p) => p.trim().replace(/[\s,;:.]+$/, ''))
    .filter((p) => p.length > 0 && !REFERENCE_CONDITION.test(p) && !CROSS_REFERENCE.test(p) && !OPEN_ENDING.test(p))
    // A scope as long as a paragraph is no part of what a user would type; the act alone carries the request.
    .filter((p) => p.split(/\s+/).length <= MAX_SCOPE_WORDS)
    // A bare noun phrase or clause ("a grand jury subpoena", "the covered entity … believes …") cannot follow the act.
    .filter(readsAsScope);
  if (parts.length === 0) return null;
  // A list item's condition may open with a capital ("When required by law"): inside a question it continues the action.
  return parts
    .map((p) => (/^[A-Z][a-z]/.test(p) && !/^[A-Z][a-z]+\s+[A-Z]/.test(p) ? p.charAt(0).toLowerCase() + p.slice(1) : p))
    .join(', ');
}

/** A plural noun before a pronoun in the same phrase, read by compromise in context ("return gifts to their …"): "their" / "they" may point to it, not to the speaker. */
export function pluralBefore(text: string, index: number): boolean {
  const before = text.slice(0, index).trim();
  if (before === '') return false;
  return nlp(`I ${before}`).match('#Plural').found;
}

/** A singular, non-personal noun phrase before "its" in the same phrase ("a policy … its terms"): "its" may point to it. */
export function thingBefore(text: string, index: number): boolean {
  return /\b(?:a|an|the|any|each|every|this|that)\s+(?:[A-Za-z][\w-]*\s+){0,3}?[A-Za-z][\w-]*\b/i.test(text.slice(0, index));
}

/**
 * The action as the party it binds says it of themself: "their manager" → "my manager", "as soon
 * as they become aware" → "as soon as I become aware", "revise its notice" → "revise my notice";
 * pronouns that may point to another noun in the phrase ("gifts … their value") stay.
 */
export function inFirstPerson(phrase: string, actorIsPlural: boolean): string {
  let out = phrase;
  // "they" for the party: its plural, or the singular "they" of "every employee … they believe".
  // "employees themselves" is emphatic about the noun before it; a verb's "themselves" is the party.
  out = out.replace(/\bthemselves\b/g, (m, at: number) =>
    pluralBefore(out, at) || /\b[a-z]+s\s+$/i.test(out.slice(0, at).replace(/\b(?:is|was|has|does|this|its|his)\s+$/i, '')) ? m : 'myself',
  );
  out = out.replace(/\btheir\b/g, (m, at: number) => (pluralBefore(out, at) ? m : 'my'));
  out = out.replace(/\bthey (are|were|have|do|need)\b/g, (m, verb: string, at: number) => {
    if (pluralBefore(out, at)) return m;
    return `I ${verb === 'are' ? 'am' : verb === 'were' ? 'was' : verb}`;
  });
  out = out.replace(/\bthey\b(?=\s+(?:[a-z]+))/g, (m, at: number) => (pluralBefore(out, at) ? m : 'I'));
  if (!actorIsPlural) {
    out = out.replace(/\bitself\b/g, 'myself');
    out = out.replace(/\bits\b/g, (m, at: number) => (thingBefore(out, at) ? m : 'my'));
  }
  return out;
}

/** True when the actor phrase names a group ("Employees", "managers who …"): their/they refer to it. */
export function isPlural(np: string): boolean {
  const head = np
    .replace(/^(?:the|all|any|some|these|those)\s+/i, '')
    .split(/\s+(?:who|whom|whose|that|which)\s+/)[0]
    // "The restrictions on trading in closed periods": the head comes before the first preposition.
    ?.split(/\s+(?:of|on|in|for|to|with|by|under|from|at|about|during|bearing|such as)\s+|,/)[0]
    ?.split(/\s+/)
    .pop();
  if (head === undefined) return false;
  const lower = head.toLowerCase();
  // Read in a phrase, so "gifts" (a verb on its own) is a plural noun here.
  return lexicalTags(lower).includes('Plural') || nlp(`the ${lower}`).has('#Plural');
}

/** The key an actor is known by: its head noun phrase without determiner or relative clause, lower case ("covered entity"). */
export function actorKey(np: string): string {
  return (np.split(/\s+(?:who|whom|whose|that|which)\s+/)[0] ?? np).replace(/^(?:an?|the|any|each|every|all)\s+/i, '').toLowerCase();
}

/**
 * The parties that can act on a request: those the document permits to act (a permission with an
 * active verb phrase: "A covered entity may disclose …"), which makes them someone who decides, not
 * a thing the rules describe ("The notice must contain …").
 */
export function agentsOf(statements: readonly NormativeStatement[]): Set<string> {
  const agents = new Set<string>();
  for (const s of statements) {
    if (s.kind !== 'permission' || s.actionForm !== 'verb') continue;
    const vp = verbPhrase(s.action);
    const actor = actorOf(s.actor);
    if (vp && !vp.verbs.includes('be') && actor) agents.add(actorKey(actor.np));
  }
  return agents;
}

/** True when the actor can be the person asking: the document lets it act, or its head noun names a person ("employee", "manager"). */
export function isAgent(np: string, agents: ReadonlySet<string>): boolean {
  const key = actorKey(np);
  // "A covered entity or business associate": an agent when every party it coordinates is one.
  const parts = key.split(/\s+(?:or|and)\s+(?:an?\s+|the\s+)?/);
  return parts.every((part) => {
    if (agents.has(part) || agents.has(key)) return true;
    const head = part.split(/\s+/).pop() ?? '';
    return lexicalTags(head).includes('Actor');
  });
}

/**
 * The actor as a noun phrase a request can name (renderActor of @studio/framing), also for a
 * lower-case group ("employees") and, where the whole phrase is too long to render, for its head
 * before a relative clause or after an opener ("A covered entity that has agreed to … pursuant to
 * § 164.522(a)(1)" → "A covered entity"; "To implement a change …, a covered entity" → "a covered entity").
 */
export function actorOf(raw: string | null): ReturnType<typeof renderActor> {
  if (raw === null) return null;
  const text = raw.trim();
  const one = (phrase: string): ReturnType<typeof renderActor> => {
    const rendered = renderActor(phrase.charAt(0).toUpperCase() + phrase.slice(1));
    if (rendered) return rendered;
    // "Volunteers", "Stewards": one capitalised plural the lexicon reads as a verb on its own, a noun in a phrase.
    if (/^[A-Z][a-z]+s$/.test(phrase) && nlp(`the ${phrase.toLowerCase()}`).has('#Plural')) return { np: phrase.toLowerCase(), one: null };
    return null;
  };
  const whole = one(text);
  if (whole) return whole;
  // An opener before the subject ("To implement a change …, a covered entity"): the subject after its last comma.
  const afterOpener = OPENER_WORD.test(text) && text.includes(', ') ? (text.split(', ').pop() as string) : text;
  const head = afterOpener.split(/\s+(?:who|whom|whose|that|which)\s+/)[0] ?? afterOpener;
  if (head === text || !/^(?:(?:an?|the|any|each|every)\s|[A-Z][a-z]+s$)/.test(head)) return null;
  return one(head);
}

/** Words that open an adverbial before a sentence's subject. */
const OPENER_WORD = /^(?:to|in|for|as|under|if|when|where|with|by|notwithstanding|except|subject|pursuant|consistent|upon|after|before)\b/i;

/**
 * One of the actor's group as the person asking ("a covered entity", "a volunteer"): renderActor's
 * `one`, or for a one-word plural the lexicon reads as a verb ("Volunteers"), its singular read in
 * a noun phrase by compromise. Null when there is none.
 */
export function personaOf(actor: { np: string; one: string | null }): string | null {
  if (actor.one) return actor.one;
  const word = actor.np.trim();
  if (!/^[A-Za-z]+s$/.test(word)) return null;
  const singular = nlp(`the ${word.toLowerCase()}`)
    .nouns()
    .toSingular()
    .text()
    .replace(/^the\s+/, '');
  if (!singular || singular === word.toLowerCase() || /\s/.test(singular)) return null;
  return `${indefiniteArticle(singular)} ${singular}`;
}

/**
 * True when an action the extractor read after a modal starts with a verb in its base form:
 * compromise's reading where it knows the verb ("use or disclose …"), else any lower-case word it does
 * not read as a past form, a gerund, a determiner or a preposition ("retain records …", "offer, give …").
 */
export function baseFormVerb(action: string): boolean {
  if (verbPhrase(action)) return true;
  const first = /^([a-z]+)\b/.exec(action)?.[1];
  if (!first) return false;
  const tags = lexicalTags(first);
  return (
    !['PastTense', 'Participle', 'Gerund', 'Determiner', 'Preposition', 'Pronoun', 'Conjunction', 'Adjective'].some((t) =>
      tags.includes(t),
    ) || tags.includes('Infinitive')
  );
}

/** A deterministic choice among phrasings, from the statement id (so the same rules give the same goals). */
export function pick<T>(id: string, options: readonly T[]): T {
  return options[parseInt(sha256Hex(id).slice(0, 8), 16) % options.length] as T;
}

/** The words of an "unless"/"except" exception that say when the act is allowed after all ("the Ethics Office has approved it"). */
export function allowedWhen(exception: string): string | null {
  const text = exception.trim().replace(/[\s,;:.]+$/, '');
  if (CROSS_REFERENCE.test(text) || OPEN_ENDING.test(text)) return null;
  const m = /^(?:unless|except(?:\s+(?:where|when|if|that))?|save (?:where|when)|other than|excluding)\s+(.+)$/i.exec(text);
  if (!m) return null;
  const connective = /^unless|^except\s+if/i.test(text)
    ? 'if'
    : (/^(?:except|save)\s+(where|when)/i.exec(text)?.[1]?.toLowerCase() ?? 'for');
  return `${connective} ${m[1]}`;
}
