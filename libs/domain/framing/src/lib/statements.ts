import nlp from 'compromise';
import { ActionForm, Clause, DocumentTree, NormativeKind, NormativeStatement } from './model';
import { capitalise, collapseWhitespace, lowerFirst, splitSentences } from './text';

/** A statement before it is tied to a clause. */
export interface StatementDraft {
  kind: NormativeKind;
  actor: string | null;
  action: string;
  actionForm: ActionForm;
  condition: string | null;
  exception: string | null;
  modality: string;
  sentence: string;
}

/**
 * How the words around a cue map to actor and action:
 * - active:   "<actor> must not <action>"
 * - passive:  "<action> is prohibited [<condition>]"; "… prohibited from <-ing>" / "… permitted to <verb>" act like active
 * - object:   "<actor> prohibits <action>"
 * - requires: "<action> requires <what>"
 * - nothing:  "Nothing in these Guidelines prohibits <action>"
 * - defines:  "<term> constitutes / is considered to be / does not include <what>": the subject is the term
 */
type CueForm = 'active' | 'passive' | 'object' | 'requires' | 'nothing' | 'defines';

interface Cue {
  kind: NormativeKind;
  re: RegExp;
  form: CueForm;
}

const ADVERB = String.raw`(?:[a-z]+ly )?`;

