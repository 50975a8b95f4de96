import { sentences, STOP_WORDS, tokenise } from './text';

/**
 * A coarse, deterministic reading of what a text says is allowed.
 *
 * Stances:
 * - forbid  — "must not", "may not", "cannot", "is not allowed", "prohibited", "never", imperative "do not …";
 * - permit  — "may", "can", "allowed", "permitted", "entitled", "free to", "ok";
 * - require — "must", "shall", "should", "required", "mandatory", "have to", "need to";
 * - exempt  — "not required", "do not have to", "need not", "no need to", "optional".
 * A cue is negated when a negation word ("not", "no", "never", "dont", "cannot", …) comes right after it
 * or within the two tokens before it (in the same sentence, up to a comma, colon, parenthesis or dash). A negated permit cue is a forbid; a
 * negated "must"/"shall"/"should" is a forbid; a negated "required"/"have to"/"need to" is an exempt.
 *
 * Contradiction: for each stance S the clause takes (when the clause takes both a stance and its opposite it
 * is "mixed" and nothing is checked), the answer contradicts the clause when it takes a stance opposed to S
 * and no stance supporting S. Opposites: forbid ↔ permit, require ↔ exempt. Supporting: the same stance,
 * forbid ↔ require for each other ("must decline" restates "must not accept"), permit ↔ exempt for each other.
 * Forbid and require support each other only on different actions: an answer that requires the very action the
 * clause forbids ("must destroy or alter records" against "must not destroy or alter records"), or forbids the
 * action the clause requires, contradicts it — the action being the content words after the modal, compared by
 * verb and object (see `sameAction`). This check also applies to mixed clauses, per action.
 * Cues whose subject is the speaker ("I can't help", "I'm not allowed to say") are ignored: they are about the
 * assistant, not the rule (refusals are measured separately).
 */

export type Stance = 'forbid' | 'permit' | 'require' | 'exempt';

const NEGATIONS: ReadonlySet<string> = new Set([
  'not',
  'no',
  'never',
  'dont',
  'doesnt',
  'didnt',
  'isnt',
  'arent',
  'wasnt',
  'werent',
  'wont',
  'cannot',
  'cant',
  'mustnt',
  'shouldnt',
  'shant',
  'neednt',
  'nor',
]);
/** Words that forbid on their own. */
const FORBID_WORDS: ReadonlySet<string> = new Set([
  'prohibited',
  'forbidden',
  'banned',
  'disallowed',
  'impermissible',
  'cannot',
  'cant',
  'mustnt',
  'shouldnt',
  'shant',
]);
const PERMIT_WORDS: ReadonlySet<string> = new Set([
  'may',
  'can',
  'allowed',
  'permitted',
  'entitled',
  'ok',
  'okay',
  'acceptable',
  'permissible',
]);
/** Strong obligation modals: negated, they forbid. */
const STRONG_REQUIRE_WORDS: ReadonlySet<string> = new Set(['must', 'shall', 'should']);
/** Obligation words that, negated, exempt. */
const WEAK_REQUIRE_WORDS: ReadonlySet<string> = new Set(['required', 'mandatory', 'obliged', 'obligated', 'compulsory']);
/** Two-token obligation phrases whose first token is one of these and second is "to". */
const REQUIRE_TO: ReadonlySet<string> = new Set(['have', 'has', 'need', 'needs']);
const EXEMPT_WORDS: ReadonlySet<string> = new Set(['optional', 'neednt']);

export const OPPOSING: Readonly<Record<Stance, readonly Stance[]>> = {
  forbid: ['permit'],
  permit: ['forbid'],
  require: ['exempt'],
  exempt: ['require'],
};
/**
 * An obligation supports a prohibition and vice versa: "must decline" restates "must not accept". On the
 * same action they are opposites instead (see `checkModality`).
 */
