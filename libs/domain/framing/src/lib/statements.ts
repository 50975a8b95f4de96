import { ActionForm, Clause, DocumentTree, NormativeKind, NormativeStatement } from './model';
import { collapseWhitespace, splitSentences } from './text';

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
 */
type CueForm = 'active' | 'passive' | 'object' | 'requires' | 'nothing';

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
  { kind: 'exception', re: /\b(?:is|are) (?:not considered|exempt(?:ed)?)(?: from)?\b/gi, form: 'passive' },
  { kind: 'permission', re: /\b(?:is|are) not (?:required|obliged|obligated|expected) to\b/gi, form: 'active' },
  { kind: 'permission', re: /\b(?:need|needs) not\b/gi, form: 'active' },
  { kind: 'permission', re: /\b(?:does|do) not (?:need|have) to\b/gi, form: 'active' },
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
  /^may (?:lead to|result in|include|face|cause|vary|also|be reported|be subject|affect|appear|seem|occur|arise|be seen|be overheard|not be)\b/i;

const DEFINITION_QUOTED =
  /^(?:the term\s+)?["\u201C']([^"\u201D']{1,80})["\u201D']\s+(means|refers to|is defined as|shall mean|has the meaning)\s+(.+)$/i;
const DEFINITION_BARE =
  /^(?:(?:an?|the)\s+)?([A-Za-z][\w-]*(?:\s+[A-Za-z][\w-]*){0,4})\s+(means|refers to|is defined as|shall mean)\s+(.+)$/i;
const NOT_A_TERM = /^(?:this|that|it|which|these|those|what|doing so)$/i;

const LEADING_EXCEPTION = /^(?:unless|except (?:where|when|if|for|as|in))\b/i;
const LEADING_CONDITION =
  /^(?:if|when|where|whenever|once|before|after|while|even if|even where|even with|in case|provided that|as long as|during|for the purposes? of)\b/i;
const LEAD_IN = /^(?:however|in addition|furthermore|moreover|also|for example|as a rule|in particular),\s+/i;
const TRAILING_EXCEPTION = /,?\s+\b(unless|except (?:where|when|if|for|as|in)|save where)\s+(.+)$/i;
const TRAILING_CONDITION =
  /,?\s+\b(provided that|as long as|so long as|only if|only where|only when|only with|only after|only for|only through|if|whenever|even if|even where|even with|regardless of whether|regardless of)\s+(.+)$/i;
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
    if (m[0].startsWith(';') || (findCue(left) && findCue(right))) {
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
  for (let k = commas.length - 1; k >= 0; k--) {
    const at = commas[k] as number;
    const clause = text.slice(0, at);
    const rest = text.slice(at + 2);
    if (!findCue(rest)) continue;
    const firstComma = clause.indexOf(', ');
    if (firstComma >= 0 && findCue(clause.slice(firstComma + 2))) continue;
    return { type, clause: clause.charAt(0).toLowerCase() + clause.slice(1), rest };
  }
  return null;
}

function joinConditions(...parts: Array<string | null | undefined>): string | null {
  const present = parts.map((p) => (p ? trimPhrase(p) : '')).filter((p) => p.length > 0);
  return present.length > 0 ? present.join('; ') : null;
}

function analyseDefinition(text: string, sentence: string): StatementDraft | null {
  const quoted = DEFINITION_QUOTED.exec(text);
  const bare = quoted ? null : DEFINITION_BARE.exec(text);
  const m = quoted ?? bare;
  if (!m) return null;
  const term = trimPhrase(m[1] as string);
  if (NOT_A_TERM.test(term) || findCue(term)) return null;
  return {
    kind: 'definition',
    actor: term,
    action: trimPhrase(m[3] as string),
    actionForm: 'noun',
    condition: null,
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
    const match = findCue(text);
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
    const modality = match.text.toLowerCase();
    const { cue } = match;
    draft = { kind: cue.kind, actor: null, action: '', actionForm: 'verb', condition: null, exception: null, modality, sentence };
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
    } else if (cue.form === 'object' || cue.form === 'nothing') {
      draft.actionForm = 'noun';
      if (cue.form === 'object' && before && !/^the company$/i.test(before)) draft.actor = before;
    } else {
      // requires: "<subject> requires <what>" — the subject is what the rule is about.
      draft.actionForm = 'noun';
      draft.action = before;
    }
  }

  // Trailing exception and condition: only after the cue, so a subject's "who …" stays the actor.
  const exc = TRAILING_EXCEPTION.exec(tail);
  if (exc) {
    exception = joinConditions(exception, `${(exc[1] as string).toLowerCase()} ${exc[2] as string}`);
    tail = tail.slice(0, exc.index);
  }
  let trailingCondition: string | null = null;
  const cond = TRAILING_CONDITION.exec(tail) ?? TRAILING_COMMA_CONDITION.exec(tail);
  if (cond && cond.index > 0) {
    trailingCondition = `${(cond[1] as string).toLowerCase()} ${cond[2] as string}`;
    tail = tail.slice(0, cond.index);
  }
  let limit: string | null = null;
  const value = VALUE_LIMIT.exec(tail);
  if (value && (draft.action === '' || draft.actionForm === 'verb')) {
    limit = value[1] as string;
    tail = `${tail.slice(0, value.index)} ${tail.slice(value.index + value[0].length)}`;
  }

  if (draft.action === '') {
    draft.action = trimPhrase(tail);
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
  draft.condition = joinConditions(limit, leadingCondition ?? inherited.condition, trailingCondition);
  draft.exception = exception ? trimPhrase(exception) : null;
  if (!draft.action) return null;
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
  const text = clean(sentence);
  if (!text) return [];
  const out: StatementDraft[] = [];
  const inherited: Inherited = { actor: previousActor, condition: null, previousCondition: null };
  const parts = splitCoordinated(text);
  parts.forEach((part, i) => {
    const draft = analysePart(part, collapseWhitespace(sentence), inherited);
    if (!draft) return;
    if (i === 0) {
      inherited.actor = draft.kind === 'definition' ? null : (draft.actor ?? inherited.actor);
      const lead = splitLeadingClause(part.replace(LEAD_IN, ''));
      inherited.condition = lead?.type === 'condition' ? lead.clause : null;
    }
    inherited.previousCondition = draft.condition;
    out.push(draft);
  });
  return out.filter((d) => !/^the following$/i.test(d.action));
}

