import { citeClause, citedRefs } from './citation';
import { Clause, DocumentTree, Example, ExampleKind, NormativeStatement, ScenarioLabel } from './model';
import { deriveSeed, Random, seededRandom } from './prng';
import { sha256Hex } from './sha256';
import { conditionParts, danglingReference, onlyPhrase, resolveDemonstratives, whetherProposition } from './phrasing';
import { capitalise, collapseWhitespace, normaliseQuestion } from './text';
import { ContextValues, valuesForClause } from './values';

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
}

interface Draft {
  kind: ExampleKind;
  question: string;
  answer: string;
  rejected: string | null;
  label: ScenarioLabel | null;
}

/** Everything a template needs about one statement, phrased for reuse in sentences. */
interface Frame {
  s: NormativeStatement;
  clause: Clause;
  cite: string;
  /** The rule, restated from its sentence, without citations. */
  rule: string;
  /** The statement's action, "that/this/such NOUN" resolved from the clause's earlier text where possible. */
  action: string;
  /** The statement's condition, resolved the same way, "; " joined as ", "; null when unconditional. */
  condition: string | null;
  /** True when a reference in the action, condition or exception was resolved from the clause. */
  resolved: boolean;
  /** Actor as a noun phrase inside a sentence ("employees", "an employee", "the Ethics Office"). */
  who: string;
  /** The action with its condition as one phrase ("accept any Gift with a value above $500"). */
  act: string;
  /** Exception without its keyword ("the Ethics Office has approved it in writing in advance"). */
  excBare: string | null;
  /** A condition that is a clause ("if …", "when …"), without its keyword. */
  condBare: string | null;
  employeeLike: boolean;
  negatedObligation: boolean;
}

type Template = (f: Frame, r: Random) => Draft | null;

const NAMES = [
  'Priya',
  'Jonas',
  'Amara',
  'Mateo',
  'Keiko',
  'Lukas',
  'Fatima',
  'Oliver',
  'Ingrid',
  'Tomasz',
  'Aisha',
  'Rafael',
  'Mei',
  'Samuel',
  'Elena',
  'Kwame',
  'Sofia',
  'Hiroshi',
  'Nadia',
  'Daniel',
  'Leila',
  'Marcus',
  'Ana',
  'Viktor',
];
const ROLES = [
  'a sales engineer',
  'a procurement specialist',
  'a project manager',
  'a service technician',
  'a finance analyst',
  'a team lead',
  'a software developer',
  'an account manager',
  'a logistics coordinator',
  'a product marketer',
  'a plant supervisor',
  'an HR partner',
];
const PLACES = [
  'in the Lyon office',
  'at the Stuttgart plant',
  'in the Singapore sales team',
  'in the Chicago service centre',
  'at headquarters',
  'in the São Paulo branch',
  'in the Warsaw engineering hub',
  'on the Nordic key-account team',
];
const CLOSERS = [
  'Is this in line with the conduct guidelines?',
  'Is that acceptable under the guidelines?',
  'Does this comply with company policy?',
  'Is this allowed?',
  'Is that consistent with the Business Conduct Guidelines?',
];

const EMPLOYEE_LIKE = /^(?:all |every |any |each |an? |the )?(?:employees?|staff|members? of staff|everyone|anyone|you|we)$/i;
const NEGATED_OBLIGATION = /not (?:required|obliged|obligated|expected) to|need(?:s)? not|not (?:need|have) to/;
const CLAUSE_CONDITION = /^(?:if|when|whenever|where|once|provided that|as long as)\s+/i;
const DETERMINER = /^(?:A|An|The|Any|All|Every|Each|No|Such|These|Those|This|That)\b/;

function lowerDeterminer(np: string): string {
  return DETERMINER.test(np) ? np.charAt(0).toLowerCase() + np.slice(1) : np;
}