// Order matters only for ties: the earliest match in the sentence wins, then the longest.
const CUES: Cue[] = [
  { kind: 'exception', re: /\bnothing in (?:these|this|the) [\w ]+? (?:prohibits|prevents|restricts|limits)\b/gi, form: 'nothing' },
  { kind: 'exception', re: /\b(?:does|do|shall|will) not apply\b/gi, form: 'passive' },
  { kind: 'exception', re: /\b(?:is|are) not subject to\b/gi, form: 'passive' },
  { kind: 'exception', re: /\b(?:is|are) not (?:considered|deemed) to\b/gi, form: 'active' },
  { kind: 'exception', re: /\b(?:is|are) (?:not considered|exempt(?:ed)?)(?: from)?\b/gi, form: 'passive' },
  // A carve-out from a duty ("is not required to", "need not") is an exception to it.
  { kind: 'exception', re: /\b(?:is|are) not (?:required|obliged|obligated|expected) to\b/gi, form: 'active' },
  { kind: 'exception', re: /\b(?:need|needs) not\b/gi, form: 'active' },
  { kind: 'exception', re: /\b(?:does|do) not (?:need|have) to\b/gi, form: 'active' },
  { kind: 'exception', re: /\b(?:does|do) not include\b/gi, form: 'defines' },
  { kind: 'exception', re: /\b(?:is|are) not effective\b/gi, form: 'passive' },
  { kind: 'definition', re: /\b(?:is|are) (?:considered|deemed|treated as) (?:not )?(?:to be\b)?/gi, form: 'defines' },
  // Not the verb of an infinitive or a modal ("to include a statement", "must include the name").
  { kind: 'definition', re: /(?<!\b(?:to|must|shall|may|should|will|not|also)\s)\b(?:constitutes?|includes?)\b/gi, form: 'defines' },
  // What counts as a breach, and whom a rule reaches: "Failure to certify is itself a breach", "These Guidelines apply to all employees".
  {
    kind: 'definition',
    re: /\b(?:is|are) (?:not )?(?:in itself |itself |themselves |also )?(?:a|an) (?:breach|violation|offen[cs]e|infringement)\b/gi,
    form: 'defines',
  },
  { kind: 'definition', re: /\b(?:applies|apply)(?= to\b| regardless\b| equally\b| also\b| in all\b| whether\b)/gi, form: 'defines' },
  { kind: 'exception', re: /\b(?:is|are) not (?:protected|covered) by\b/gi, form: 'active' },
  { kind: 'permission', re: /\b(?:is|are) (?:permitted|allowed|entitled|free|encouraged) to\b/gi, form: 'active' },
  { kind: 'permission', re: /\b(?:has|have) the right(?: and the duty)? to\b/gi, form: 'active' },
  { kind: 'prohibition', re: /\b(?:must|shall|may|should|will|can) (?:not|never)\b/gi, form: 'active' },
  { kind: 'prohibition', re: /\b(?:cannot|mustn't|shan't|can't)\b/gi, form: 'active' },
  {
    kind: 'prohibition',
    re: new RegExp(String.raw`\b(?:is|are) ${ADVERB}(?:prohibited|forbidden|banned|not permitted|not allowed)\b(?: (?:from|to)\b)?`, 'gi'),
    form: 'passive',
  },
  { kind: 'prohibition', re: /\bprohibits\b/gi, form: 'object' },
  { kind: 'prohibition', re: /^(?:never|do not|don't)\b/gi, form: 'active' },
  { kind: 'prohibition', re: /\bnever\b/gi, form: 'active' },
  { kind: 'permission', re: /\bmay\b(?! not\b| never\b)/gi, form: 'active' },
  { kind: 'permission', re: new RegExp(String.raw`\b(?:is|are) ${ADVERB}(?:permitted|allowed)\b`, 'gi'), form: 'passive' },
  { kind: 'obligation', re: /\b(?:must|shall)\b(?! not\b| never\b)/gi, form: 'active' },
  { kind: 'obligation', re: /\b(?:is|are) (?:required|obliged|obligated|expected) to\b/gi, form: 'active' },
  { kind: 'obligation', re: /\b(?:is|are) responsible for\b/gi, form: 'active' },
  { kind: 'obligation', re: /\b(?:has|have) to\b/gi, form: 'active' },
  { kind: 'obligation', re: /\bshould\b(?! not\b| never\b)/gi, form: 'active' },
  { kind: 'obligation', re: /\brequires?\b/gi, form: 'requires' },
  { kind: 'obligation', re: /^always\b/gi, form: 'active' },
  { kind: 'obligation', re: /\b(?:is|are) required\b/gi, form: 'passive' },
];

/** "may" that expresses possibility ("may lead to dismissal"), not permission. */
const POSSIBILITY_MAY =
  /^may (?:lead to|result in|include|face|cause|vary|also|be reported|be subject|be subjected|have been|affect|appear|seem|occur|arise|be seen|be overheard|not be|be made|be used to|be needed|be necessary|be required|be appropriate|be available|be relevant|be exposed|be at risk)\b/i;

const DEFINITION_QUOTED =
  /^(?:the term\s+)?["\u201C']([^"\u201D']{1,80})["\u201D']\s+(means|refers to|is defined as|shall mean|has the meaning)\s+(.+)$/i;
const DEFINITION_BARE =
  /^(?:(?:an?|the)\s+)?([A-Za-z][\w-]*(?:\s+[A-Za-z][\w-]*){0,4})\s+(means|refers to|is defined as|shall mean)(?:[\s,]+(.+))?$/i;
/** "For purposes of paragraph (a)(5)(i) of this section, underwriting purposes means …": the scope of a definition. */
const DEFINITION_SCOPE = /^(for (?:the )?purposes? of [^,]+),\s+/i;
const NOT_A_TERM = /^(?:this|that|it|which|these|those|what|doing so)$/i;

const LEADING_EXCEPTION = /^(?:unless|except (?:where|when|if|for|as|in|pursuant to|to the extent))\b/i;
/** Leading phrases that end at their first comma: "Notwithstanding any other provision of this subpart, …". */
const PHRASE_LEAD =
  /^(?:notwithstanding|nothwithstanding|for (?:the )?purposes? of|except (?:for|pursuant to|as provided in|as otherwise provided in)|as (?:specified|provided|required|described|set out) in|in accordance with|pursuant to|subject to)\b/i;
const LEADING_CONDITION =
  /^(?:if|when|where|whenever|once|before|after|while|even if|even where|even with|in case|provided that|as long as|during|for the purposes? of|notwithstanding|nothwithstanding|to the extent|as (?:specified|provided|required|described|set out) in|in accordance with|pursuant to|subject to)\b/i;
const LEAD_IN = /^(?:however|in addition|furthermore|moreover|also|for example|as a rule|in particular),\s+/i;
const TRAILING_EXCEPTION = /,?\s+\b(unless|except (?:where|when|if|for|as|in|pursuant to|to the extent)|save where)\s+(.+)$/i;
/**
 * Adverbials that scope a rule rather than name what it is about: cross-references ("as permitted
 * by § 164.506", "pursuant to …", "in accordance with …"), purposes and respects ("with respect to
 * …", "as necessary to …") and time limits ("no later than 60 days …", "within a reasonable time",
 * "for a period of 50 years"). They go to the condition.
 */
const SCOPING =
  /(?:,\s+|\s+)\b((?:as (?:otherwise )?(?:permitted|required|provided|described|specified|set out|set forth|defined|listed|necessary)|in (?:accordance|compliance) with|pursuant to|subject to|consistent with|with respect to|whether or not|no later than|not later than|within (?:a|an|the|\d+|[a-z]+)(?:\s+[a-z]+)?\s+(?:time|days?|months?|years?|period)|for a period of|at least \d+|as a condition of)\b.*)$/i;
const TRAILING_CONDITION =
  /,?\s+\b(provided that|as long as|so long as|only if|only where|only when|only with|only after|only for|only through|if(?!\s+(?:any|applicable|so|appropriate|necessary|known)\b)|whenever|even if|even where|even with|regardless of whether|regardless of)\s+(.+)$/i;
const TRAILING_COMMA_CONDITION = /,\s+(where|when|while|before|after|whatever|whether)\s+(.+)$/i;
const VALUE_LIMIT =
  /\s*\b((?:with a (?:market )?value (?:of )?|worth |to a value of )?(?:up to|not exceeding|no more than|less than|more than|above|below|over|under|exceeding|at least)\s+(?:US)?\$[\d,]+(?:\.\d+)?(?:\s+(?:per|a|each)\s+(?:person|gift|event|year|calendar year|day|month)(?:\s+per\s+(?:person|event|year))?)?(?:\s+in value)?)/i;
const PRONOUN = /^(?:they|he or she|he|she|it|we|you|them)$/i;

/** For "<subject> requires <what>" the requirement stays in the sentence; it is not a condition. */
function isRequirement(draft: StatementDraft): boolean {
  return /^requires?$/.test(draft.modality);
}

function clean(sentence: string): string {
  return collapseWhitespace(
    sentence
      .replace(/\s*\((?:§|see\s)[^)]*\)/gi, '')
      .replace(/\s*§\s*[\d.]+[a-z]?/g, (m) => m)
      .replace(/[.!?:;]+\s*$/, ''),
  );
}

/**
 * "such person" in an action, resolved to the noun phrase the sentence's leading condition introduced:
 * "If under applicable law an executor, administrator, or other person has authority …, a covered
 * entity must treat such person as …" → "treat an executor, administrator, or other person as …".
 */
export function resolveSuch(action: string, condition: string | null): string {
  const such = /\bsuch ([a-z][\w-]*)\b/i.exec(action);
  if (!such || !condition) return action;
  const head = (such[1] as string).toLowerCase();
  const np = new RegExp(
    String.raw`\b((?:an?|the|any)\s+(?:[\w-]+,?\s+){0,8}?${head}\b(?:\s+(?:acting|of|in|on|with)\b(?:\s+[\w-]+){1,4}?)?)\s+(?:has|have|is|are|was|were|does|do|who|that)\b`,
    'i',
  ).exec(condition);
  return np ? `${action.slice(0, such.index)}${np[1] as string}${action.slice(such.index + such[0].length)}` : action;
}

/** An action without its parenthetical elaborations: "eligibility (including enrollment …) for benefits" → "eligibility for benefits". */
function withoutAsides(action: string): string {
  const stripped = collapseWhitespace(action.replace(/\s*\((?:including|e\.g\.|i\.e\.|such as|for example|see)\b[^()]*\)/gi, ''));
  return stripped || action;
}

function trimPhrase(text: string): string {
  return collapseWhitespace(text)
    .replace(/^[\s,;:]+/, '')
    .replace(/^(?:and|or|but|then|that)\s+/i, '')
    .replace(/[\s,;:.]+$/, '')
    .replace(/\s+(?:and|or|but)$/i, '')
    .trim();
}

interface CueMatch {
  cue: Cue;
  index: number;
  text: string;
}

function findCue(text: string): CueMatch | null {
  let best: CueMatch | null = null;
  for (const cue of CUES) {
    cue.re.lastIndex = 0;
    for (let m = cue.re.exec(text); m !== null; m = cue.re.exec(text)) {
      if (cue.kind === 'permission' && /^may$/i.test(m[0]) && POSSIBILITY_MAY.test(text.slice(m.index))) continue;
      if (best === null || m.index < best.index || (m.index === best.index && m[0].length > best.text.length)) {
        best = { cue, index: m.index, text: m[0] };
      }
      break;
    }
  }
  return best;
}

/** Split a sentence where two independent normative clauses are coordinated (";", ", and", "and must"). */
function splitCoordinated(sentence: string): string[] {
  const candidates =
    /;\s+|,\s+(?:and|but|while|whereas|although)\s+|\s+(?:and|but)\s+(?=(?:must|shall|may|need|should|is|are|does|do)\b)/gi;
  const parts: string[] = [];
  let rest = sentence;
  candidates.lastIndex = 0;
  let searchFrom = 0;
  for (;;) {
    candidates.lastIndex = searchFrom;
    const m = candidates.exec(rest);
    if (m === null) break;
    const left = rest.slice(0, m.index);
    const right = rest.slice(m.index + m[0].length);
    // "must permit … and must accommodate …": one duty with a compound verb, as a reader counts it.
    const sameModal =
      /^\s+and\s+$/i.test(m[0]) && findCue(left)?.text.toLowerCase() === findCue(right)?.text.toLowerCase() && findCue(right)?.index === 0;
    if (m[0].startsWith(';') || (findCue(left) && findCue(right) && !sameModal)) {
      parts.push(left);
      rest = right;
      searchFrom = 0;
    } else {
      searchFrom = m.index + m[0].length;
    }
  }
  parts.push(rest);
  return parts;
}

/**
 * "If X, the Employee must …" / "Unless X, employees must not …": split off the leading clause at
 * the last comma after which a cue still follows, without swallowing a main clause that itself
 * has a cue ("If X, employees must A, and they must B" splits after X).
 */
function splitLeadingClause(text: string): { type: 'condition' | 'exception'; clause: string; rest: string } | null {
  const type = LEADING_EXCEPTION.test(text) ? 'exception' : LEADING_CONDITION.test(text) ? 'condition' : null;
  if (type === null) return null;
  const commas: number[] = [];
  for (let i = text.indexOf(', '); i >= 0; i = text.indexOf(', ', i + 1)) commas.push(i);
  if (PHRASE_LEAD.test(text) && commas.length > 0) {
    // "Notwithstanding any exception in this subpart, other than § 2635.204(j), an employee …": the aside belongs to the phrase.
    let k = 0;
    while (k + 1 < commas.length && /^(?:other than|except|excluding|including)\b/i.test(text.slice((commas[k] as number) + 2))) k += 1;
    const at = commas[k] as number;
    if (findCue(text.slice(at + 2)))
      return { type, clause: text.slice(0, at).charAt(0).toLowerCase() + text.slice(1, at), rest: text.slice(at + 2) };
  }
  for (let k = commas.length - 1; k >= 0; k--) {
    const at = commas[k] as number;
    const clause = text.slice(0, at);
    const rest = text.slice(at + 2);
    if (!findCue(rest)) continue;
    const firstComma = clause.indexOf(', ');
    const after = clause.slice(firstComma + 2);
    // "If X, or Y cannot be provided, the covered entity may …": a coordinated condition is still the condition.
    if (firstComma >= 0 && !/^(?:or|and)\b/i.test(after) && findCue(after)) continue;
    return { type, clause: clause.charAt(0).toLowerCase() + clause.slice(1), rest };
  }
  return null;
}

function joinConditions(...parts: Array<string | null | undefined>): string | null {
  const present = parts.map((p) => (p ? trimPhrase(p) : '')).filter((p) => p.length > 0);
  return present.length > 0 ? present.join('; ') : null;
}

function analyseDefinition(full: string, sentence: string): StatementDraft | null {
  const scope = DEFINITION_SCOPE.exec(full);
  const text = scope ? full.slice(scope[0].length) : full;
  const quoted = DEFINITION_QUOTED.exec(text);
  const bare = quoted ? null : DEFINITION_BARE.exec(text);
  const m = quoted ?? bare;
  if (!m) return null;
  const term = trimPhrase(m[1] as string);
  if (NOT_A_TERM.test(term) || findCue(term)) return null;
  return {
    kind: 'definition',
    actor: term,
    action: trimPhrase(m[3] ?? ''),
    actionForm: 'noun',
    condition: scope ? (scope[1] as string) : null,
    exception: null,
    modality: (m[2] as string).toLowerCase(),
    sentence,
  };
}

interface Inherited {
  actor: string | null;
  /** The leading condition of the first part, which governs the coordinated parts too. */
  condition: string | null;
  /** The full condition of the previous part ("…; in that case …"). */
  previousCondition: string | null;
}

function analysePart(part: string, sentence: string, inherited: Inherited): StatementDraft | null {
  let text = part.replace(LEAD_IN, '');
  const definition = analyseDefinition(text, sentence);
  if (definition) return definition;

  let leadingCondition: string | null = null;
  let exception: string | null = null;
  const inThatCase = /^in (?:that|such a|this) case,?\s+/i.exec(text);
  if (inThatCase) {
    text = text.slice(inThatCase[0].length);
    leadingCondition = inherited.previousCondition;
  }
  const lead = splitLeadingClause(text);
  if (lead) {
    if (lead.type === 'exception') exception = lead.clause;
    else leadingCondition = joinConditions(leadingCondition, lead.clause);
    text = lead.rest;
  }

  // "No Employee shall …", "No one may …": a prohibition addressed to everyone in the class.
  const noOne = /^(no one|nobody|no\s+(?!one\b)([\w-]+(?:\s+[\w-]+)?))\s+(shall|may|must|will|can|should|is to)\s+(.+)$/i.exec(text);
  let draft: StatementDraft;
  let tail: string;
  let cueEnd: number;
  if (noOne) {
    const who = noOne[2] ? `any ${noOne[2]}` : 'anyone';
    tail = noOne[4] as string;
    cueEnd = text.length - tail.length;
    draft = {
      kind: 'prohibition',
      actor: who,
      action: '',
      actionForm: 'verb',
      condition: null,
      exception: null,
      modality: `no … ${(noOne[3] as string).toLowerCase()}`,
      sentence,
    };
  } else {
    let match = findCue(text);
    // A cue inside a relative clause on the subject ("A covered entity that is required by § 164.520 to
    // have a notice may not …") describes the subject; the statement's cue is the next one.
    for (let from = 0; match && /\b(?:that|who|which)\s*$/i.test(text.slice(0, match.index));) {
      from = match.index + match.text.length;
      const next = findCue(text.slice(from));
      if (!next) return null;
      match = { ...next, index: next.index + from };
    }
    if (!match) return null;
    // The actor is the subject right before the cue, not an earlier clause joined to it.
    const before = trimPhrase(
      text
        .slice(0, match.index)
        .split(/,\s+(?:and|but|although|while)\s+|;\s+/)
        .pop() ?? '',
    );
    cueEnd = match.index + match.text.length;
    tail = text.slice(cueEnd);
    let modality = match.text.toLowerCase();
    const { cue } = match;
    let kind = cue.kind;
    // "may <verb> [its object] only as / only if / only one …" confines what is allowed: a prohibition of the rest.
    const only = /^\s+((?:[\w-]+\s+){0,7}?)only\b/i.exec(tail);
    if (kind === 'permission' && modality === 'may' && only && !/[,;]/.test(only[1] as string)) {
      kind = 'prohibition';
      modality = 'may … only';
    }
    draft = { kind, actor: null, action: '', actionForm: 'verb', condition: null, exception: null, modality, sentence };
    if (cue.form === 'active') {
      draft.actor = before || null;
      if (/^(?:is|are) responsible for$/i.test(match.text)) draft.actionForm = 'noun';
    } else if (cue.form === 'passive') {
      if (/ from$/i.test(match.text)) {
        draft.actor = before || null;
        draft.actionForm = 'noun';
      } else if (/ to$/i.test(match.text)) {
        draft.actor = before || null;
      } else {
        // "<action> is prohibited, <condition>": the subject is what is ruled on.
        draft.actionForm = 'noun';
        draft.action = before;
        draft.modality = modality.replace(/^(is|are) [a-z]+ly /, '$1 ');
      }
    } else if (cue.form === 'defines') {
      // "<term> constitutes / does not include / is considered to be <what>": the subject is the term.
      // Inside a relative clause ("standards that apply to everyone") it is description, not a rule.
      if (!before || /\b(?:that|which|who)$/i.test(before)) return null;
      draft.actor = before;
      draft.actionForm = 'noun';
      // "is itself a breach": the category is part of what the term is defined as.
      const category = /\b((?:a|an) [a-z]+)$/i.exec(match.text);
      if (category) {
        tail = ` ${category[1] as string}${tail}`;
        draft.modality = /\bnot\b/i.test(match.text) ? 'is not' : 'is';
      }
    } else if (cue.form === 'object' || cue.form === 'nothing') {
      draft.actionForm = 'noun';
      if (cue.form === 'object' && before && !/^the company$/i.test(before)) draft.actor = before;
    } else {
      // requires: "<subject> requires <what>" — the subject is what the rule is about.
      draft.actionForm = 'noun';
      draft.action = before;
    }
  }

  // A phrase set off by commas right after the cue: "must, except as provided in paragraph (g)(3), treat …".
  let inserted: string | null = null;
  const aside = /^\s*,\s*([^,]+?),\s+(?=\S)/.exec(tail);
  if (aside && /^(?:except|unless|if|when|where|as|in|to the extent|subject to|at)\b/i.test(aside[1] as string)) {
    inserted = aside[1] as string;
    tail = ` ${tail.slice(aside[0].length)}`;
    if (/^(?:except|unless)\b/i.test(inserted)) {
      exception = joinConditions(exception, inserted);
      inserted = null;
    }
  }
  // Trailing exception and condition: only after the cue, so a subject's "who …" stays the actor.
  const exc = TRAILING_EXCEPTION.exec(tail);
  if (exc) {
    exception = joinConditions(exception, `${(exc[1] as string).toLowerCase()} ${exc[2] as string}`);
    tail = tail.slice(0, exc.index);
  }
  // "may use or disclose PHI only as permitted by its contract": the confinement is what the rule says.
  const confined = draft.modality === 'may … only' ? trimPhrase(tail) : null;
  let trailingCondition: string | null = null;
  const cond = TRAILING_CONDITION.exec(tail) ?? TRAILING_COMMA_CONDITION.exec(tail);
  if (cond && cond.index > 0) {
    trailingCondition = `${(cond[1] as string).toLowerCase()} ${cond[2] as string}`;
    tail = tail.slice(0, cond.index);
  }
  const scoping = draft.actionForm === 'verb' || draft.action === '' ? scopingIn(tail) : null;
  // A reference that ends where the object goes on: "include the material appended in accordance with
  // paragraph (d)(4), or, at the election of the covered entity, an accurate summary …".
  const goesOn = scoping ? /,\s+(?:or|and)\b,?\s*/.exec(scoping[1] as string) : null;
  if (scoping && goesOn && scoping.index > 0) {
    const phrase = scoping[1] as string;
    trailingCondition = joinConditions(phrase.slice(0, goesOn.index), trailingCondition);
    tail = `${tail.slice(0, scoping.index)}${phrase.slice(goesOn.index)}`;
  } else if (scoping && scoping.index > 0) {
    // "disclose, or provide access in accordance with § 164.524 to, protected health information …":
    // a reference set inside the verb phrase; the object after it stays in the action.
    const inside = /^(.*?\S)\s+(to|for|from|of),\s+(.+)$/.exec(scoping[1] as string);
    if (inside && (inside[1] as string).split(' ').length <= 8) {
      trailingCondition = joinConditions(inside[1] as string, trailingCondition);
      tail = `${tail.slice(0, scoping.index)} ${inside[2] as string} ${inside[3] as string}`;
    } else {
      trailingCondition = joinConditions(scoping[1] as string, trailingCondition);
      tail = tail.slice(0, scoping.index);
    }
  }
  let limit: string | null = null;
  const value = VALUE_LIMIT.exec(tail);
  if (value && (draft.action === '' || draft.actionForm === 'verb')) {
    limit = value[1] as string;
    tail = `${tail.slice(0, value.index)} ${tail.slice(value.index + value[0].length)}`;
  }

  if (draft.action === '') {
    draft.action = confined ?? trimPhrase(tail);
  } else if (trimPhrase(tail) && !isRequirement(draft)) {
    // Passive rules: what follows the cue qualifies the rule.
    trailingCondition = joinConditions(trimPhrase(tail), trailingCondition);
  }
  if (draft.actor && PRONOUN.test(draft.actor)) {
    // "They must …" after "Employees may …": the pronoun stands for the earlier actor. An
    // unresolvable "it"/"they" ("It may be money …") is description, not a rule.
    if (inherited.actor) draft.actor = inherited.actor;
    else if (!/^(?:you|we)$/i.test(draft.actor)) return null;
  }
  if (!draft.actor && inherited.actor && draft.actionForm === 'verb' && /^(?:must|shall|may|need|should|is|are|does|do)/i.test(part)) {
    draft.actor = inherited.actor;
  }
  draft.condition = joinConditions(limit, leadingCondition ?? inherited.condition, inserted, trailingCondition);
  draft.action = resolveSuch(draft.action, leadingCondition);
  // "must intervene and must report it": one duty with a compound verb; the modal is not repeated.
  if (draft.actionForm === 'verb')
    draft.action = draft.action.replace(new RegExp(String.raw`\s+(and|or)\s+${draft.modality}\s+`, 'i'), ' $1 ');
  draft.exception = exception ? trimPhrase(exception) : null;
  // "Such purposes include:": a lead-in with nothing after its cue; `analyseAll` keeps it only at a colon.
  if (!draft.action && !/[:\u2014]\s*$/.test(sentence)) return null;
  return draft;
}

/**
 * Find the normative statements in one sentence by rules over modal verbs, negation and
 * conditionals. "may not", "must not", "never", "no employee shall", "is prohibited" are
 * prohibitions; "is not required to", "need not", "may", "is permitted" are permissions; "must",
 * "shall", "are required to" are obligations; "does not apply", "is exempt", "nothing … prohibits"
 * are exceptions; "X means …", "'X' is defined as …" are definitions. "unless …" / "except where …"
 * attach to the statement as its exception; "if/when/where/provided that …" and value limits
 * ("up to $100") become its condition. Two coordinated clauses give two statements.
 * `previousActor` resolves a leading pronoun ("They must …") to the previous sentence's actor.
 */
export function analyseSentence(sentence: string, previousActor: string | null = null): StatementDraft[] {
  const whole = collapseWhitespace(sentence);
  // "The following are prohibited:" or "… means:" only introduce a list; a lead-in is read by `frameStatements`.
  return analyseAll(sentence, previousActor).filter(
    (d) => !/^the following(?: \w+)?$/i.test(d.action) && (d.action !== '' || /[:\u2014]\s*$/.test(whole)),
  );
}

function analyseAll(sentence: string, previousActor: string | null): StatementDraft[] {
  const text = clean(sentence);
  if (!text) return [];
  const whole = collapseWhitespace(sentence);
  // ", except that …" carves a case out of the rule in place: a statement of its own, an exception.
  const carve = /,\s+except that,?\s+/i.exec(text);
  const main = carve ? text.slice(0, carve.index) : text;
  const out: StatementDraft[] = [];
  const inherited: Inherited = { actor: previousActor, condition: null, previousCondition: null };
  const parts = splitCoordinated(main);
  parts.forEach((part, i) => {
    const draft = analysePart(part, whole, inherited);
    if (!draft) return;
    if (i === 0) {
      inherited.actor = draft.kind === 'definition' ? null : (draft.actor ?? inherited.actor);
      const lead = splitLeadingClause(part.replace(LEAD_IN, ''));
      inherited.condition = lead?.type === 'condition' ? lead.clause : null;
    }
    inherited.previousCondition = draft.condition;
    out.push(draft);
  });
  // "…, provided that such decision must be made by …": a duty inside a condition is a statement of its own.
  for (const d of [...out]) {
    const proviso = d.condition ? /(?:^|;\s*|\s)provided that\s+(.+)$/i.exec(d.condition) : null;
    const duty = proviso
      ? analysePart(proviso[1] as string, `provided that ${proviso[1] as string}`, {
          actor: null,
          condition: null,
          previousCondition: null,
        })
      : null;
    if (proviso && duty && (duty.kind === 'obligation' || duty.kind === 'prohibition')) {
      d.condition = trimPhrase((d.condition as string).slice(0, proviso.index)) || null;
      out.push({ ...duty, actor: d.actor });
    }
  }
  // "…, except for the purposes in § 164.504(e)(2)(i)": a carve-out of a distinct purpose or party is an
  // exception of its own (a pointer such as "except as provided in …" only scopes the rule).
  for (const d of [...out]) {
    const carveOut = d.exception && !/^except\b/i.test(text) ? /^except for\s+(.+)$/i.exec(d.exception) : null;
    if (carveOut && d.kind !== 'exception') {
      const cond = TRAILING_CONDITION.exec(` ${carveOut[1] as string}`);
      out.push({
        kind: 'exception',
        actor: d.actor,
        action:
          `${d.action} ${trimPhrase(cond ? (carveOut[1] as string).slice(0, Math.max(0, cond.index - 1)) : (carveOut[1] as string))}`.trim(),
        actionForm: d.actionForm,
        condition: cond ? `${(cond[1] as string).toLowerCase()} ${cond[2] as string}` : null,
        exception: null,
        modality: 'except for',
        sentence: d.exception as string,
      });
    }
    // "A health plan, excluding an issuer of …, shall not …": the excluded party is carved out.
    const subject = d.actor ?? '';
    const excluded = /,\s+(?:excluding|other than)\s+(.+)$/i.exec(subject);
    if (excluded && d.kind !== 'exception') {
      out.push({
        kind: 'exception',
        actor: trimPhrase(excluded[1] as string),
        action: `not subject to the rule that ${trimPhrase(subject.slice(0, excluded.index))} ${d.modality} ${d.action}`,
        actionForm: 'noun',
        condition: null,
        exception: null,
        modality: 'excluding',
        sentence: trimPhrase(excluded[0].replace(/^,\s*/, '')),
      });
    }
  }
  if (carve) {
    const rest = text.slice(carve.index + carve[0].length);
    const excSentence = `except that ${rest}`;
    const found = rest ? analysePart(rest, excSentence, { actor: inherited.actor, condition: null, previousCondition: null }) : null;
    const actor = inherited.actor ?? found?.actor ?? null;
    if (found) {
      // The carve-out keeps its own verb and modal in the action: "such person may not be a personal representative …".
      const action = found.kind === 'exception' ? found.action : trimPhrase(`${found.actor ?? ''} ${found.modality} ${found.action}`);
      out.push({ ...found, kind: 'exception', actor, action, modality: 'except that', sentence: excSentence });
    } else if (rest) {
      out.push({
        kind: 'exception',
        actor,
        action: trimPhrase(rest),
        actionForm: 'noun',
        // "The covered entity informs the individual …, except that such termination is:": without a rule of
        // its own, what comes before is the situation the carve-out qualifies.
        condition: out.length === 0 ? trimPhrase(main) || null : null,
        exception: null,
        modality: 'except that',
        sentence: excSentence,
      });
    }
  }
  // "what we must do": a clause about rules, not a rule.
  return out.filter(
    (d) =>
      !(d.actor && /(?:^|\s)(?:what|which|how|why|whether|whatever)(?:\s+\S+)?$/i.test(d.actor)) &&
      (d.action !== '' || /[:\u2014]\s*$/.test(whole)),
  );
}

function clauseBody(clause: Clause): string {
  return clause.kind === 'qa' ? (clause.answer ?? clause.text) : clause.text;
}

// ------------------------------------------------------------- clauses and their lists ------

/**
 * The clauses that carry rules: paragraphs and list items, numbered or not (a section's
 * unnumbered introduction can state a rule: "A covered entity may use … provided that …").
 * Q&A and example call-outs restate rules informally and notes are editorial; they become
 * examples directly instead.
 */
export function statementSources(tree: DocumentTree): Clause[] {
  return tree.clauses.filter((c) => c.kind === 'paragraph' || c.kind === 'list-item');
}

/**
 * How a paragraph that ends in a lead-in ("… as follows:", "… does not apply to:", "… if:") hands
 * its rule to its items:
 * - objects: the items complete the lead-in ("(i) To the individual;"); each item is a statement
 *   with the lead-in's kind, actor and verb, and the lead-in is not a statement of its own;
 * - conditions: the items are conditions of the lead-in's statement ("… may terminate a restriction,
 *   if:"); they are folded into its condition, with their designators, and are statements only
 *   where they state a rule of their own.
 */
type LeadMode = 'objects' | 'conditions';

interface LeadIn {
  mode: LeadMode;
  /** The lead-in's statement; for objects, its action is the verb phrase the items complete. */
  draft: StatementDraft;
}

interface ClauseContext {
  /** The open lead-in of the nearest ancestor that has one. */
  leadIn: LeadIn | null;
  /** Conditions a lead-in carries to every statement under it ("If the covered entity accepts …"; "Notwithstanding …"). */
  conditions: string[];
  /** The actor of the nearest statement above, for "it"/"they" and subject-less items ("(1) May not intimidate …"). */
  actor: string | null;
}

// The text is normalised: an em dash reads as '-'.
const LEAD_IN_END = /(?::|\u2014|\s?--?)\s*$/;
const REFERRAL_END = /\b(?:as follows|the following(?:\s+[\w-]+){0,2})\s*[.:]?\s*$/i;
const CONDITION_LEAD_END = /\b(?:if|only if|provided that|provided|that|when|where|whenever|unless|whether)\s*(?::|\u2014|--?)\s*$/i;
const CONDITION_PREFIX =
  /^(?:except|notwithstanding|nothwithstanding|if|when|where|unless|subject to|in (?:addition|accordance)|for (?:the )?purposes? of|as (?:specified|provided|required))\b/i;

function stripListTail(text: string): string {
  return text
    .replace(/\s*[;,.]\s*(?:and|or)?\s*$/i, '')
    .replace(/\s+(?:and|or)\s*$/i, '')
    .replace(/[.;:]\s*$/, '')
    .trim();
}

/** The designator a reader writes for a clause within its list: "(iv)" of "164.502(a)(1)(iv)", "(a)" of "3.1.4(a)". */
function itemLabel(clause: Clause): string {
  const m = /(\([^()]+\))(?:_\d+)?$/.exec(clause.numbering);
  return m ? (m[1] as string) : '';
}

/** A scoping adverbial in `text`, unless it completes a preposition ("permitted by and in accordance with …"). */
function scopingIn(text: string): RegExpExecArray | null {
  const m = SCOPING.exec(text);
  if (!m) return null;
  return /\b(?:by|and|or|to|of|with|for|from|under|than|is|are|be|been|being|was|were)\s*,?\s*$/i.test(text.slice(0, m.index)) ? null : m;
}

/** An item's text split into what it adds to the lead-in's verb and the conditions that scope it. */
function splitItem(text: string): { core: string; conditions: string[] } {
  let core = stripListTail(text);
  const conditions: string[] = [];
  // "When required by the Secretary …" / "When appropriate, information as to …": a leading condition.
  const when = /^(?:when|whenever|if|where|unless|once|to the extent)\b/i.test(core) ? leadingClauseEnd(core) : -2;
  if (when === -1) return { core: '', conditions: [core] };
  if (when > 0) {
    conditions.push(core.slice(0, when));
    core = core.slice(when + 2);
  }
  const lead = /^((?:except|notwithstanding)\b[^,]*),\s+/i.exec(core);
  if (lead) {
    conditions.push(lead[1] as string);
    core = core.slice(lead[0].length);
  }
  const exc = TRAILING_EXCEPTION.exec(core);
  let trailing: string | null = null;
  if (exc && exc.index > 0) {
    trailing = `${(exc[1] as string).toLowerCase()} ${exc[2] as string}`;
    core = core.slice(0, exc.index);
  }
  const cond = TRAILING_CONDITION.exec(core) ?? TRAILING_COMMA_CONDITION.exec(core);
  // "A statement that, if the individual does not …, the individual may …": the condition is inside the complement.
  if (cond && cond.index > 0 && !/\bthat\s*$/i.test(core.slice(0, cond.index))) {
    trailing = joinConditions(`${(cond[1] as string).toLowerCase()} ${cond[2] as string}`, trailing);
    core = core.slice(0, cond.index);
  }
  const scoping = /^(?:pursuant to|as (?:otherwise )?(?:permitted|required|provided|described)|in (?:accordance|compliance) with)\b/i.test(
    core,
  )
    ? { index: 0, 1: core }
    : scopingIn(core);
  if (scoping) {
    trailing = joinConditions(scoping[1] as string, trailing);
    core = core.slice(0, scoping.index);
  }
  if (trailing) conditions.push(trailing);
  return { core: trimPhrase(core), conditions };
}

/**
 * Where a leading condition of an item ends: at the last comma followed by a verb ("If an action,
 * activity, or designation is required …, maintain a written record"), which compromise's tagger
 * recognises; else at the first comma; -1 when the item has none (all of it is the condition).
 */
function leadingClauseEnd(text: string): number {
  const commas: number[] = [];
  for (let i = text.indexOf(', '); i >= 0; i = text.indexOf(', ', i + 1)) commas.push(i);
  if (commas.length === 0) return -1;
  for (let k = commas.length - 1; k >= 0; k--) {
    const at = commas[k] as number;
    const next = /^[a-z][\w-]*/.exec(text.slice(at + 2))?.[0];
    if (next && nlp(next).has('#Infinitive')) return at;
  }
  return commas[0] as number;
}

/** "(i) The individual agrees …; (ii) … or (iii) …": an item and its sub-items, with their designators, as one condition text. */
function foldedText(clause: Clause, children: ReadonlyMap<string, Clause[]>): string {
  const own = `${itemLabel(clause)} ${clause.text}`.trim();
  const subs = (children.get(clause.id) ?? []).filter(isRuleText).map((c) => foldedText(c, children));
  return [own, ...subs].join(' ');
}

function isRuleText(clause: Clause): boolean {
  return clause.kind === 'paragraph' || clause.kind === 'list-item';
}

/** A draft's action with the lead-in's pointer to its list removed: "use or disclose PHI as follows" → "use or disclose PHI". */
function leadStem(action: string): string {
  return trimPhrase(action.replace(/\s*,?\s*\b(?:as follows|the following(?:\s+[\w-]+){0,2}|in the following [\w\s]+)$/i, ''));
}

/**
 * Where a subject's restriction starts: a relative clause ("that has agreed …"), a reduced relative
 * ("required by paragraph (e)(1)", "agreed to by a covered entity", "designed to enable …") or a carve-out.
 */
const SUBJECT_REL =
  /\s+(?:that|who|which|whose|whom)\s+|,\s+(?:excluding|other than)\s+|,?\s+(?=(?:required|described|referred|agreed|listed|specified|defined|permitted|designed|designated|identified|created|received|maintained|made|issued|adopted)\s+(?:by|in|to|under|for|with)\b)/i;

/**
 * A subject split into the party it names and what restricts it: "A covered entity that has agreed
 * to a restriction" → head "A covered entity", qualifier "that has agreed to a restriction".
 */
export function subjectParts(subject: string | null): { head: string | null; qualifier: string | null } {
  if (!subject) return { head: null, qualifier: null };
  const m = SUBJECT_REL.exec(subject);
  if (!m || m.index === 0) return { head: subject, qualifier: null };
  return { head: trimPhrase(subject.slice(0, m.index)), qualifier: trimPhrase(subject.slice(m.index).replace(/^,\s*/, '')) };
}

function partyKey(subject: string): string {
  return subject
    .toLowerCase()
    .replace(/^(?:a|an|the|any|each|every|no|such)\s+/, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * The parties a document addresses: subjects that the document binds, allows or forbids in at
 * least two active statements ("covered entity", "business associate", "Employees"). A subject
 * met once ("The denial must use plain language") or in the passive is what a rule is about, not
 * who it binds. Coordinated subjects ("covered entity or business associate") count when each part does.
 */
function documentParties(mentions: ReadonlyArray<{ draft: StatementDraft; clauseId: string }>): Set<string> {
  const counts = new Map<string, number>();
  const seen = new Set<string>();
  for (const { draft: d, clauseId } of mentions) {
    if (d.kind === 'definition' || d.actionForm !== 'verb' || !d.actor || /^be\b/i.test(d.action)) continue;
    const head = subjectParts(d.actor).head;
    if (!head || PRONOUN.test(head) || /^(?:this|these|that|those|it)\b/i.test(head)) continue;
    for (const part of head.split(/\s*,\s*|\s+(?:or|and)\s+/)) {
      const key = partyKey(part);
      // Once per clause: "The denial must use plain language and contain:" is one mention.
      if (!key || seen.has(`${key}\u0000${clauseId}`)) continue;
      seen.add(`${key}\u0000${clauseId}`);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return new Set([...counts].filter(([, n]) => n >= 2).map(([k]) => k));
}

function isParty(subject: string, parties: ReadonlySet<string>): boolean {
  const parts = subject.split(/\s*,\s*|\s+(?:or|and)\s+/).filter((p) => p.trim() !== '');
  return parts.length > 0 && parts.every((p) => parties.has(partyKey(p)));
}

interface Located {
  clause: Clause;
  draft: StatementDraft;
  /** Folded into the draft's condition: the condition items of its lead-in, which it therefore covers. */
  folded: Clause[];
}

/** All normative statements in a document tree, each tied to the clause it comes from. */
export function extractStatements(tree: DocumentTree): NormativeStatement[] {
  return frameStatements(tree).statements;
}

export interface StatementCoverage {
  /** Clauses that state rules a reader looks for statements in: paragraphs and list items. */
  counted: number;
  /** Those that carry a statement or a definition, or whose rule is carried by their items or folded into their parent's condition. */
  covered: number;
  coverage: number;
  /** Numberings of the counted clauses that carry none. */
  uncovered: string[];
}

/**
 * Clause coverage of a document by its statements. Counted: paragraphs and list items. Not
 * counted: headings (not clauses), examples, notes, Q&A call-outs and editorial '>' blocks and
 * bracketed source notes (kinds 'example', 'note', 'qa'), which restate or annotate rules. A
 * counted clause is covered when it carries a statement (a definition included), when it is a
 * lead-in whose items carry the statements it introduces, or when it is a condition folded into
 * the statement of the lead-in above it.
 */
export function statementCoverage(tree: DocumentTree): StatementCoverage {
  const framed = frameStatements(tree);
  const covered = new Set([...framed.statements.map((s) => s.clauseId), ...framed.carried]);
  const counted = statementSources(tree);
  const uncovered = counted.filter((c) => !covered.has(c.id));
  const n = counted.length - uncovered.length;
  return {
    counted: counted.length,
    covered: n,
    coverage: counted.length === 0 ? 0 : n / counted.length,
    uncovered: uncovered.map((c) => c.numbering),
  };
}

/** Statements, and the clauses whose rule is carried by other clauses' statements (lead-ins, folded conditions). */
export function frameStatements(tree: DocumentTree): { statements: NormativeStatement[]; carried: Set<string> } {
  const children = new Map<string, Clause[]>();
  for (const c of tree.clauses) {
    if (!c.parentId) continue;
    const list = children.get(c.parentId) ?? [];
    list.push(c);
    children.set(c.parentId, list);
  }
  const sources = new Set(statementSources(tree).map((c) => c.id));
  const contexts = new Map<string, ClauseContext>();
  const located: Located[] = [];
  const carried = new Set<string>();
  const leadInsWithItems = new Map<string, Clause>();
  /** Statements of items that complete a lead-in: they repeat its subject, so they do not count it again as a party. */
  const completions = new Set<StatementDraft>();
  /** Lead-ins whose items are the statements: their subject counts once as a party the document addresses. */
  const leadDrafts: Array<{ draft: StatementDraft; clauseId: string }> = [];
  let previousActor: { section: string | null; actor: string | null } = { section: null, actor: null };

  for (const clause of tree.clauses) {
    if (!sources.has(clause.id)) continue;
    const ctx: ClauseContext = (clause.parentId ? contexts.get(clause.parentId) : undefined) ?? {
      leadIn: null,
      conditions: [],
      actor: previousActor.section === clause.sectionId ? previousActor.actor : null,
    };
    const items = (children.get(clause.id) ?? []).filter(isRuleText);
    const sentences = splitSentences(clauseBody(clause));
    const last = sentences[sentences.length - 1] ?? '';
    const isLeadIn = items.length > 0 && (LEAD_IN_END.test(last) || REFERRAL_END.test(last));
    const body = isLeadIn ? sentences.slice(0, -1) : sentences;

    let actor = ctx.actor;
    const own: StatementDraft[] = [];
    body.forEach((sentence, i) => {
      let found = analyseSentence(sentence, actor);
      // An item that completes a lead-in ("(ii) The individual's right to … and how the individual may file …")
      // holds a rule of its own only where it opens with its subject or a modal, not inside an object clause.
      // "If an action … is required …, maintain a record": a cue inside the item's leading condition is not its rule.
      const leading = /^(if|when|whenever|where|unless|to the extent)\b/i.exec(sentence.trim());
      if (i === 0 && ctx.leadIn?.mode === 'objects' && leading)
        found = findCue(clean(sentence).slice(Math.max(0, leadingClauseEnd(clean(sentence))))) ? found : [];
      if (i === 0 && ctx.leadIn?.mode === 'objects')
        found = found.filter((d) => {
          const subject = d.actor ?? (d.actionForm === 'noun' ? d.action : null);
          return !subject || !/\b(?:that|how|whether|what|which|if)\b/i.test(subject);
        });
      if (found.length === 0 && i === 0 && ctx.leadIn?.mode === 'objects') {
        found = [itemStatement(sentence, ctx.leadIn.draft)];
        completions.add(found[0] as StatementDraft);
      }
      // A condition item is a statement only where it states a rule of its own, not where it describes a fact.
      if (ctx.leadIn?.mode === 'conditions') found = found.filter((d) => ruleOfItsOwn(d, sentence));
      actor = found.find((d) => d.kind !== 'definition' && d.actor)?.actor ?? actor;
      own.push(...found);
    });
    if (own.length === 0 && ctx.leadIn?.mode === 'conditions') carried.add(clause.id);

    let childCtx: ClauseContext = { leadIn: ctx.leadIn, conditions: ctx.conditions, actor };
    if (isLeadIn) {
      const found = analyseAll(last, actor);
      const draft = found[found.length - 1];
      const before = found.slice(0, -1);
      own.push(...before);
      const lastCondition = draft?.condition?.split('; ').pop() ?? '';
      const endsInCondition =
        /^(?:if|only if|when|where|whenever|provided that|unless|as long as|so long as)\b/i.test(lastCondition) &&
        clean(last).endsWith(lastCondition.replace(/[.:;\s]+$/, ''));
      if (draft && (CONDITION_LEAD_END.test(last) || endsInCondition)) {
        // "… may terminate a restriction, if:": the items are its conditions.
        const folded = items.map((c) => foldedText(c, children)).join(' ');
        const withItems = {
          ...draft,
          action: draft.action.replace(/,?\s*\b(?:if|only if|provided that|provided|when|where|whenever|unless)$/i, ''),
          condition: joinConditions(draft.condition, folded),
        };
        own.push(withItems);
        childCtx = { leadIn: { mode: 'conditions', draft }, conditions: ctx.conditions, actor: draft.actor ?? actor };
      } else if (draft && REFERRAL_END.test(last) && !LEAD_IN_END.test(last)) {
        // "… must act …, as follows." / "… must comply with the following requirements.": the items are rules of their own.
        if (leadStem(draft.action) !== '' && !/^comply with$/i.test(leadStem(draft.action)))
          own.push({ ...draft, action: leadStem(draft.action) });
        else carried.add(clause.id);
        const lead = splitLeadingClause(clean(last).replace(LEAD_IN, ''));
        childCtx = {
          leadIn: null,
          conditions:
            lead?.type === 'condition' || lead?.type === 'exception' ? [...ctx.conditions, capitalise(lead.clause)] : ctx.conditions,
          actor: draft.actor ?? actor,
        };
      } else if (draft) {
        // "… is permitted to use or disclose PHI as follows:": the items complete it.
        leadInsWithItems.set(clause.id, clause);
        leadDrafts.push({ draft, clauseId: clause.id });
        let stem = leadStem(draft.action);
        let leadCondition = draft.condition;
        if (draft.actor === null && draft.actionForm === 'noun' && stem !== '') {
          // "This requirement does not apply to:": the items complete the whole clause.
          stem = trimPhrase(`${draft.action} ${draft.modality} ${draft.condition ?? ''}`);
          leadCondition = null;
        }
        // "The denial must use plain language and contain:": the first verb is a rule of its own, the last one the items complete.
        const split = draft.actionForm === 'verb' ? /^(.+?)\s+and\s+([a-z]+)$/i.exec(stem) : null;
        if (split && (split[1] as string).split(' ').length >= 2) {
          own.push({ ...draft, action: split[1] as string, sentence: `${trimPhrase(clean(last).replace(/\s+and\s+[a-z]+\s*$/i, ''))}` });
          stem = split[2] as string;
        }
        childCtx = {
          leadIn: { mode: 'objects', draft: { ...draft, action: stem, condition: leadCondition } },
          conditions: ctx.conditions,
          actor: draft.actor ?? actor,
        };
      } else if (/\bexcept that\b/i.test(last)) {
        // "…, except that such termination is:": the items are the carve-outs.
        const stem = trimPhrase(clean(last).replace(/^.*?\bexcept that,?\s*/i, ''));
        const exception: StatementDraft = {
          kind: 'exception',
          actor,
          action: stem,
          actionForm: 'noun',
          // What the carve-outs qualify: "The covered entity informs the individual that it is terminating …".
          condition: trimPhrase(clean(last).replace(/,?\s*\bexcept that\b.*$/i, '')) || null,
          exception: null,
          modality: 'except that',
          sentence: last,
        };
        leadInsWithItems.set(clause.id, clause);
        childCtx = { leadIn: { mode: 'objects', draft: exception }, conditions: ctx.conditions, actor };
      } else if (ctx.leadIn?.mode === 'objects' && CONDITION_LEAD_END.test(last)) {
        // "(ii) In response to a subpoena …, if:": an item completing the lead-in above, with conditions below.
        const item = itemStatement(
          last.replace(/,?\s*\b(?:if|only if|provided that|provided|when|where|unless)\s*(?::|\u2014|--)\s*$/i, ''),
          ctx.leadIn.draft,
        );
        completions.add(item);
        own.push({ ...item, condition: joinConditions(item.condition, items.map((c) => foldedText(c, children)).join(' ')) });
        childCtx = { leadIn: { mode: 'conditions', draft: item }, conditions: ctx.conditions, actor };
      } else {
        // "Except as provided in paragraph (B):", "Notwithstanding …:", "Sale of protected health information:":
        // the items continue the lead-in above; a conditional prefix scopes them all.
        const prefix = stripListTail(clean(last));
        // "A covered entity—": a subject whose items each bring their own modal ("(1) May not intimidate …").
        const subjectOnly = /(?:\u2014|-)\s*$/.test(last) && !CONDITION_PREFIX.test(prefix) && sentences.length === 1;
        childCtx = {
          leadIn: ctx.leadIn,
          conditions: CONDITION_PREFIX.test(prefix) ? [...ctx.conditions, prefix] : ctx.conditions,
          actor: subjectOnly ? trimPhrase(prefix.replace(/\s*(?:\u2014|-+)$/, '')) : actor,
        };
        leadInsWithItems.set(clause.id, clause);
      }
    }
    contexts.set(clause.id, childCtx);
    for (const d of own) {
      if (d.action === '') continue;
      d.condition = joinConditions(...ctx.conditions, d.condition);
      located.push({ clause, draft: d, folded: [] });
    }
    previousActor = { section: clause.sectionId, actor };
  }

  // A lead-in is carried by its items when they carry statements.
  const withStatement = new Set(located.map((l) => l.clause.id));
  const carriedBelow = (id: string): boolean =>
    (children.get(id) ?? []).some((c) => withStatement.has(c.id) || carried.has(c.id) || carriedBelow(c.id));
  for (const [id] of leadInsWithItems) if (carriedBelow(id)) carried.add(id);

  // Who each statement binds: its subject when that is a party the document addresses, else the
  // party of the statement or lead-in above it.
  const parties = documentParties([
    ...located.filter((l) => !completions.has(l.draft)).map((l) => ({ draft: l.draft, clauseId: l.clause.id })),
    ...leadDrafts,
  ]);
  const partyOf = new Map<string, string | null>();
  const statements: NormativeStatement[] = [];
  const counters = new Map<string, number>();
  let lastParty: { section: string | null; party: string | null } = { section: null, party: null };
  for (const { clause, draft } of located) {
    const head = subjectParts(draft.actor).head;
    // A carved-out party ("excluding an issuer of …") is the party of its exception.
    let party: string | null =
      head && (draft.modality === 'excluding' || (draft.kind !== 'definition' && isParty(head, parties))) ? head : null;
    if (party === null) {
      // The party of an earlier statement of this clause or of a clause above it ("The denial must use plain
      // language" under "The covered entity must provide … a written denial").
      for (let p: string | null = clause.id; p && party === null;) {
        party = partyOf.get(p) ?? null;
        const id: string = p;
        p = tree.clauses.find((c) => c.id === id)?.parentId ?? null;
      }
      // An explicit subject that acts ("An agency designee may authorize …") is its own party; a passive rule,
      // a definition's term or "This requirement" take the party of the statement before.
      const acts =
        head !== null &&
        draft.kind !== 'definition' &&
        draft.actionForm === 'verb' &&
        !/^be\b/i.test(draft.action) &&
        !PRONOUN.test(head) &&
        !/^(?:this|these|that|those|such)\b/i.test(head);
      if (party === null) party = acts ? head : lastParty.section === clause.sectionId ? lastParty.party : null;
    }
    if (!partyOf.has(clause.id) || partyOf.get(clause.id) === null) partyOf.set(clause.id, party);
    lastParty = { section: clause.sectionId, party };
    const n = (counters.get(clause.id) ?? 0) + 1;
    counters.set(clause.id, n);
    statements.push({
      ...draft,
      action: withoutAsides(draft.action),
      party,
      id: `${clause.id}:s${n}`,
      clauseId: clause.id,
      clauseNumbering: clause.numbering,
    });
  }
  return { statements, carried };
}

/** An item that completes its lead-in: "(ii) For treatment, …, as permitted by § 164.506;" under "may use or disclose PHI as follows:". */
function itemStatement(sentence: string, lead: StatementDraft): StatementDraft {
  const { core, conditions } = splitItem(clean(sentence) || sentence);
  // An item that is all scope ("(vi) As permitted by and in compliance with this section, …") qualifies the verb itself.
  const allScope =
    core === '' &&
    /^(?:as (?:otherwise )?(?:permitted|required|provided|described)|pursuant to|in (?:accordance|compliance) with)\b/i.test(
      clean(sentence),
    );
  const item = lowerFirst((allScope ? stripListTail(clean(sentence)) : core).replace(/^(?:and|or)\s+/i, ''));
  // A definition's parts define the term themselves; other items complete the lead-in's verb.
  // "… described in this paragraph to:" + "To collect …": one "to".
  const joined =
    /\b(\w+)$/.exec(lead.action)?.[1]?.toLowerCase() === /^(\w+)/.exec(item)?.[1]?.toLowerCase() &&
    /\b(?:to|for|by|of|in|on|with)$/i.test(lead.action)
      ? `${lead.action} ${item.replace(/^\w+\s+/, '')}`
      : [lead.action, item].filter((x) => x !== '').join(' ');
  const action = lead.kind === 'definition' ? item : joined;
  if (lead.kind === 'definition' && lead.action !== '' && SCOPING.test(` ${lead.action}`)) conditions.unshift(lead.action);
  return {
    kind: lead.kind,
    actor: lead.actor,
    action: action || trimPhrase(sentence),
    actionForm: lead.actionForm === 'noun' && lead.action === '' ? 'noun' : lead.actionForm,
    condition: joinConditions(lead.condition, ...conditions),
    exception: lead.exception,
    modality: lead.modality,
    sentence: collapseWhitespace(sentence),
  };
}

/** Within a list of conditions, an item states a rule of its own when it binds someone or defines something. */
function ruleOfItsOwn(draft: StatementDraft, sentence: string): boolean {
  if (draft.kind === 'definition' || draft.kind === 'exception' || draft.kind === 'prohibition') return true;
  if (/^(?:if|when|where|unless)\b/i.test(sentence.trim())) return true;
  return draft.kind === 'obligation' && /^(?:must|shall)$/.test(draft.modality);
}

export function countStatementsByKind(statements: readonly NormativeStatement[]): Record<NormativeKind, number> {
  const counts: Record<NormativeKind, number> = { obligation: 0, prohibition: 0, permission: 0, exception: 0, definition: 0 };
  for (const s of statements) counts[s.kind] += 1;
  return counts;
}