export const SUPPORTING: Readonly<Record<Stance, readonly Stance[]>> = {
  forbid: ['forbid', 'require'],
  permit: ['permit', 'exempt'],
  require: ['require', 'forbid'],
  exempt: ['exempt', 'permit'],
};

function isNegatedAround(tokens: readonly string[], index: number, width: number): boolean {
  if (NEGATIONS.has(tokens[index + width] ?? '')) return true;
  for (let k = Math.max(0, index - 2); k < index; k += 1) {
    if (NEGATIONS.has(tokens[k] as string)) return true;
  }
  return false;
}

function imperativeForbid(tokens: readonly string[]): boolean {
  const first = tokens[0];
  return first === 'never' || first === 'dont' || (first === 'do' && tokens[1] === 'not');
}

/** Pronouns of the speaker: "I can't help", "I may be wrong", "I'm not allowed to say" speak of the assistant, not of the rule. */
const FIRST_PERSON: ReadonlySet<string> = new Set(['i', 'im', 'ive', 'id', 'ill']);

/** Words that may sit between the speaker and the cue: "I am not allowed", "I really cannot". */
const SUBJECT_FILLERS: ReadonlySet<string> = new Set(['am', 'was', 'really', 'just', 'also', 'simply', 'therefore']);

function firstPersonSubject(tokens: readonly string[], index: number): boolean {
  for (let k = index - 1; k >= Math.max(0, index - 3); k -= 1) {
    const token = tokens[k] as string;
    if (FIRST_PERSON.has(token)) return true;
    if (!NEGATIONS.has(token) && !SUBJECT_FILLERS.has(token)) return false;
  }
  return false;
}

/** A stance with the action it is taken on: the content words after the cue ("must not destroy or alter records" → destroy, alter, records). */
export interface StanceAction {
  stance: Stance;
  action: string[];
}

/** Up to four content words after a cue, negations and "to"/"be" skipped, within the segment. */
function actionAfter(tokens: readonly string[], from: number): string[] {
  const out: string[] = [];
  for (let k = from; k < tokens.length && out.length < 4; k += 1) {
    const t = tokens[k] as string;
    if (NEGATIONS.has(t) || STOP_WORDS.has(t) || t === 'be') continue;
    out.push(t);
  }
  return out;
}

const stem = (t: string): string => t.replace(/(?:ing|ed|es|s)$/, '');

/**
 * Two actions are the same when their verbs (first content words) match and, where both name more,
 * they share another word: "destroy or alter records" = "destroy records"; "decline" ≠ "accept gifts".
 */
export function sameAction(a: readonly string[], b: readonly string[]): boolean {
  if (a.length === 0 || b.length === 0 || stem(a[0] as string) !== stem(b[0] as string)) return false;
  if (a.length < 2 || b.length < 2) return true;
  const rest = new Set(a.slice(1).map(stem));
  return b.slice(1).some((t) => rest.has(stem(t)));
}

function segmentStances(tokens: readonly string[], into: Set<Stance>, actions: StanceAction[] = []): void {
  for (let i = 0; i < tokens.length; i += 1) {
    const t = tokens[i] as string;
    const next = tokens[i + 1];
    if (firstPersonSubject(tokens, i)) continue;
    if (STRONG_REQUIRE_WORDS.has(t) || t === 'never') {
      const stance: Stance = t !== 'never' && !isNegatedAround(tokens, i, 1) ? 'require' : 'forbid';
      actions.push({ stance, action: actionAfter(tokens, i + 1) });
    }
    if (t === 'never') {
      into.add('forbid');
    } else if (FORBID_WORDS.has(t)) {
      into.add('forbid');
    } else if (EXEMPT_WORDS.has(t)) {
      into.add('exempt');
    } else if (t === 'no' && (next === 'need' || next === 'obligation' || next === 'requirement')) {
      into.add('exempt');
    } else if (PERMIT_WORDS.has(t)) {
      into.add(isNegatedAround(tokens, i, 1) ? 'forbid' : 'permit');
    } else if (t === 'free' && next === 'to') {
      into.add(isNegatedAround(tokens, i, 2) ? 'forbid' : 'permit');
    } else if (STRONG_REQUIRE_WORDS.has(t)) {
      into.add(isNegatedAround(tokens, i, 1) ? 'forbid' : 'require');
    } else if (WEAK_REQUIRE_WORDS.has(t)) {
      into.add(isNegatedAround(tokens, i, 1) ? 'exempt' : 'require');
    } else if (REQUIRE_TO.has(t) && next === 'to') {
      // "need not" is handled by 'neednt'-style tokens; "need to"/"have to" negated ("dont have to") exempts.
      into.add(isNegatedAround(tokens, i, 2) ? 'exempt' : 'require');
    } else if (t === 'need' && next === 'not') {
      into.add('exempt');
    }
  }
}

