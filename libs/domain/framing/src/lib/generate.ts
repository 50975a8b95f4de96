import nlp from 'compromise';
import { citeClause, citedRefs } from './citation';
import { Clause, DocumentTree, Example, ExampleKind, ExampleSource, NormativeStatement, ScenarioLabel } from './model';
import { memoised, withMemoScope } from './memo';
import { deriveSeed, Random, seededRandom } from './prng';
import { sha256Hex } from './sha256';
import {
  conditionParts,
  danglingReference,
  inSentence,
  oneOf,
  onlyPhrase,
  pastTenseOf,
  resolveDemonstratives,
  verbPhrase,
  whetherProposition,
} from './phrasing';
import { capitalise, collapseWhitespace, lowerFirst, normaliseQuestion, splitSentences } from './text';
import { ContextValues, valuesForClause } from './values';
import { answerProblem, emptyReasonCounts, IllFormedReason, readsAsClause, wellFormednessProblem } from './wellformed';

export interface GenerateOptions {
  /** Same seed, same statements → same examples. */
  seed: number;
  /** Instruction (Q&A) examples per statement, from different templates; default 2. */
  qaPerStatement?: number;
  /** Scenario examples per statement where the statement supports scenarios; default 2. */
  scenariosPerStatement?: number;
  /** Tags each example with the values its clause exercises. */
  values?: ContextValues | null;
  /** Turn the document's own Q&A call-outs into examples; default true. */
  includeCallouts?: boolean;
  /** Turn the document's own worked examples and notes into labelled scenarios; default true. */
  includeDocumentExamples?: boolean;
  /**
   * Steers generation towards what the data does not cover yet (the pipeline builds one from the
   * context's ontology and the values file's coverage target). Without one, or once it is met after
   * the usual pass, generation is unchanged.
   */
  steering?: GenerationSteering | null;
}

/**
 * What generation asks of a coverage target. Generation tells it every example it keeps (`add`); once
 * the usual pass is done and the target is not met, the statements with the largest `gain` get the
 * templates the usual pass did not try on them, one statement at a time, until it is met or no
 * statement would cover anything new.
 */
export interface GenerationSteering {
  /** Takes note of examples the dataset holds (the seeds before generation, then each example kept). */
  add(examples: readonly Example[]): void;
  /** True once the examples noted meet the target. */
  met(): boolean;
  /** How many things not covered yet an example on this statement could cover (0: nothing new). */
  gain(statement: Pick<NormativeStatement, 'clauseId' | 'kind'>): number;
}

interface Draft {
  kind: ExampleKind;
  question: string;
  answer: string;
  rejected: string | null;
  label: ScenarioLabel | null;
}

/** Who a statement binds, as the document names them, in the forms the templates need. */
interface Actor {
  /** Inside a sentence: "a covered entity", "employees", "the Ethics Office". */
  np: string;
  /** One of them, indefinite: "a covered entity", "an employee"; null where the phrase gives none. */
  one: string | null;
}

/** Everything a template needs about one statement, phrased for reuse in sentences. */
interface Frame {
  s: NormativeStatement;
  clause: Clause;
  cite: string;
  /** What the examples call the document: its own name where it has a usable one, else "the rules". */
  doc: string;
  /** The rule, restated from its sentence, without citations. */
  rule: string;
  /** The statement's action, "that/this/such NOUN" resolved from the clause's earlier text where possible. */
  action: string;
  /** The statement's condition, resolved the same way, "; " joined as ", "; null when unconditional. */
  condition: string | null;
  /** True when a reference in the action, condition or exception was resolved from the clause. */
  resolved: boolean;
  /** The bound actor; null for passive rules and for actors no template can render. */
  actor: Actor | null;
  /**
   * True when the document gives this actor a permission to act ("A covered entity may disclose …"):
   * it is someone who can want, decide, be asked and refuse, not a thing the rules describe ("A
   * Gift … may not exceed $25", "The notice must contain …").
   */
  agentive: boolean;
  /** The action with its condition as one phrase ("accept any Gift with a value above $500"). */
  act: string;
  /** True when the action is a verb phrase in its base form (read by compromise), not passive. */
  verbal: boolean;
  /** True when the rule's sentence reads as a whole sentence (not a list's lead-in cut at "provided that"). */
  ruleWhole: boolean;
  /** A reference in the actor, action or condition that points to nothing there ("such action"); null when none. */
  unresolvedReference: string | null;
  /** True when the action is a noun phrase a question can name ("the use of company vehicles for private trips"). */
  nounPhrase: boolean;
  /** The action with its condition in the past tense ("disclosed … for treatment"); null where it cannot be formed. */
  actPast: string | null;
  /** Exception without its keyword ("the Ethics Office has approved it in writing in advance"). */
  excBare: string | null;
  /** True when the exception is a clause with its own subject, fit to follow "because", "whether" or ";". */
  excClause: boolean;
  /** A condition that is a clause ("if …", "when …"), without its keyword. */
  condBare: string | null;
  negatedObligation: boolean;
}

type Template = (f: Frame, r: Random) => Draft | null;

const NEGATED_OBLIGATION = /not (?:required|obliged|obligated|expected) to|need(?:s)? not|not (?:need|have) to/;
const CLAUSE_CONDITION = /^(?:if|when|whenever|where|once|provided that|as long as)\s+/i;
const DETERMINER = /^(?:A|An|The|Any|All|Every|Each|No|Such|These|Those|This|That)\b/;
/** A designator inside a phrase followed by a capital: an enumeration of sub-items ("(A) The covered entity …"). */
const INLINE_ENUMERATION = /(?:^|\s)\((?:[a-z]{1,4}|\d{1,3}|[A-Z])\)\s+[A-Z]/;
/** Words that open an adverbial phrase before a sentence's subject. */
const OPENER =
  /^(?:in|notwithstanding|except|as|if|for|under|when|where|whenever|subject|pursuant|consistent|unless|upon|after|before|with|without|although|because|while|during|other than|to the extent|once|by)\b/i;
/** Words a noun phrase cannot end with: the actor was cut inside a clause ("A person who", "… and that"). */
const OPEN_ENDING =
  /\b(?:as follows|the following|if|when|unless|where|whether|because|except|who|whom|whose|that|which|to|of|and|or|the|a|an|has|have|had|is|are|was|were|be|been|by|for|with|in|on|at|from)$/i;

function lowerDeterminer(np: string): string {
  return DETERMINER.test(np) ? np.charAt(0).toLowerCase() + np.slice(1) : inSentence(np);
}