function whoOf(actor: string | null): string {
  if (actor === null) return 'employees';
  if (/^the employee$/i.test(actor)) return 'an employee';
  if (/^employees$/i.test(actor)) return 'employees';
  if (/^any employee$/i.test(actor)) return 'any employee';
  if (DETERMINER.test(actor)) return lowerDeterminer(actor);
  const [first, second] = actor.split(/\s+/);
  // "Managers who …" → "managers who …"; keep proper names ("Corporate Communications").
  if (first && /^[A-Z][a-z]+s$/.test(first) && !(second && /^[A-Z]/.test(second))) return first.toLowerCase() + actor.slice(first.length);
  return actor;
}

function ruleText(sentence: string): string {
  const text = collapseWhitespace(sentence.replace(/\s*\((?:§|see\s)[^)]*\)/gi, '')).replace(/[\s:;,]+$/, '');
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/** The clause's text before the statement's action: where "that period" finds "the periods set out in …". */
function earlierText(s: NormativeStatement, clause: Clause): string {
  const body = clause.kind === 'qa' ? (clause.answer ?? clause.text) : clause.text;
  const at = body.indexOf(s.action);
  if (at > 0) return body.slice(0, at);
  const sentenceAt = body.indexOf(s.sentence);
  return sentenceAt > 0 ? body.slice(0, sentenceAt) : '';
}