/** The stances a text takes, over all its sentences. */
export function stancesOf(text: string): Set<Stance> {
  return readStances(text).stances;
}

/** The obligations and prohibitions a text states with the action each is about ("must not destroy records"). */
export function stanceActionsOf(text: string): StanceAction[] {
  return readStances(text).actions;
}

function readStances(text: string): { stances: Set<Stance>; actions: StanceAction[] } {
  const stances = new Set<Stance>();
  const actions: StanceAction[] = [];
  for (const sentence of sentences(text)) {
    if (imperativeForbid(tokenise(sentence))) stances.add('forbid');
    // Negation scope ends at a comma, colon or dash: "No, you can keep it" permits.
    for (const segment of sentence.split(/[,:()]|\s[-–—]\s/u)) segmentStances(tokenise(segment), stances, actions);
  }
  return { stances, actions };
}

/**
 * Clause stances the answer reverses on the same action: the clause forbids an action the answer
 * requires ("must not destroy or alter records" / "must destroy or alter records"), or requires one
 * the answer forbids. Actions the clause itself both requires and forbids are skipped.
 */
function reversedOnSameAction(answer: string, clauseText: string): Stance[] {
  const clause = stanceActionsOf(clauseText).filter((x) => x.action.length > 0);
  const given = stanceActionsOf(answer).filter((x) => x.action.length > 0);
  const out: Stance[] = [];
  for (const c of clause) {
    const opposite: Stance = c.stance === 'forbid' ? 'require' : 'forbid';
    if (clause.some((o) => o.stance === opposite && sameAction(o.action, c.action))) continue;
    if (given.some((g) => g.stance === opposite && sameAction(g.action, c.action))) out.push(c.stance);
  }
  return out;
}

/** True when the clause takes a stance and also one opposed to it (e.g. permits some gifts, forbids cash). */
export function isMixed(stances: ReadonlySet<Stance>): boolean {
  for (const s of stances) if (OPPOSING[s].some((o) => stances.has(o))) return true;
  return false;
}

export interface ModalityCheck {
  contradiction: boolean;
  clauseStances: Stance[];
  answerStances: Stance[];
  /** The clause stances the answer contradicts. */
  contradicted: Stance[];
}

const ORDER: readonly Stance[] = ['forbid', 'require', 'exempt', 'permit'];
const sorted = (s: ReadonlySet<Stance>): Stance[] => ORDER.filter((x) => s.has(x));

export function checkModality(answer: string, clauseText: string): ModalityCheck {
  const clause = stancesOf(clauseText);
  const given = stancesOf(answer);
  const contradicted: Stance[] = [];
  if (!isMixed(clause)) {
    for (const s of clause) {
      const opposes = OPPOSING[s].some((o) => given.has(o));
      const supports = SUPPORTING[s].some((o) => given.has(o));
      if (opposes && !supports) contradicted.push(s);
    }
  }
  contradicted.push(...reversedOnSameAction(answer, clauseText));
  return {
    contradiction: contradicted.length > 0,
    clauseStances: sorted(clause),
    answerStances: sorted(given),
    contradicted: sorted(new Set(contradicted)),
  };
}