/**
 * What the examples call the document: "the <title>" for a short title that is a name ("the
 * Northwind Dynamics Business Conduct Guidelines"), "the rules" otherwise (no title, a long title
 * with its own punctuation that reads badly inside a question, or one whose last word is singular,
 * which would not agree with "require", "say", "do").
 */
export function documentName(title: string | null): string {
  const t = collapseWhitespace((title ?? '').replace(/[*_`#]/g, ''));
  if (!t || t.split(' ').length > 8 || /[,;:—–()§]/.test(t)) return 'the rules';
  // The templates say "the rules require", "do the rules oblige": a title must agree with a plural verb.
  const last = t.split(' ').pop() as string;
  if (!nlp(`the ${last.toLowerCase()}`).has('#Plural')) return 'the rules';
  return /^the\s/i.test(t) ? `the ${t.slice(4)}` : `the ${t}`;
}

/**
 * The actor a statement binds as a noun phrase a template can put in a sentence, or null. The
 * extractor may leave an opener, a heading or a designator before the noun phrase ("In accordance
 * with § 164.514(f)(1), the covered entity", "Standard: … (i) A covered entity"): the phrase is the
 * last part after such a break. It must start like a noun phrase, end like one, and have no verb
 * of its own before a relative pronoun (compromise reads the words).
 */
export function renderActor(raw: string | null): Actor | null {
  return raw === null ? null : actorOf(raw);
}

/** `renderActor` of a raw actor; one reading per distinct phrase (an actor recurs across statements). */
const actorOf = memoised((raw: string): Actor | null => {
  // A run-in heading or designator before the noun phrase: what follows the last ":", ". (i)", "—".
  const parts = collapseWhitespace(raw.replace(/[*_]/g, ''))
    .split(/:\s+|\.\s+(?=\(?[A-Za-z0-9])|—|-(?=\()|\)\s+(?=[A-Z])/)
    .map((p) => p.trim())
    .filter(Boolean);
  let np = (parts[parts.length - 1] ?? '').replace(/^(?:\((?:[a-z]{1,4}|\d{1,3}|[A-Z])\)\s*)+/, '');
  // An opener before the subject ("In accordance with § 164.514(f)(1), the covered entity"): what follows its comma.
  // A comma elsewhere belongs to the phrase ("Employees who are contacted by a journalist, an analyst or …").
  while (OPENER.test(np) && np.includes(', ')) np = np.slice(np.indexOf(', ') + 2).trim();
  if (!np || np.split(/\s+/).length > 10 || OPEN_ENDING.test(np)) return null;
  if (!/^(?:[Aa]n?|[Tt]he|[Aa]ny|[Ee]ach|[Ee]very|[Aa]ll)\s|^[A-Z][a-z]/.test(np)) return null;
  if (/^(?:No|Nothing|None|Such|This|These|Those|That|It|They|If|When|Where|Unless|Except|For|In|As|Under)\b/.test(np)) return null;
  const [head, relative] = np.split(/\s+(?:who|whom|whose|that|which)\s+/) as [string, string | undefined];
  if (headHasVerb(head)) return null;
  // "A covered entity that has agreed …" is a relative clause; "A statement that the covered entity" is no actor.
  if (relative !== undefined && !nlp(relative.split(/\s+/).slice(0, 2).join(' ')).has('(#Verb|#Adverb)')) return null;
  return {
    np: inSentence(np),
    one: /\s(?:who|whom|whose|that|which)\s/.test(np) && !/^(?:an?|the|any|each|every)\s/i.test(np) ? null : oneOf(np),
  };
}, 4096);

/** The key an actor is known by across statements: one of them, lower case ("a covered entity"). */
function actorKey(actor: Actor): string {
  return (actor.one ?? actor.np).toLowerCase();
}

/** The actors the document permits to act: statements of kind permission with an active verb phrase. */
function agentsOf(statements: readonly NormativeStatement[]): Set<string> {
  const agents = new Set<string>();
  for (const s of statements) {
    if (s.kind !== 'permission' || s.actionForm !== 'verb') continue;
    const vp = verbPhrase(s.action);
    const actor = renderActor(s.actor);
    if (vp && !vp.verbs.includes('be') && actor) agents.add(actorKey(actor));
  }
  return agents;
}

/** True when compromise reads a finite verb in a noun phrase's head ("the covered entity reasonably believes …"). */
function headHasVerb(head: string): boolean {
  return nlp(head).has('(#PresentTense|#Modal|#Copula|#Auxiliary)');
}

/** How an example cites a clause: through `citeClause`, the one place that decides a clause's citation. */
function citeOf(clause: Clause): string {
  return citeClause(clause);
}

/** Leading paragraph designators of a sentence ("(1) ", "(i)(A) "), which are no part of the rule's prose. */
const LEADING_DESIGNATORS = /^(?:\((?:[a-z]{1,4}|\d{1,3}|[A-Z])\)\s*)+/;

/**
 * A run-in heading before a paragraph's designator ("Timely action by the covered entity. (i) The
 * covered entity must …", "Implementation specifications: Training. (i) A covered entity …"): a
 * short lead ending in "." or ":" followed by designators and a capital.
 */
const RUN_IN_HEADING = /^[^()]{1,160}?[.:]\s+(?:\((?:[a-z]{1,4}|\d{1,3}|[A-Z])\)\s*)+(?=[A-Z])/;

function ruleText(sentence: string): string {
  const text = collapseWhitespace(sentence.replace(/\s*\((?:see\s)[^)]*\)/gi, ''))
    .replace(RUN_IN_HEADING, '')
    .replace(LEADING_DESIGNATORS, '')
    // A list item's closing "; and" / "; or" belongs to the enumeration, not to the rule.
    .replace(/[;,]\s*(?:and|or)$/i, '')
    .replace(/[\s:;,]+$/, '');
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/** Cues that read as a verb group between an actor and an action in the base form. */
const PLAIN_MODALITY =
  /^(?:may|must|shall|should|will|can|cannot|may not|must not|shall not|should not|will not|(?:is|are) (?:not )?(?:required|permitted|allowed|obliged|expected) to|need not|has the right to|have the right to)$/i;

/**
 * The rule an answer restates: the statement's own sentence, or, where that sentence is no whole
 * sentence or does not name whom it binds (a list item that completes its lead-in: "Except for uses
 * and disclosures prohibited under § 164.502(a)(5)(i), pursuant to … § 164.508;", "Maintain
 * documentation …"), the statement restated from its parts as the document words them: "A covered
 * entity is permitted to use or disclose protected health information except for …". The sentence
 * as it is where the restatement would not be well-formed either.
 */
function ruleFor(s: NormativeStatement, actor: Actor | null, act: string, exception: string | null): string {
  const own = ruleText(s.sentence);
  if (s.actionForm !== 'verb' || actor === null || !PLAIN_MODALITY.test(s.modality)) return own;
  // A list item that leaves its subject to the lead-in ("Maintain documentation …", "To each member of …")
  // does not say whom it binds: the restatement does.
  const bare = (np: string): string => np.replace(/^(?:an?|the|any|each|every|all)\s+/i, '').toLowerCase();
  // Whom it binds is named as the subject: the actor, then its modal within a few words ("A covered entity
  // must …", "The covered entity that agreed … may not …"); a mention elsewhere ("To each member of the
  // covered entity's workforce …", "A statement that … notice …") is not.
  const lower = own.toLowerCase();
  const modal = s.modality.toLowerCase();
  const namesActor = [actor.np, actor.one].some((np) => {
    if (np === null) return false;
    const at = lower.indexOf(bare(np));
    return at >= 0 && lower.slice(at + bare(np).length, at + bare(np).length + 120).includes(` ${modal} `);
  });
  if (answerProblem(own) === null && namesActor) return own;
  const restated = ruleText(`${capitalise(actor.np)} ${s.modality.toLowerCase()} ${act}${exception ? `, ${exception}` : ''}`);
  return answerProblem(restated) === null ? restated : own;
}

/** The clause's text before the statement's action: where "that period" finds "the periods set out in …". */
function earlierText(s: NormativeStatement, clause: Clause, parent: Clause | undefined): string {
  const body = clause.kind === 'qa' ? (clause.answer ?? clause.text) : clause.text;
  // A sub-clause's "such action" may name what its parent clause set out.
  const before = parent ? `${parent.text} ` : '';
  const at = body.indexOf(s.action);
  if (at > 0) return before + body.slice(0, at);
  const sentenceAt = body.indexOf(s.sentence);
  return before + (sentenceAt > 0 ? body.slice(0, sentenceAt) : '');
}

function frameOf(s: NormativeStatement, clause: Clause, parent: Clause | undefined, doc: string, agents: ReadonlySet<string>): Frame {
  const earlier = earlierText(s, clause, parent);
  const context = [s.actor, s.action, s.condition, s.exception].filter(Boolean).join(' ');
  const resolve = (text: string): string => resolveDemonstratives(text, earlier, context.replace(text, ' '));
  const action = resolve(s.action);
  // A list item's condition starts as the item does ("Except for …", "When required …"): inside a question it continues the action.
  const asRead = (c: string): string => (OPENER.test(c) ? lowerFirst(c) : c);
  const condition = s.condition ? asRead(resolve(s.condition.replace(/;\s+/g, ', '))) : null;
  const exc = s.exception ? resolve(s.exception) : null;
  const originalCondition = s.condition ? asRead(s.condition.replace(/;\s+/g, ', ')) : null;
  // The extractor may have kept the condition inside the action too ("disclose … pursuant to an agreement under …").
  const act = condition && !action.toLowerCase().includes(condition.toLowerCase()) ? `${action} ${condition}` : action;
  const nounPhraseOk = s.actionForm === 'noun' && nounActionRenders(action) && !INLINE_ENUMERATION.test(action);
  const actor = renderActor(s.actor);
  const rule = ruleFor(s, actor, act, exc);
  const vp = s.actionForm === 'verb' ? verbPhrase(action) : null;
  // An action or condition cut inside a clause ("… described in this paragraph to") renders no question.
  // So does one that carries an enumeration of its own ("… if: (A) The covered entity is …; (B) …").
  const whole = !OPEN_ENDING.test(act.replace(/[\s.;,:]+$/, '')) && !INLINE_ENUMERATION.test(act);
  // A phrase whose "such action" / "that period" names nothing in it, even after resolution, cannot stand in a question.
  const reference =
    /\b(?:the following|as follows)\b/i.exec(act)?.[0] ?? danglingReference(collapseWhitespace(`${actor?.np ?? ''} ${act}`));
  const verbal = whole && reference === null && vp !== null && !vp.verbs.includes('be');
  const nounPhrase = nounPhraseOk && reference === null;
  const past = verbal ? pastTenseOf(action) : null;
  return {
    resolved: action !== s.action || condition !== originalCondition || exc !== s.exception,
    s,
    clause,
    cite: `(${citeOf(clause)})`,
    doc,
    rule,
    ruleWhole: answerProblem(rule) === null,
    action,
    condition,
    actor,
    agentive: actor !== null && agents.has(actorKey(actor)),
    unresolvedReference: reference,
    act,
    verbal,
    nounPhrase,
    actPast: past === null ? null : condition && act !== action ? `${past} ${condition}` : past,
    excBare: exc ? exc.replace(/^(?:unless|except (?:where|when|if|for|as|in)|save where)\s+/i, '') : null,
    excClause: exc !== null && readsAsClause(exc.replace(/^(?:unless|except (?:where|when|if|for|as|in)|save where)\s+/i, '')),
    condBare:
      condition && CLAUSE_CONDITION.test(condition) && !/^\w+ing\b/.test(condition.replace(CLAUSE_CONDITION, ''))
        ? condition.replace(CLAUSE_CONDITION, '')
        : null,
    negatedObligation: NEGATED_OBLIGATION.test(s.modality),
  };
}

const qa = (question: string, answer: string, rejected: string | null): Draft => ({
  kind: 'qa',
  question,
  answer,
  rejected,
  label: null,
});
const scenario = (label: ScenarioLabel, question: string, answer: string, rejected: string): Draft => ({
  kind: 'scenario',
  question,
  answer,
  rejected,
  label,
});

/** Verb templates need a rendered actor and a verb phrase in its base form. */
const verbWith = (f: Frame): { who: string } | null => (f.verbal && f.actor ? { who: f.actor.np } : null);
/** Noun templates render the action as a noun phrase ("the use of company vehicles for private trips"). */
const nounal = (f: Frame): boolean => f.nounPhrase;

/**
 * A passive rule's noun phrase renders in "What do the rules say about …?" when it starts like a
 * noun phrase (not with a preposition or verb form: "To the extent …", "As required by law …") and
 * does not stop inside a clause ("Uses or disclosures that").
 */
function nounActionRenders(action: string): boolean {
  const text = action.replace(/[\s.;,:]+$/, '');
  return (
    text.split(/\s+/).length <= 25 &&
    readsAsClause(text) &&
    !OPEN_ENDING.test(text) &&
    !/^(?:as|to|if|when|where|except|unless|in|for)\b/i.test(text)
  );
}

// ---------------------------------------------------------------- Q&A templates, per statement kind

const QA_TEMPLATES: Record<NormativeStatement['kind'], Template[]> = {
  obligation: [
    (f) => {
      const v = verbWith(f);
      return v
        ? qa(
            `Is it mandatory for ${v.who} to ${f.act}?`,
            `Yes. ${f.rule} ${f.cite}`,
            `No. It is optional for ${v.who} to ${f.act}; ${f.doc} leave it to judgement.`,
          )
        : null;
    },
    (f) => {
      const v = verbWith(f);
      return v ? qa(`Must ${v.who} ${f.act}?`, `Yes. ${f.rule} ${f.cite}`, `No, there is no such requirement in ${f.doc}.`) : null;
    },
    (f) => {
      const v = verbWith(f);
      return v
        ? qa(
            `Is it acceptable for ${v.who} not to ${f.act}?`,
            `No${f.excBare ? `, not unless ${f.excBare}` : ''}. ${f.rule} ${f.cite}`,
            `Yes, that is acceptable; ${v.who} need not ${f.action}.`,
          )
        : null;
    },
    (f) =>
      f.verbal && f.agentive && f.actor?.one
        ? qa(
            `As ${f.actor.one}, do I have to ${f.act}?`,
            `Yes. ${f.rule} ${f.cite}`,
            `No, you can decide for yourself whether to ${f.action}.`,
          )
        : null,
    (f) =>
      nounal(f)
        ? qa(
            `What do ${f.doc} require regarding ${lowerDeterminer(f.action)}?`,
            `${f.rule} ${f.cite}`,
            `Nothing in particular; ${f.doc} set no requirement for this.`,
          )
        : null,
    (f) =>
      nounal(f)
        ? qa(
            `Is anything required before ${lowerDeterminer(f.action)} can go ahead?`,
            `Yes. ${f.rule} ${f.cite}`,
            `No, nothing is required.`,
          )
        : null,
  ],
  prohibition: [
    (f) => {
      const v = verbWith(f);
      return v
        ? qa(
            `Can ${v.who} ${f.act}?`,
            `No${f.excBare ? `, not unless ${f.excBare}` : ''}. ${f.rule} ${f.cite}`,
            `Yes, ${v.who} can ${f.act}; ${f.doc} do not restrict it.`,
          )
        : null;
    },
    (f) => {
      const v = verbWith(f);
      return v
        ? qa(
            `Is it acceptable for ${v.who} to ${f.act}?`,
            `No${f.excBare ? `, except if ${f.excBare}` : ''}. ${f.rule} ${f.cite}`,
            `Yes, that is perfectly acceptable.`,
          )
        : null;
    },
    (f) => {
      const v = verbWith(f);
      return v
        ? qa(
            `Would it breach ${f.doc} if ${v.who} were to ${f.act}?`,
            `Yes${f.excBare ? `, unless ${f.excBare}` : ''}. ${f.rule} ${f.cite}`,
            `No, there is no rule against it.`,
          )
        : null;
    },
    (f) =>
      f.verbal && f.agentive && f.actor?.one
        ? qa(
            `As ${f.actor.one}, am I allowed to ${f.act}?`,
            `No${f.excBare ? `, not unless ${f.excBare}` : ''}. ${f.rule} ${f.cite}`,
            `Yes, you are allowed to ${f.act}.`,
          )
        : null,
    (f) =>
      nounal(f)
        ? qa(`Is the following allowed under ${f.doc}: ${lowerDeterminer(f.action)}?`, `No. ${f.rule} ${f.cite}`, `Yes, that is allowed.`)
        : null,
    (f) =>
      nounal(f)
        ? qa(
            `What do ${f.doc} say about ${lowerDeterminer(f.action)}?`,
            `${f.rule} ${f.cite}`,
            `${capitalise(f.doc)} permit it; use your own judgement.`,
          )
        : null,
  ],
  permission: [
    (f) => {
      const v = verbWith(f);
      return v && f.negatedObligation
        ? qa(`Must ${v.who} ${f.act}?`, `No. ${f.rule} ${f.cite}`, `Yes, it is mandatory for ${v.who} to ${f.act}.`)
        : null;
    },
    (f) => {
      const v = verbWith(f);
      return v && f.negatedObligation
        ? qa(`Is it mandatory for ${v.who} to ${f.act}?`, `No. ${f.rule} ${f.cite}`, `Yes, always; there are no exceptions.`)
        : null;
    },
    (f) => {
      const v = verbWith(f);
      return v && f.negatedObligation
        ? qa(`Do ${f.doc} oblige ${v.who} to ${f.act}?`, `No. ${f.rule} ${f.cite}`, `Yes, ${f.doc} require it in every case.`)
        : null;
    },
    (f) => {
      const v = verbWith(f);
      return v && !f.negatedObligation
        ? qa(
            `May ${v.who} ${f.act}?`,
            `Yes${f.excBare ? `, except if ${f.excBare}` : ''}. ${f.rule} ${f.cite}`,
            `No. ${capitalise(v.who)} may never ${f.action}; ${f.doc} prohibit it.`,
          )
        : null;
    },
    (f) => {
      const v = verbWith(f);
      return v && !f.negatedObligation
        ? qa(`Is it permissible for ${v.who} to ${f.act}?`, `Yes. ${f.rule} ${f.cite}`, `No, that is prohibited.`)
        : null;
    },
    (f) => {
      const v = verbWith(f);
      return v && !f.negatedObligation
        ? qa(
            `Would it breach ${f.doc} if ${v.who} were to ${f.act}?`,
            `No. ${f.rule} ${f.cite}`,
            `Yes, that would be a breach of ${f.doc}.`,
          )
        : null;
    },
    (f) => {
      const v = verbWith(f);
      return v && !f.negatedObligation && f.condition
        ? qa(
            `Under what conditions may ${v.who} ${f.action}?`,
            `${capitalise(onlyPhrase(f.condition))}. ${f.rule} ${f.cite}`,
            `There are no conditions; ${v.who} may ${f.action} at any time.`,
          )
        : null;
    },
    (f) =>
      nounal(f)
        ? qa(
            `Is the following permitted under ${f.doc}: ${lowerDeterminer(f.action)}?`,
            `Yes. ${f.rule} ${f.cite}`,
            `No, that is prohibited.`,
          )
        : null,
    (f) =>
      nounal(f)
        ? qa(`What do ${f.doc} say about ${lowerDeterminer(f.action)}?`, `${f.rule} ${f.cite}`, `They prohibit it in all circumstances.`)
        : null,
  ],
  exception: [
    (f) =>
      qa(
        `Is there an exception in ${f.doc} concerning ${topicOf(f.clause)}?`,
        `Yes. ${f.rule} ${f.cite}`,
        `No, there are no exceptions: every rule on ${topicOf(f.clause)} applies in all cases.`,
      ),
    (f) =>
      qa(
        `Does every rule on ${topicOf(f.clause)} apply without exception?`,
        `No. ${f.rule} ${f.cite}`,
        `Yes, every rule applies without exception.`,
      ),
    (f) =>
      qa(
        `What does ${citeOf(f.clause)} of ${f.doc} carve out?`,
        `${f.rule} ${f.cite}`,
        `Nothing; it restates the general rule without any exception.`,
      ),
  ],
  definition: [
    (f) =>
      qa(
        `What does "${f.s.actor}" mean in ${f.doc}?`,
        definitionAnswer(f),
        `${capitalise(f.doc)} do not define "${f.s.actor}"; use the everyday meaning of the word.`,
      ),
    (f) =>
      qa(
        `How do ${f.doc} define "${f.s.actor}"?`,
        definitionAnswer(f),
        `There is no definition; "${f.s.actor}" means whatever seems reasonable in the situation.`,
      ),
    (f) =>
      qa(
        `What counts as "${f.s.actor}" under ${f.doc}?`,
        definitionAnswer(f),
        `Whatever the applicable law says counts; ${f.doc} leave it open.`,
      ),
  ],
};

/** Exception-style questions for any statement carrying an "unless …" / "except where …". */
const EXCEPTION_QA: Template[] = [
  (f) => {
    const v = verbWith(f);
    return f.excBare && v
      ? qa(
          `Is there any exception to the rule that ${v.who} ${f.s.modality} ${f.action}?`,
          `Yes, ${f.s.exception}. ${f.rule} ${f.cite}`,
          `No, the rule applies in every case without exception.`,
        )
      : null;
  },
];

function definitionAnswer(f: Frame): string {
  return `"${f.s.actor}" ${f.s.modality} ${f.action.replace(/[.\s]+$/, '')} ${f.cite}.`;
}

function topicOf(clause: Clause): string {
  const heading = clause.headingPath[clause.headingPath.length - 1] ?? 'this topic';
  // A heading's subtitle after a colon ("…: General rules") reads as a fragment inside a question.
  return (heading.split(/:\s/)[0] as string)
    .replace(/^(?:§+\s*)?[\d.]+\s*/, '')
    .replace(/[.:]+$/, '')
    .toLowerCase();
}

// ---------------------------------------------------------------- scenario templates

/** The question closing a scenario: does the conduct described fit the rules? */
function closer(f: Frame, r: Random): string {
  return r.pick([
    `Does this comply with ${f.doc}?`,
    `Is this consistent with ${f.doc}?`,
    `Is this allowed under ${f.doc}?`,
    `Is that in line with ${f.doc}?`,
  ]);
}

/** The scenario's subject: one member of the actor the statement binds ("A covered entity", "An employee"). */
function subjectOf(f: Frame): string | null {
  return f.actor?.one ? capitalise(f.actor.one) : null;
}

/** The subject of a scenario in which it wants, decides, or is asked and refuses: only an agentive actor. */
function agentOf(f: Frame): string | null {
  return f.agentive ? subjectOf(f) : null;
}

const SCENARIO_TEMPLATES: Record<NormativeStatement['kind'], Template[]> = {
  prohibition: [
    (f, r) => {
      const who = subjectOf(f);
      if (!who || f.excBare || !f.actPast) return null;
      return scenario(
        'violating',
        `${who} ${f.actPast}. ${closer(f, r)}`,
        `No, this violates ${f.doc}. ${f.rule} ${f.cite}`,
        `Yes, this is fine; nothing in ${f.doc} prevents it.`,
      );
    },
    (f, r) => {
      const who = agentOf(f);
      if (!who) return null;
      return scenario(
        'compliant',
        `${who} was asked to ${f.act} and refused. ${r.pick([`Was that the right call under ${f.doc}?`, closer(f, r)])}`,
        `Yes, refusing complies with ${f.doc}. ${f.rule} ${f.cite}`,
        `No, the request should have been accepted; it is allowed.`,
      );
    },
    (f, r) => {
      const who = agentOf(f);
      if (!who || !f.excBare || !f.excClause) return null;
      return scenario(
        'compliant',
        `${who} intends to ${f.act}; ${f.excBare}. ${closer(f, r)}`,
        `Yes, this complies: the exception applies. ${f.rule} ${f.cite}`,
        `No, this is prohibited in every case.`,
      );
    },
    (f, r) => {
      const who = agentOf(f);
      const unknown = f.excBare && f.excClause ? whetherProposition(f.excBare) : null;
      if (!who || !f.excBare || unknown === null) return null;
      return scenario(
        'ambiguous',
        `${who} wants to ${f.act}. It is not known whether ${unknown}. ${closer(f, r)}`,
        `It depends, and more information is needed: it is allowed only if ${f.excBare}. ${f.rule} ${f.cite}`,
        `Yes, go ahead; there is nothing to check first.`,
      );
    },
  ],
  obligation: [
    (f, r) => {
      const who = subjectOf(f);
      if (!who || (!f.actPast && !f.agentive)) return null;
      return scenario(
        'compliant',
        f.actPast ? `${who} ${f.actPast}. ${closer(f, r)}` : `${who} made sure to ${f.act}. ${closer(f, r)}`,
        `Yes, this complies with ${f.doc}. ${f.rule} ${f.cite}`,
        `No, this goes against ${f.doc}.`,
      );
    },
    (f, r) => {
      const who = subjectOf(f);
      if (!who || f.excBare) return null;
      return scenario(
        'violating',
        `${who} did not ${f.act}${f.agentive ? ', assuming it was optional' : ''}. ${closer(f, r)}`,
        `No, this violates ${f.doc}: it is not optional. ${f.rule} ${f.cite}`,
        `Yes, it is optional, so nothing was done wrong.`,
      );
    },
    (f, r) => {
      const who = subjectOf(f);
      if (!who || !f.excBare || !f.excClause) return null;
      return scenario(
        'compliant',
        `${who} did not ${f.act}, because ${f.excBare}. ${closer(f, r)}`,
        `Yes, this complies: the exception applies. ${f.rule} ${f.cite}`,
        `No, the rule applies without exception, so this is a breach.`,
      );
    },
    (f, r) => {
      const who = subjectOf(f);
      const given = f.excBare && f.excClause ? f.excBare : f.condBare;
      // "It is not clear whether the value of a Gift is not known" reads as a double negation.
      const unknown = given === null ? null : whetherProposition(given);
      if (!who || unknown === null) return null;
      return scenario(
        'ambiguous',
        `${who} did not ${f.action}. It is not clear whether ${unknown}. ${closer(f, r)}`,
        `It depends, and more information is needed: whether ${unknown}. ${f.rule} ${f.cite}`,
        `Yes, clearly fine; nothing else needs to be known.`,
      );
    },
  ],
  permission: [
    (f, r) => {
      const who = subjectOf(f);
      if (!who) return null;
      if (f.negatedObligation) {
        if (!f.agentive) return null;
        return scenario(
          'compliant',
          `${who} chose not to ${f.act}. ${closer(f, r)}`,
          `Yes, this complies: it is not required. ${f.rule} ${f.cite}`,
          `No, it is mandatory, so this is a breach.`,
        );
      }
      if (!f.actPast && !f.agentive) return null;
      return scenario(
        'compliant',
        f.actPast ? `${who} ${f.actPast}. ${closer(f, r)}` : `${who} decided to ${f.act}. ${closer(f, r)}`,
        `Yes, this complies with ${f.doc}. ${f.rule} ${f.cite}`,
        `No, this is prohibited.`,
      );
    },
    (f, r) => {
      const who = agentOf(f);
      if (!who || f.negatedObligation || !f.condition) return null;
      const condition = conditionParts(f.condition).content;
      return scenario(
        'ambiguous',
        `${who} wants to ${f.action}, but it is not yet clear whether this condition is met: ${condition}. ${closer(f, r)}`,
        `It depends, and more information is needed: it is allowed ${onlyPhrase(f.condition)}. ${f.rule} ${f.cite}`,
        `Yes, it is always allowed; the condition does not matter.`,
      );
    },
    (f, r) => {
      const who = agentOf(f);
      if (!who || f.negatedObligation || !f.excBare || !f.excClause) return null;
      return scenario(
        'violating',
        `${who} wants to ${f.act}, although ${f.excBare}. ${closer(f, r)}`,
        `No, this violates ${f.doc}: the permission does not cover this case. ${f.rule} ${f.cite}`,
        `Yes, the permission applies in every case.`,
      );
    },
  ],
  exception: [],
  definition: [],
};

// ---------------------------------------------------------------- the document's own examples and notes

/**
 * What a worked example's own conclusion says, by label, tried in this order: "needs more
 * information" wording, then compliant wording (negated violations first: "would not violate"),
 * then violating wording. A matched cue is blanked before the next label is tried.
 */
const LABEL_CUES: ReadonlyArray<{ label: ScenarioLabel; cue: RegExp }> = [
  {
    label: 'ambiguous',
    cue: /\b(?:depends on|it is unclear|is not clear|may or may not|would need to (?:determine|know|consider)|more information)\b/i,
  },
  {
    label: 'compliant',
    cue: /\b(?:(?:would|does|did|will) not (?:violate|breach|be (?:a violation|prohibited|improper))|(?:is|are|was|were|would be) (?:permitted|allowed|not prohibited|proper|appropriate)|(?:is|are|was|were|would be) (?:acting )?(?:in line with|consistent with)|complies with|may(?! not\b)(?! or may not)|need not|is not required to)\b/i,
  },
  {
    label: 'violating',
    cue: /\b(?:(?:would|does|did|will) (?:violate|breach|be (?:a violation|prohibited|improper))|violates|(?:is|are|was|were|would be) (?:prohibited|not permitted|not allowed|improper)|may not|must not|shall not|cannot|could not)\b/i,
  },
];
/** "may not be penalised": a passive prohibition protects the subject, it judges nothing it did. */
const PASSIVE_PROHIBITION = /\b(?:may|must|shall|can) ?not be \w+(?:ed|en)\b/gi;
/** A worked example's own heading ("Example 1 to paragraph (b):", "Note:"), dropped from the scenario. */
const EXAMPLE_HEADING = /^(?:example|note|illustration)s?\b[^:.]{0,60}[:.]\s*/i;
/** A conclusion about another case than the one described ("If the app competed …, it would be prohibited"). */
const HYPOTHETICAL = /^(?:if|had|were|should|unless|where|when)\b/i;

/** The labels a sentence's wording gives. */
function labelsOf(sentence: string): Set<ScenarioLabel> {
  const found = new Set<ScenarioLabel>();
  let rest = sentence.replace(PASSIVE_PROHIBITION, ' ');
  for (const { label, cue } of LABEL_CUES) {
    if (cue.test(rest)) {
      found.add(label);
      rest = rest.replace(new RegExp(cue.source, 'gi'), ' ');
    }
  }
  return found;
}

/**
 * A worked example or note of the document as a labelled scenario: its facts (every sentence but
 * the last) become the question, its last sentence, the conclusion, the answer. The label comes
 * from the conclusion's own wording. Left undecided (and out of the data) where the conclusion
 * carries no cue or cues of more than one label, where it is about another case ("If …"), or where
 * the facts already carry a judgement of their own (the example interleaves reasoning).
 */
export function documentExampleScenario(clause: Clause, doc: string, cite: string, r: Random): { draft: Draft } | { undecided: string } {
  const text = collapseWhitespace(clause.text.replace(EXAMPLE_HEADING, ''));
  const sentences = splitSentences(text);
  const conclusion = sentences[sentences.length - 1];
  const facts = sentences.slice(0, -1);
  if (conclusion === undefined || facts.length === 0) return { undecided: 'no facts before a conclusion' };
  if (HYPOTHETICAL.test(conclusion)) return { undecided: 'the conclusion is about another case' };
  const labels = labelsOf(conclusion);
  if (labels.size === 0) return { undecided: 'no conclusion wording' };
  if (labels.size > 1) return { undecided: `the conclusion reads as ${[...labels].join(' and ')}` };
  if (facts.some((f) => labelsOf(f).size > 0)) return { undecided: 'the facts carry a judgement of their own' };
  const label = [...labels][0] as ScenarioLabel;
  const question = `${facts.join(' ')} ${r.pick([`Is this consistent with ${doc}?`, `Does this comply with ${doc}?`, `Is this allowed under ${doc}?`])}`;
  const lead =
    label === 'compliant'
      ? `Yes, this is consistent with ${doc}.`
      : label === 'violating'
        ? `No, this would violate ${doc}.`
        : `It depends, and more information is needed.`;
  const rejected =
    label === 'compliant'
      ? `No, this is not allowed under ${doc}.`
      : label === 'violating'
        ? `Yes, this is fine under ${doc}.`
        : `Yes, this is clearly fine; nothing more needs to be known.`;
  return { draft: scenario(label, question, `${lead} ${conclusion} ${cite}`, rejected) };
}

// ---------------------------------------------------------------- generation

/** Scenarios put one of the bound actors in a situation: a verb phrase in the active voice whose object is no bare pronoun. */
function supportsScenarios(f: Frame): boolean {
  return f.verbal && f.actor !== null && !/\b(?:it|them)\b/i.test(f.action);
}

/**
 * The reference in a draft's question that points to nothing, or null: the statement's phrases the
 * question renders (actor with action and condition, the bare action, the exception) are checked on
 * their own, since the template's words ("Is it mandatory …") are not references.
 */
function danglingIn(question: string, f: Frame): string | null {
  const who = f.actor?.np ?? '';
  const checks: string[] = [];
  if (question.includes(f.act)) checks.push(`${who} ${f.act}`);
  else if (question.includes(f.action)) checks.push(`${who} ${f.action}`);
  else if (f.s.actionForm === 'noun' && question.includes(lowerDeterminer(f.action))) checks.push(f.action);
  if (f.excBare && question.includes(f.excBare)) checks.push(`${who} ${f.act} ${f.excBare}`);
  if (who && question.includes(who)) checks.push(who);
  for (const text of checks) {
    const ref = danglingReference(text.trim());
    if (ref) return ref;
  }
  return null;
}

/** Why a draft was not kept: a well-formedness problem, or a question asked before. */
export type DropReason = IllFormedReason | 'duplicate';

/** What generation made and what it dropped, by reason: the figures a data report shows. */
export interface GenerationReport {
  /** Drafts from the templates, the document's own examples and its call-outs, before any filter. */
  drafts: number;
  /** Examples kept. */
  kept: number;
  /** Drafts that passed the well-formedness gate (duplicates included). */
  wellFormed: number;
  /** wellFormed / drafts, 1 when there were no drafts. */
  wellFormedRate: number;
  /** Drafts dropped, by reason; every reason is present. */
  dropped: Record<DropReason, number>;
  /**
   * Statements the templates could not render, by what was missing: a noun-phrase actor for a verb
   * phrase ("actor"), an action that is a whole verb or noun phrase ("action"), or a phrase that
   * stands alone ("reference": "extend the time for such action"). They get only the templates
   * that need none of these (exceptions, definitions), if any. "rule": the statement's sentence is
   * no whole sentence (a list's lead-in "… provided that"), so no answer can restate it: no drafts.
   */
  notRendered: { actor: number; action: number; reference: number; rule: number };
  /** Statements whose action, condition or exception had a "that/this/such NOUN" resolved from the clause. */
  resolvedReferences: number;
  /** The document's worked examples and notes: found, made into scenarios, and left out because their label could not be decided. */
  documentExamples: { found: number; used: number; undecided: number };
  /** A few dropped drafts with the reason, for review. */
  droppedSamples: Array<{ question: string; answer: string; reason: DropReason; detail: string }>;
  /**
   * The steering pass (GenerationSteering): statements given more templates because their concepts
   * were not covered, the examples it kept, and whether the target was met at the end; null without
   * steering, or when the usual pass met the target.
   */
  steered: { statements: number; kept: number; met: boolean } | null;
}

export interface GenerationResult {
  examples: Example[];
  report: GenerationReport;
}

function exampleId(kind: ExampleKind, question: string, clauseIds: readonly string[]): string {
  return `ex-${sha256Hex(`${kind}\n${question}\n${clauseIds.join(',')}`).slice(0, 16)}`;
}

function pickTemplates(templates: readonly Template[], f: Frame, r: Random, n: number, tried?: Set<Template>): Draft[] {
  const out: Draft[] = [];
  for (const t of r.shuffle(templates)) {
    if (out.length >= n) break;
    tried?.add(t);
    const d = t(f, r);
    if (d) out.push(d);
  }
  return out;
}

/**
 * Instruction Q&A and scenario examples: see `generateExamplesWithReport`; this returns the examples only.
 */
export function generateExamples(tree: DocumentTree, statements: readonly NormativeStatement[], options: GenerateOptions): Example[] {
  return generateExamplesWithReport(tree, statements, options).examples;
}

/**
 * Instruction Q&A and scenario examples from normative statements, by templates chosen with a
 * seeded PRNG, plus the document's own Q&A call-outs and worked examples. Questions name only what
 * the document supplies: the actor a statement binds (no invented persona or place), the document
 * by its own name or as "the rules". Verb phrases are read and conjugated by compromise. Every
 * example carries a grounded answer that restates the rule and cites its clause, a contradicting
 * answer for preference data, and its clause ids. Drafts that fail the well-formedness gate or
 * repeat a question are dropped and counted by reason.
 */
export function generateExamplesWithReport(
  tree: DocumentTree,
  statements: readonly NormativeStatement[],
  options: GenerateOptions,
): GenerationResult {
  // compromise's readings of words, phrases and sentences are kept for this run only (bounded).
  return withMemoScope(() => generateWithin(tree, statements, options));
}

function generateWithin(tree: DocumentTree, statements: readonly NormativeStatement[], options: GenerateOptions): GenerationResult {
  const report: GenerationReport = {
    drafts: 0,
    kept: 0,
    wellFormed: 0,
    wellFormedRate: 1,
    dropped: { ...emptyReasonCounts(), duplicate: 0 },
    notRendered: { actor: 0, action: 0, reference: 0, rule: 0 },
    resolvedReferences: 0,
    documentExamples: { found: 0, used: 0, undecided: 0 },
    droppedSamples: [],
    steered: null,
  };
  const steering = options.steering ?? null;
  const qaPer = options.qaPerStatement ?? 2;
  const scenariosPer = options.scenariosPerStatement ?? 2;
  const doc = documentName(tree.title);
  const agents = agentsOf(statements);
  const clauses = new Map(tree.clauses.map((c) => [c.id, c]));
  const byNumbering = new Map(tree.clauses.map((c) => [c.numbering, c]));
  const out: Example[] = [];
  const seen = new Set<string>();

  const drop = (d: Draft, reason: DropReason, detail: string): void => {
    report.dropped[reason] += 1;
    if (report.droppedSamples.length < 40) report.droppedSamples.push({ question: d.question, answer: d.answer, reason, detail });
  };
  /** Gate, de-duplicate and keep one draft; true when kept. */
  const consider = (
    d: Draft,
    cited: Clause[],
    source: ExampleSource,
    statementKind: Example['statementKind'],
    dangling: string | null = null,
  ): boolean => {
    report.drafts += 1;
    const problem = dangling ? { reason: 'dangling-reference' as const, detail: dangling } : wellFormednessProblem(d);
    if (problem) {
      drop(d, problem.reason, problem.detail);
      return false;
    }
    report.wellFormed += 1;
    const key = normaliseQuestion(d.question);
    if (seen.has(key)) {
      drop(d, 'duplicate', key.slice(0, 60));
      return false;
    }
    seen.add(key);
    const clauseIds = cited.map((c) => c.id);
    const index = out.push({
      id: exampleId(d.kind, d.question, clauseIds),
      kind: d.kind,
      source,
      question: d.question,
      answer: d.answer,
      rejected: d.rejected,
      label: d.label,
      clauseIds,
      clauseRefs: cited.map((c) => c.numbering),
      statementKind,
      values: valuesForClause(cited[0]?.numbering ?? '', options.values),
    });
    steering?.add([out[index - 1] as Example]);
    return true;
  };
  /** Statements the templates rendered, with the templates already tried on them: what the steering pass draws on. */
  const rendered: Array<{ s: NormativeStatement; clause: Clause; f: Frame; tried: Set<Template> }> = [];

  for (const s of statements) {
    const clause = clauses.get(s.clauseId);
    if (!clause) throw new Error(`statement ${s.id} refers to clause ${s.clauseId}, which is not in document ${tree.documentId}`);
    const f = frameOf(s, clause, clause.parentId ? clauses.get(clause.parentId) : undefined, doc, agents);
    if (f.resolved) report.resolvedReferences += 1;
    if (!f.ruleWhole) {
      report.notRendered.rule += 1;
      continue;
    }
    if (s.kind !== 'definition' && s.kind !== 'exception') {
      if (f.unresolvedReference !== null) report.notRendered.reference += 1;
      else if (s.actionForm === 'verb' ? !f.verbal : !f.nounPhrase) report.notRendered.action += 1;
      else if (s.actionForm === 'verb' && f.actor === null) report.notRendered.actor += 1;
    }
    const r = seededRandom(deriveSeed(options.seed, s.id));
    const tried = new Set<Template>();
    if (steering) rendered.push({ s, clause, f, tried });
    const drafts = [
      ...pickTemplates(QA_TEMPLATES[s.kind], f, r, qaPer, tried),
      ...pickTemplates(EXCEPTION_QA, f, r, 1, tried),
      ...(supportsScenarios(f) ? pickTemplates(SCENARIO_TEMPLATES[s.kind], f, r, scenariosPer, tried) : []),
    ];
    for (const d of drafts) consider(d, [clause], 'template', s.kind, danglingIn(d.question, f));
  }

  if (options.includeDocumentExamples ?? true) {
    for (const clause of tree.clauses) {
      if (clause.kind !== 'example' && clause.kind !== 'note') continue;
      report.documentExamples.found += 1;
      const parent = clause.parentId ? clauses.get(clause.parentId) : undefined;
      const cited = parent ? [parent, clause] : [clause];
      const r = seededRandom(deriveSeed(options.seed, clause.id));
      const made = documentExampleScenario(clause, doc, `(${citeOf(cited[0] as Clause)})`, r);
      if ('undecided' in made) {
        report.documentExamples.undecided += 1;
        continue;
      }
      if (consider(made.draft, cited, 'document-example', null)) report.documentExamples.used += 1;
    }
  }

  if (options.includeCallouts ?? true) {
    for (const clause of tree.clauses) {
      if (clause.kind !== 'qa' || !clause.question || !clause.answer) continue;
      const cited = citedRefs(clause.answer)
        .map((ref) => byNumbering.get(ref))
        .filter((c): c is Clause => c !== undefined && c.id !== clause.id);
      consider(qa(clause.question, clause.answer, contradict(clause.answer, doc)), [clause, ...cited], 'callout', null);
    }
  }

  if (steering && !steering.met()) {
    // The statements that would cover the most not yet covered first (document order among equals);
    // each gets the templates of its kind the usual pass did not try, while it still covers something new.
    const ranked = rendered
      .map((entry, order) => ({ entry, order, gain: steering.gain(entry.s) }))
      .filter((x) => x.gain > 0)
      .sort((a, b) => b.gain - a.gain || a.order - b.order);
    const steered = { statements: 0, kept: 0, met: false };
    for (const { entry } of ranked) {
      if (steering.met()) break;
      if (steering.gain(entry.s) === 0) continue;
      const { s, clause, f, tried } = entry;
      const templates = [...QA_TEMPLATES[s.kind], ...EXCEPTION_QA, ...(supportsScenarios(f) ? SCENARIO_TEMPLATES[s.kind] : [])].filter(
        (t) => !tried.has(t),
      );
      if (templates.length === 0) continue;
      steered.statements += 1;
      const r = seededRandom(deriveSeed(options.seed, `steer\n${s.id}`));
      for (const t of r.shuffle(templates)) {
        // No more than it takes: the statement's next template only while it still covers something new.
        if (steering.met() || steering.gain(s) === 0) break;
        const d = t(f, r);
        if (d && consider(d, [clause], 'template', s.kind, danglingIn(d.question, f))) steered.kept += 1;
      }
    }
    steered.met = steering.met();
    report.steered = steered;
  }
  report.kept = out.length;
  report.wellFormedRate = report.drafts === 0 ? 1 : report.wellFormed / report.drafts;
  return { examples: out.map((e) => Example.parse(e)), report };
}

/** A contradicting answer for a Yes/No answer; null where the answer is not a plain yes or no. */
export function contradict(answer: string, doc = 'the rules'): string | null {
  if (/^yes\b/i.test(answer)) return `No. ${capitalise(doc)} do not allow this.`;
  if (/^no\b/i.test(answer)) return `Yes. ${capitalise(doc)} allow this; there is nothing to worry about.`;
  return null;
}