function frameOf(s: NormativeStatement, clause: Clause): Frame {
  const earlier = earlierText(s, clause);
  const context = [s.actor, s.action, s.condition, s.exception].filter(Boolean).join(' ');
  const resolve = (text: string): string => resolveDemonstratives(text, earlier, context.replace(text, ' '));
  const action = resolve(s.action);
  const condition = s.condition ? resolve(s.condition.replace(/;\s+/g, ', ')) : null;
  const exc = s.exception ? resolve(s.exception) : null;
  const originalCondition = s.condition ? s.condition.replace(/;\s+/g, ', ') : null;
  return {
    resolved: action !== s.action || condition !== originalCondition || exc !== s.exception,
    s,
    clause,
    cite: `(${citeClause(clause)})`,
    rule: ruleText(s.sentence),
    action,
    condition,
    who: whoOf(s.actor),
    act: condition ? `${action} ${condition}` : action,
    excBare: exc ? exc.replace(/^(?:unless|except (?:where|when|if|for|as|in)|save where)\s+/i, '') : null,
    condBare:
      condition && CLAUSE_CONDITION.test(condition) && !/^\w+ing\b/.test(condition.replace(CLAUSE_CONDITION, ''))
        ? condition.replace(CLAUSE_CONDITION, '')
        : null,
    employeeLike: s.actor === null || EMPLOYEE_LIKE.test(s.actor) || /^(?:the|an|any) employee$/i.test(s.actor),
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
const verb = (f: Frame): boolean => f.s.actionForm === 'verb';

// ---------------------------------------------------------------- Q&A templates, per statement kind

const QA_TEMPLATES: Record<NormativeStatement['kind'], Template[]> = {
  obligation: [
    (f) =>
      verb(f)
        ? qa(
            `Is it mandatory for ${f.who} to ${f.act}?`,
            `Yes. ${f.rule} ${f.cite}`,
            `No. It is optional for ${f.who} to ${f.act}; the guidelines leave it to personal judgement.`,
          )
        : null,
    (f) =>
      verb(f) ? qa(`Must ${f.who} ${f.act}?`, `Yes. ${f.rule} ${f.cite}`, `No, there is no such requirement in the guidelines.`) : null,
    (f) =>
      verb(f)
        ? qa(
            `Is it acceptable for ${f.who} not to ${f.act}?`,
            `No${f.excBare ? `, not unless ${f.excBare}` : ''}. ${f.rule} ${f.cite}`,
            `Yes, that is acceptable; ${f.who} may decide not to ${f.action}.`,
          )
        : null,
    (f) =>
      verb(f) && f.employeeLike
        ? qa(
            `As an employee, do I have to ${f.act}?`,
            `Yes. ${f.rule} ${f.cite}`,
            `No, you can decide for yourself whether to ${f.action}.`,
          )
        : null,
    (f) =>
      !verb(f)
        ? qa(
            `What do the guidelines require regarding ${lowerDeterminer(f.action)}?`,
            `${f.rule} ${f.cite}`,
            `Nothing in particular; the guidelines do not set any requirement for this.`,
          )
        : null,
    (f) =>
      !verb(f)
        ? qa(
            `Is anything required before ${lowerDeterminer(f.action)} can go ahead?`,
            `Yes. ${f.rule} ${f.cite}`,
            `No, nothing is required.`,
          )
        : null,
  ],
  prohibition: [
    (f) =>
      verb(f)
        ? qa(
            `Can ${f.who} ${f.act}?`,
            `No${f.excBare ? `, not unless ${f.excBare}` : ''}. ${f.rule} ${f.cite}`,
            `Yes, ${f.who} can ${f.act}; the guidelines do not restrict it.`,
          )
        : null,
    (f) =>
      verb(f)
        ? qa(
            `Is it acceptable for ${f.who} to ${f.act}?`,
            `No${f.excBare ? `, except if ${f.excBare}` : ''}. ${f.rule} ${f.cite}`,
            `Yes, that is perfectly acceptable.`,
          )
        : null,
    (f) =>
      verb(f)
        ? qa(
            `Would it breach the guidelines if ${f.who} were to ${f.act}?`,
            `Yes${f.excBare ? `, unless ${f.excBare}` : ''}. ${f.rule} ${f.cite}`,
            `No, there is no rule against it.`,
          )
        : null,
    (f) =>
      verb(f) && f.employeeLike
        ? qa(
            `Am I allowed to ${f.act}?`,
            `No${f.excBare ? `, not unless ${f.excBare}` : ''}. ${f.rule} ${f.cite}`,
            `Yes, you are allowed to ${f.act}.`,
          )
        : null,
    (f) =>
      !verb(f)
        ? qa(
            `Is the following allowed under the conduct guidelines: ${lowerDeterminer(f.action)}?`,
            `No. ${f.rule} ${f.cite}`,
            `Yes, that is allowed.`,
          )
        : null,
    (f) =>
      !verb(f)
        ? qa(
            `What do the guidelines say about ${lowerDeterminer(f.action)}?`,
            `${f.rule} ${f.cite}`,
            `The guidelines permit it; use your own judgement.`,
          )
        : null,
    (f) =>
      !verb(f)
        ? qa(
            `Would ${lowerDeterminer(f.action)} be acceptable if it helped close a deal?`,
            `No. ${f.rule} ${f.cite}`,
            `Yes, if it helps the business it is acceptable.`,
          )
        : null,
  ],
  permission: [
    (f) =>
      verb(f) && f.negatedObligation
        ? qa(`Must ${f.who} ${f.act}?`, `No. ${f.rule} ${f.cite}`, `Yes, it is mandatory for ${f.who} to ${f.act}.`)
        : null,
    (f) =>
      verb(f) && f.negatedObligation
        ? qa(`Is it mandatory for ${f.who} to ${f.act}?`, `No. ${f.rule} ${f.cite}`, `Yes, always; there are no exceptions.`)
        : null,
    (f) =>
      verb(f) && f.negatedObligation
        ? qa(`Do the guidelines oblige ${f.who} to ${f.act}?`, `No. ${f.rule} ${f.cite}`, `Yes, the guidelines require it in every case.`)
        : null,
    (f) =>
      verb(f) && !f.negatedObligation
        ? qa(
            `May ${f.who} ${f.act}?`,
            `Yes${f.excBare ? `, except if ${f.excBare}` : ''}. ${f.rule} ${f.cite}`,
            `No. ${capitalise(f.who)} may never ${f.action}; the guidelines prohibit it.`,
          )
        : null,
    (f) =>
      verb(f) && !f.negatedObligation
        ? qa(`Is it permissible for ${f.who} to ${f.act}?`, `Yes. ${f.rule} ${f.cite}`, `No, that is prohibited.`)
        : null,
    (f) =>
      verb(f) && !f.negatedObligation
        ? qa(
            `Would it breach the guidelines if ${f.who} were to ${f.act}?`,
            `No. ${f.rule} ${f.cite}`,
            `Yes, that would be a breach of the guidelines.`,
          )
        : null,
    (f) =>
      verb(f) && !f.negatedObligation && f.condition
        ? qa(
            `Under what conditions may ${f.who} ${f.action}?`,
            `${capitalise(onlyPhrase(f.condition))}. ${f.rule} ${f.cite}`,
            `There are no conditions; ${f.who} may ${f.action} whenever they like.`,
          )
        : null,
    (f) =>
      !verb(f)
        ? qa(
            `Is the following permitted under the guidelines: ${lowerDeterminer(f.action)}?`,
            `Yes. ${f.rule} ${f.cite}`,
            `No, that is prohibited.`,
          )
        : null,
    (f) =>
      !verb(f)
        ? qa(
            `What do the guidelines say about ${lowerDeterminer(f.action)}?`,
            `${f.rule} ${f.cite}`,
            `They prohibit it in all circumstances.`,
          )
        : null,
  ],
  exception: [
    (f) =>
      qa(
        `Is there an exception in the guidelines concerning ${topicOf(f.clause)}?`,
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
        `What does §${f.clause.numbering} of the guidelines carve out?`,
        `${f.rule} ${f.cite}`,
        `Nothing; it restates the general rule without any exception.`,
      ),
  ],
  definition: [
    (f) =>
      qa(
        `What does "${f.s.actor}" mean in the conduct guidelines?`,
        `${definitionAnswer(f)}`,
        `The guidelines do not define "${f.s.actor}"; use the everyday meaning of the word.`,
      ),
    (f) =>
      qa(
        `How do the guidelines define "${f.s.actor}"?`,
        `${definitionAnswer(f)}`,
        `There is no definition; "${f.s.actor}" means whatever seems reasonable in the situation.`,
      ),
    (f) =>
      qa(
        `What counts as "${f.s.actor}" under the guidelines?`,
        `${definitionAnswer(f)}`,
        `Only what the law of your country says counts; the guidelines leave it open.`,
      ),
  ],
};

/** Exception-style questions for any statement carrying an "unless …" / "except where …". */
const EXCEPTION_QA: Template[] = [
  (f) =>
    f.excBare && verb(f)
      ? qa(
          `Is there any exception to the rule that ${f.who} ${f.s.modality} ${f.action}?`,
          `Yes, ${f.s.exception}. ${f.rule} ${f.cite}`,
          `No, the rule applies in every case without exception.`,
        )
      : null,
];

function definitionAnswer(f: Frame): string {
  return `"${f.s.actor}" ${f.s.modality} ${f.action.replace(/[.\s]+$/, '')} ${f.cite}.`;
}

function topicOf(clause: Clause): string {
  const heading = clause.headingPath[clause.headingPath.length - 1] ?? 'this topic';
  return heading.replace(/^\d+(?:\.\d+)*\.?\s*/, '').toLowerCase();
}

// ---------------------------------------------------------------- scenario templates

function persona(r: Random): { name: string; intro: string } {
  const name = r.pick(NAMES);
  return { name, intro: `${name}, ${r.pick(ROLES)} ${r.pick(PLACES)},` };
}

const SCENARIO_TEMPLATES: Record<NormativeStatement['kind'], Template[]> = {
  prohibition: [
    (f, r) => {
      if (f.excBare) return null;
      const p = persona(r);
      return scenario(
        'violating',
        `${p.intro} plans to ${f.act}. ${r.pick(CLOSERS)}`,
        `No, this would violate the guidelines. ${f.rule} ${f.cite}`,
        `Yes, this is fine; nothing in the guidelines prevents ${p.name} from doing it.`,
      );
    },
    (f, r) => {
      const p = persona(r);
      return scenario(
        'compliant',
        `${p.intro} was asked by a colleague to ${f.act} and refused. Was that the right call under the guidelines?`,
        `Yes, refusing complies with the guidelines. ${f.rule} ${f.cite}`,
        `No, ${p.name} should have agreed; it is allowed.`,
      );
    },
    (f, r) => {
      if (!f.excBare) return null;
      const p = persona(r);
      return scenario(
        'compliant',
        `${p.intro} intends to ${f.act}; ${f.excBare}. ${r.pick(CLOSERS)}`,
        `Yes, this complies: the exception applies. ${f.rule} ${f.cite}`,
        `No, this is prohibited in every case.`,
      );
    },
    (f, r) => {
      const unknown = f.excBare ? whetherProposition(f.excBare) : null;
      if (!f.excBare || unknown === null) return null;
      const p = persona(r);
      return scenario(
        'ambiguous',
        `${p.intro} wants to ${f.act}. It is not known whether ${unknown}. ${r.pick(CLOSERS)}`,
        `It depends, and more information is needed: it is allowed only if ${f.excBare}. ${f.rule} ${f.cite}`,
        `Yes, go ahead; there is nothing to check first.`,
      );
    },
  ],
  obligation: [
    (f, r) => {
      const p = persona(r);
      return scenario(
        'compliant',
        `${p.intro} made sure to ${f.act}. ${r.pick(CLOSERS)}`,
        `Yes, this complies with the guidelines. ${f.rule} ${f.cite}`,
        `No, this goes against the guidelines.`,
      );
    },
    (f, r) => {
      if (f.excBare) return null;
      const p = persona(r);
      return scenario(
        'violating',
        `${p.intro} decided not to ${f.act}, assuming it was optional. ${r.pick(CLOSERS)}`,
        `No, this violates the guidelines: it is not optional. ${f.rule} ${f.cite}`,
        `Yes, it is optional, so ${p.name} did nothing wrong.`,
      );
    },
    (f, r) => {
      if (!f.excBare) return null;
      const p = persona(r);
      return scenario(
        'compliant',
        `${p.intro} did not ${f.act}, because ${f.excBare}. ${r.pick(CLOSERS)}`,
        `Yes, this complies: the exception applies. ${f.rule} ${f.cite}`,
        `No, the rule applies without exception, so this is a breach.`,
      );
    },
    (f, r) => {
      const given = f.excBare ?? f.condBare;
      // "It is not clear whether the value of a Gift is not known" reads as a double negation.
      const unknown = given === null ? null : whetherProposition(given);
      if (unknown === null) return null;
      const p = persona(r);
      return scenario(
        'ambiguous',
        `${p.intro} did not ${f.action}. It is not clear whether ${unknown}. ${r.pick(CLOSERS)}`,
        `It depends, and more information is needed: whether ${unknown}. ${f.rule} ${f.cite}`,
        `Yes, clearly fine; nothing else needs to be known.`,
      );
    },
  ],
  permission: [
    (f, r) => {
      const p = persona(r);
      return f.negatedObligation
        ? scenario(
            'compliant',
            `${p.intro} chose not to ${f.act}. ${r.pick(CLOSERS)}`,
            `Yes, this complies: it is not required. ${f.rule} ${f.cite}`,
            `No, it is mandatory, so ${p.name} is in breach.`,
          )
        : scenario(
            'compliant',
            `${p.intro} decided to ${f.act}. ${r.pick(CLOSERS)}`,
            `Yes, this complies with the guidelines. ${f.rule} ${f.cite}`,
            `No, this is prohibited.`,
          );
    },
    (f, r) => {
      if (f.negatedObligation || !f.condition) return null;
      const p = persona(r);
      const condition = conditionParts(f.condition).content;
      return scenario(
        'ambiguous',
        `${p.intro} wants to ${f.action}, but it is not yet clear whether this condition is met: ${condition}. ${r.pick(CLOSERS)}`,
        `It depends, and more information is needed: it is allowed ${onlyPhrase(f.condition)}. ${f.rule} ${f.cite}`,
        `Yes, it is always allowed; the condition does not matter.`,
      );
    },
    (f, r) => {
      if (f.negatedObligation || !f.excBare) return null;
      const p = persona(r);
      return scenario(
        'violating',
        `${p.intro} wants to ${f.act}, although ${f.excBare}. ${r.pick(CLOSERS)}`,
        `No, this violates the guidelines: the permission does not cover this case. ${f.rule} ${f.cite}`,
        `Yes, the permission applies in every case.`,
      );
    },
  ],
  exception: [],
  definition: [],
};

// ---------------------------------------------------------------- generation

/**
 * Scenarios put a named employee in the actor's place, so they need a verb phrase addressed to
 * employees, in the active voice, whose object is not an unresolved pronoun ("forward it").
 */
function supportsScenarios(f: Frame): boolean {
  return f.s.actionForm === 'verb' && f.employeeLike && !/^be\b/i.test(f.action) && !/\b(?:it|them)\b/i.test(f.action);
}

/**
 * The reference in a draft's question that points to nothing, or null: the statement's phrases the
 * question renders (actor with action and condition, the bare action, the exception) are checked on
 * their own, since the template's words ("Is it mandatory …") are not references.
 */
function danglingIn(question: string, f: Frame): string | null {
  const checks: string[] = [];
  if (question.includes(f.act)) checks.push(`${f.who} ${f.act}`);
  else if (question.includes(f.action)) checks.push(`${f.who} ${f.action}`);
  else if (f.s.actionForm === 'noun' && question.includes(f.action.charAt(0).toLowerCase() + f.action.slice(1))) checks.push(f.action);
  if (f.excBare && question.includes(f.excBare)) checks.push(`${f.who} ${f.act} ${f.excBare}`);
  if (question.includes(f.who) && f.s.actor) checks.push(f.who);
  for (const text of checks) {
    const ref = danglingReference(text);
    if (ref) return ref;
  }
  return null;
}

/** What quality filtering did to the template drafts. */
export interface GenerationReport {
  /** Drafts produced by the templates, before filtering and de-duplication. */
  drafts: number;
  /** Drafts dropped because their question refers to something it does not name ("after that period"). */
  droppedDanglingReference: number;
  /** Drafts dropped because their question repeats an earlier one. */
  droppedDuplicate: number;
  /** Statements whose action, condition or exception had a "that/this/such NOUN" resolved from the clause. */
  resolvedReferences: number;
  /** A few dropped questions with the reference that made them unusable, for review. */
  droppedSamples: Array<{ question: string; reference: string }>;
}

function exampleId(kind: ExampleKind, question: string, clauseIds: readonly string[]): string {
  return `ex-${sha256Hex(`${kind}\n${question}\n${clauseIds.join(',')}`).slice(0, 16)}`;
}

function pickTemplates(templates: readonly Template[], f: Frame, r: Random, n: number): Draft[] {
  const out: Draft[] = [];
  for (const t of r.shuffle(templates)) {
    if (out.length >= n) break;
    const d = t(f, r);
    if (d) out.push(d);
  }
  return out;
}

/**
 * Instruction Q&A and scenario examples from normative statements, by templates: several varied
 * templates per statement kind, chosen by a seeded PRNG, scenarios labelled compliant, violating
 * or ambiguous. Every example carries a grounded reference answer that restates the rule and cites
 * its clause ("(§3.2.1)"), a contradicting answer for preference data, and the ids of the clauses
 * it comes from. The document's own Q&A call-outs are included as examples too.
 */
export function generateExamples(tree: DocumentTree, statements: readonly NormativeStatement[], options: GenerateOptions): Example[] {
  return generateExamplesWithReport(tree, statements, options).examples;
}

/**
 * As `generateExamples`, with a report of the drafts dropped for quality: a question whose statement
 * phrase refers to something it does not name ("delete records after that period", "explain why they
 * are making it") is not generated, after "that/this/such NOUN" has been resolved from the clause's
 * earlier text where it could be.
 */
export function generateExamplesWithReport(
  tree: DocumentTree,
  statements: readonly NormativeStatement[],
  options: GenerateOptions,
): { examples: Example[]; report: GenerationReport } {
  const report: GenerationReport = {
    drafts: 0,
    droppedDanglingReference: 0,
    droppedDuplicate: 0,
    resolvedReferences: 0,
    droppedSamples: [],
  };
  const qaPer = options.qaPerStatement ?? 2;
  const scenariosPer = options.scenariosPerStatement ?? 2;
  const clauses = new Map(tree.clauses.map((c) => [c.id, c]));
  const byNumbering = new Map(tree.clauses.map((c) => [c.numbering, c]));
  const out: Example[] = [];
  const seen = new Set<string>();

  const push = (d: Draft, cited: Clause[], statementKind: Example['statementKind']): void => {
    const key = normaliseQuestion(d.question);
    if (seen.has(key)) {
      report.droppedDuplicate += 1;
      return;
    }
    seen.add(key);
    const clauseIds = cited.map((c) => c.id);
    out.push({
      id: exampleId(d.kind, d.question, clauseIds),
      kind: d.kind,
      source: 'template',
      question: d.question,
      answer: d.answer,
      rejected: d.rejected,
      label: d.label,
      clauseIds,
      clauseRefs: cited.map((c) => c.numbering),
      statementKind,
      values: valuesForClause(cited[0]?.numbering ?? '', options.values),
    });
  };

  for (const s of statements) {
    const clause = clauses.get(s.clauseId);
    if (!clause) throw new Error(`statement ${s.id} refers to clause ${s.clauseId}, which is not in document ${tree.documentId}`);
    const f = frameOf(s, clause);
    if (f.resolved) report.resolvedReferences += 1;
    const r = seededRandom(deriveSeed(options.seed, s.id));
    const drafts = [...pickTemplates(QA_TEMPLATES[s.kind], f, r, qaPer), ...pickTemplates(EXCEPTION_QA, f, r, 1), ...scenarioDrafts(f, r)];
    for (const d of drafts) {
      report.drafts += 1;
      const dangling = danglingIn(d.question, f);
      if (dangling) {
        report.droppedDanglingReference += 1;
        if (report.droppedSamples.length < 20) report.droppedSamples.push({ question: d.question, reference: dangling });
        continue;
      }
      push(d, [clause], s.kind);
    }
  }

  function scenarioDrafts(f: Frame, r: Random): Draft[] {
    return supportsScenarios(f) ? pickTemplates(SCENARIO_TEMPLATES[f.s.kind], f, r, scenariosPer) : [];
  }

  if (options.includeCallouts ?? true) {
    for (const clause of tree.clauses) {
      if (clause.kind !== 'qa' || !clause.question || !clause.answer) continue;
      const cited = citedRefs(clause.answer)
        .map((ref) => byNumbering.get(ref))
        .filter((c): c is Clause => c !== undefined && c.id !== clause.id);
      const d = qa(clause.question, clause.answer, contradict(clause.answer));
      const key = normaliseQuestion(d.question);
      if (seen.has(key)) continue;
      seen.add(key);
      const all = [clause, ...cited];
      out.push({
        id: exampleId(
          'qa',
          d.question,
          all.map((c) => c.id),
        ),
        kind: 'qa',
        source: 'callout',
        question: d.question,
        answer: d.answer,
        rejected: d.rejected,
        label: null,
        clauseIds: all.map((c) => c.id),
        clauseRefs: all.map((c) => c.numbering),
        statementKind: null,
        values: valuesForClause(clause.numbering, options.values),
      });
    }
  }
  return { examples: out.map((e) => Example.parse(e)), report };
}

/** A contradicting answer for a Yes/No answer; null where the answer is not a plain yes or no. */
export function contradict(answer: string): string | null {
  if (/^yes\b/i.test(answer)) return 'No. The guidelines do not allow this.';
  if (/^no\b/i.test(answer)) return 'Yes. The guidelines allow this; there is nothing to worry about.';
  return null;
}