function clauseBody(clause: Clause): string {
  return clause.kind === 'qa' ? (clause.answer ?? clause.text) : clause.text;
}

/** A list item with no cue of its own ("(a) gifts of cash …") inherits the rule its parent introduces. */
function inheritFromParent(item: Clause, parent: Clause): StatementDraft | null {
  const sentences = splitSentences(clauseBody(parent));
  const last = sentences[sentences.length - 1];
  if (!last || !/:\s*$/.test(last)) return null;
  const text = clean(last);
  const parts = splitCoordinated(text);
  const lastPart = parts[parts.length - 1] as string;
  const draft = analysePart(lastPart, collapseWhitespace(last), { actor: null, condition: null, previousCondition: null });
  const raw = findCue(lastPart);
  if (!draft && !raw) return null;
  const kind = draft?.kind ?? raw?.cue.kind;
  if (!kind || kind === 'definition') return null;
  const action = trimPhrase(item.text.replace(/^(?:and|or)\s+/i, '').replace(/[;,]\s*(?:and|or)?\s*$/i, ''));
  if (!action) return null;
  const introducesList = !draft || /^the following$/i.test(draft.action) || draft.actionForm === 'noun';
  return {
    kind,
    actor: draft && !introducesList ? draft.actor : (draft?.actor ?? null),
    action,
    actionForm: introducesList ? 'noun' : 'verb',
    condition: draft?.condition ?? null,
    exception: draft?.exception ?? null,
    modality: draft?.modality ?? (raw as CueMatch).text.toLowerCase(),
    sentence: `${collapseWhitespace(last)} ${item.text}`,
  };
}

/**
 * The clauses that carry rules: numbered paragraphs and list items when the document numbers its
 * clauses (its unnumbered introductions are context), every paragraph and list item otherwise.
 * Q&A and example call-outs restate rules informally; they become examples directly instead.
 */
export function statementSources(tree: DocumentTree): Clause[] {
  const rules = tree.clauses.filter((c) => c.kind === 'paragraph' || c.kind === 'list-item');
  const numbered = rules.some((c) => c.numbered);
  return rules.filter((c) => !numbered || c.numbered || c.kind === 'list-item');
}

/** All normative statements in a document tree, each tied to the clause it comes from. */
export function extractStatements(tree: DocumentTree): NormativeStatement[] {
  const byId = new Map(tree.clauses.map((c) => [c.id, c]));
  const statements: NormativeStatement[] = [];
  for (const clause of statementSources(tree)) {
    let actor: string | null = null;
    let drafts = splitSentences(clauseBody(clause)).flatMap((sentence) => {
      const found = analyseSentence(sentence, actor);
      actor = found.find((d) => d.kind !== 'definition' && d.actor)?.actor ?? actor;
      return found;
    });
    if (drafts.length === 0 && clause.kind === 'list-item' && clause.parentId) {
      const parent = byId.get(clause.parentId);
      const inherited = parent ? inheritFromParent(clause, parent) : null;
      if (inherited) drafts = [inherited];
    }
    drafts.forEach((d, i) => {
      statements.push({ ...d, id: `${clause.id}:s${i + 1}`, clauseId: clause.id, clauseNumbering: clause.numbering });
    });
  }
  return statements;
}

export function countStatementsByKind(statements: readonly NormativeStatement[]): Record<NormativeKind, number> {
  const counts: Record<NormativeKind, number> = { obligation: 0, prohibition: 0, permission: 0, exception: 0, definition: 0 };
  for (const s of statements) counts[s.kind] += 1;
  return counts;
}
