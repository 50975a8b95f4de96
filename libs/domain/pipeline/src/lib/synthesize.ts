import {
  coverageOfTerms,
  extractKeyTerms,
  extractKeyTermsOfAll,
  faithfulness,
  nearDuplicates,
  polarityOf,
  type AnswerJudge,
} from '@studio/auditing';
import {
  citeClause,
  citedRefs,
  contradict,
  deriveSeed,
  Example,
  seededRandom,
  sha256Hex,
  valuesForClause,
  type Clause,
  type ContextValues,
  type DocumentTree,
  type ExampleKind,
  type NormativeKind,
  type NormativeStatement,
  type ScenarioLabel,
} from '@studio/framing';
import { tenantKey, type ArtifactStore, type CallOptions, type ChatMessage, type ChatResult, type ChatRequest } from '@studio/ports';
import { z } from 'zod';
import type { ProgressSink } from './ports';

/**
 * "Synthesise more training data with a teacher model": few-shot prompts built from the document's
 * clauses and the context's seeds ask any OpenAI-compatible model for Q&A variants, paraphrases,
 * questions spanning two clauses and scenarios of every label. The teacher's reply must be one JSON
 * object; each example in it is kept only when it is grounded in the clauses it was written from
 * (the auditing library's key-term coverage and support, its modality-contradiction check, the
 * yes/no polarity its label implies, and the judge where one is configured), cites no clause it was
 * not given, is not a near-duplicate of an example already in the dataset (`nearDuplicates`), and
 * its clause has not reached the cap. Every finished request is checkpointed (keyed by a hash of
 * the teacher model, the clauses and the prompt), so an interrupted run resumes where it stopped;
 * the filters run again over the checkpointed replies, so the outcome does not depend on where it
 * was interrupted. The report counts generated = kept + dropped, by reason.
 */

/** The teacher: any OpenAI-compatible chat endpoint and the model to ask. */
export interface TeacherEndpoint {
  llm: { chat(request: ChatRequest, options?: CallOptions): Promise<ChatResult> };
  model: string;
  /** Optional LLM judge: an example it grades below `minJudgeScore` is dropped. */
  judge?: AnswerJudge;
}

/** One finished teacher request: the raw reply, kept so that a re-run needs no new call. */
export interface CheckpointEntry {
  key: string;
  content: string;
}

/** Where finished requests are kept (an artifact, a folder, memory). */
export interface SynthesisCheckpoint {
  load(): Promise<ReadonlyMap<string, string>>;
  record(entry: CheckpointEntry): Promise<void>;
  /** Waits for pending writes. */
  flush(): Promise<void>;
}

export const TaskKind = z.enum(['qa', 'paraphrase', 'multi-clause', 'scenario-compliant', 'scenario-violating', 'scenario-ambiguous']);
export type TaskKind = z.infer<typeof TaskKind>;
export const ALL_TASK_KINDS: readonly TaskKind[] = TaskKind.options;

export const SynthesisSettings = z
  .object({
    /** Teacher requests in flight at once. */
    concurrency: z.number().int().min(1).max(256).default(4),
    /** Examples asked for in each request. */
    examplesPerRequest: z.number().int().min(1).max(20).default(3),
    /** Cap on kept synthetic examples per clause (the first clause an example cites). */
    maxPerClause: z.number().int().min(1).max(1_000).default(8),
    /**
     * Only n of the clauses that carry a statement: the first n in document order, or, with a concept
     * coverage target (SynthesisInput.steering), first those whose concepts are not covered yet; null for all.
     */
    maxClauses: z.number().int().min(1).nullable().default(null),
    kinds: z
      .array(TaskKind)
      .min(1)
      .default([...ALL_TASK_KINDS]),
    temperature: z.number().min(0).max(2).default(0.7),
    maxTokens: z.number().int().min(16).max(8_192).default(384),
    /** Share of the cited clauses' key terms the answer must contain (auditing `faithfulness` coverage). */
    minCoverage: z.number().min(0).max(1).default(0.25),
    /** Share of the answer's key terms that must come from the clauses or the question (nothing invented). */
    minSupport: z.number().min(0).max(1).default(0.6),
    /** Token-set Jaccard similarity at which a question is a near-duplicate of one already in the dataset. */
    nearDuplicateThreshold: z.number().gt(0).max(1).default(0.9),
    /** Lowest judge score (0-1) kept, when a judge is configured. */
    minJudgeScore: z.number().min(0).max(1).default(0.5),
    /** Seed of the few-shot choices and of each request's sampling. */
    seed: z.number().int().default(42),
    /** Timeout of one teacher request. */
    requestTimeoutMs: z.number().int().min(1_000).default(600_000),
  })
  .strict();
export type SynthesisSettings = z.infer<typeof SynthesisSettings>;
export type SynthesisSettingsInput = z.input<typeof SynthesisSettings>;

export type DropReason =
  | 'unparseable'
  | 'schema'
  | 'not-a-question'
  | 'garbled'
  | 'invented-name'
  | 'off-topic'
  | 'label-mismatch'
  | 'unknown-citation'
  | 'ungrounded'
  | 'unsupported'
  | 'contradiction'
  | 'judge-rejected'
  | 'near-duplicate'
  | 'clause-cap';

export interface SynthesisReport {
  teacherModel: string;
  concurrency: number;
  /** Clauses prompted about. */
  clauses: number;
  /** Requests planned; of which answered from the checkpoint, sent, and failed (not checkpointed: a re-run retries them). */
  requests: number;
  resumed: number;
  sent: number;
  failed: number;
  /** Candidate examples: every example in a parsed reply, plus one per reply that could not be parsed. */
  generated: number;
  kept: number;
  droppedByReason: Partial<Record<DropReason, number>>;
  keptByKind: Partial<Record<TaskKind, number>>;
  /** Wall time of the requests sent by this run (resumed ones cost nothing). */
  teacherMs: number;
  promptTokens: number;
  completionTokens: number;
  /** The last error of a failed request, for the user. */
  lastError: string | null;
}

export interface SynthesisResult {
  examples: Example[];
  report: SynthesisReport;
}

export interface SynthesisInput {
  tree: DocumentTree;
  statements: readonly NormativeStatement[];
  /** The examples the dataset already has (seeds, templates, call-outs): few-shot material and the near-duplicate baseline. */
  existing: readonly Example[];
  values: ContextValues | null;
  /**
   * Which clauses a limited budget (`maxClauses`) prompts about; without it, the first ones in document
   * order. The pipeline gives the ontology's CoverageTracker when the values file sets a concept
   * coverage target: clauses whose concepts no example exercises yet come first, until the target would be met.
   */
  steering?: ClauseChooser | null;
}

/** Chooses at most `budget` of the clauses, keeping their order. */
export interface ClauseChooser {
  chooseClauses<C extends { id: string }>(clauses: readonly C[], budget: number): C[];
}

export class TeacherUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TeacherUnavailableError';
  }
}

// ---------------------------------------------------------------- prompts --------------------

interface Task {
  key: string;
  kind: TaskKind;
  clauses: Clause[];
  messages: ChatMessage[];
  label: ScenarioLabel | null;
  seed: number;
}

const SYSTEM = `You write training data for an assistant that must follow the rules of one document.
Use only what the given clauses say: no outside facts, no other rules.
Name people by the roles the clauses use (no personal names), and no organisation or place the document does not mention.
Cite a clause as it is shown in square brackets, in parentheses, e.g. (§1.2).
Reply with one JSON object and nothing else.`;

const LABEL_WORDING: Record<ScenarioLabel, { what: string; answer: string }> = {
  compliant: {
    what: 'in which someone acts as the clauses allow or require',
    answer: 'begins with "Yes." and says which clause makes it acceptable',
  },
  violating: {
    what: 'in which someone breaks what the clauses require or prohibit',
    answer: 'begins with "No." and says which clause it breaks',
  },
  ambiguous: {
    what: 'that cannot be judged without a fact the situation leaves out (the clauses make the answer depend on it)',
    answer: 'begins with "It depends." and names the missing fact and the clause that makes it matter',
  },
};

function clauseBlock(clauses: readonly Clause[]): string {
  return clauses.map((c) => `[${citeClause(c.numbering)}] ${c.text}`).join('\n');
}

function instruction(kind: TaskKind, n: number, clauses: readonly Clause[], paraphrased: readonly Example[]): string {
  const cites = clauses.map((c) => `(${citeClause(c.numbering)})`).join(' and ');
  switch (kind) {
    case 'qa':
      return `Write ${n} different questions a reader of this document could ask about the clause, each with a short answer that follows the clause exactly and cites it as ${cites}.`;
    case 'paraphrase':
      return `Rewrite each of these questions in other words, keeping its meaning, and answer it in your own words, following the clause and citing it as ${cites}:\n${paraphrased
        .map((e) => `- ${e.question}`)
        .join('\n')}`;
    case 'multi-clause':
      return `Write ${n} questions whose answers need both clauses together, each with a short answer that follows both and cites ${cites}.`;
    default: {
      const label = kind.slice('scenario-'.length) as ScenarioLabel;
      const w = LABEL_WORDING[label];
      return `Write ${n} short situations (two or three sentences, about the people and roles the clauses name, without personal names) ${w.what}. Each question describes the situation and ends by asking whether it is acceptable under these rules; each answer ${w.answer}, citing ${cites}. Give each the label "${label}".`;
    }
  }
}

function replyFormat(kind: TaskKind): string {
  return kind.startsWith('scenario-')
    ? '{"examples": [{"question": "...", "answer": "...", "label": "compliant|violating|ambiguous"}]}'
    : '{"examples": [{"question": "...", "answer": "..."}]}';
}

function isScenario(kind: TaskKind): boolean {
  return kind.startsWith('scenario-');
}

/**
 * Few-shot material: the seeds first (hand-written), then the document's call-outs, then template
 * examples; never one that names someone or something the document does not (it would be copied).
 */
function shotsFor(
  kind: TaskKind,
  clauses: readonly Clause[],
  existing: readonly Example[],
  seed: number,
  vocabulary: ReadonlySet<string>,
): Example[] {
  const wanted: ExampleKind = isScenario(kind) ? 'scenario' : 'qa';
  const label = isScenario(kind) ? (kind.slice('scenario-'.length) as ScenarioLabel) : null;
  const ids = new Set(clauses.map((c) => c.id));
  const rank = (e: Example): number =>
    (e.source === 'seed' ? 0 : e.source === 'callout' ? 1 : 2) + (e.clauseIds.some((id) => ids.has(id)) ? 0 : 3);
  const pool = existing.filter(
    (e) =>
      e.kind === wanted &&
      e.source !== 'teacher' &&
      (label === null || e.label === label) &&
      inventedName(e.question, vocabulary) === null &&
      inventedName(e.answer, vocabulary) === null,
  );
  if (pool.length === 0) return [];
  const r = seededRandom(seed);
  const best = Math.min(...pool.map(rank));
  return r.shuffle(pool.filter((e) => rank(e) === best)).slice(0, 2);
}

function userTurn(kind: TaskKind, clauses: readonly Clause[], tree: DocumentTree, paraphrased: readonly Example[], n: number): string {
  return [
    `Document: ${tree.title ?? tree.documentId}`,
    `Clauses:\n${clauseBlock(clauses)}`,
    instruction(kind, n, clauses, paraphrased),
    `Reply with exactly this JSON shape: ${replyFormat(kind)}`,
  ].join('\n\n');
}

/**
 * The request: the rules, then each few-shot example as a finished exchange (the same request about
 * the example's own clauses, answered with the example as JSON), then the request itself. Models,
 * small ones most, follow an answer they have seen more readily than a described format.
 */
function promptFor(
  kind: TaskKind,
  clauses: readonly Clause[],
  tree: DocumentTree,
  shots: readonly Example[],
  paraphrased: readonly Example[],
  n: number,
): ChatMessage[] {
  const byId = new Map(tree.clauses.map((c) => [c.id, c]));
  const messages: ChatMessage[] = [{ role: 'system', content: SYSTEM }];
  // Paraphrase and two-clause requests are shown Q&A exchanges: there are no examples of their own kind.
  const shotKind: TaskKind = kind === 'paraphrase' || kind === 'multi-clause' ? 'qa' : kind;
  for (const shot of shots) {
    const cited = shot.clauseIds.map((id) => byId.get(id)).filter((c): c is Clause => c !== undefined);
    if (cited.length === 0) continue;
    const example = shot.label
      ? { question: shot.question, answer: shot.answer, label: shot.label }
      : { question: shot.question, answer: shot.answer };
    messages.push(
      { role: 'user', content: userTurn(shotKind, cited, tree, [], 1) },
      { role: 'assistant', content: JSON.stringify({ examples: [example] }) },
    );
  }
  messages.push({ role: 'user', content: userTurn(kind, clauses, tree, paraphrased, n) });
  return messages;
}

function taskKey(model: string, kind: TaskKind, clauses: readonly Clause[], messages: readonly ChatMessage[]): string {
  return sha256Hex(JSON.stringify({ model, kind, clauses: clauses.map((c) => c.id), messages })).slice(0, 32);
}

/** The clauses synthesis prompts about: those that carry a normative statement, in document order. */
export function synthesisClauses(tree: DocumentTree, statements: readonly NormativeStatement[]): Clause[] {
  const stated = new Set(statements.map((s) => s.clauseId));
  return tree.clauses.filter((c) => stated.has(c.id));
}

/** The requests for these clauses, each with its checkpoint key: deterministic for the same inputs and settings. */
export function planSynthesis(input: SynthesisInput, settings: SynthesisSettings, model: string): Task[] {
  const { tree, existing } = input;
  const vocabulary = documentVocabulary(tree);
  let clauses = synthesisClauses(tree, input.statements);
  if (settings.maxClauses !== null)
    clauses = input.steering ? input.steering.chooseClauses(clauses, settings.maxClauses) : clauses.slice(0, settings.maxClauses);
  const n = settings.examplesPerRequest;
  const tasks: Task[] = [];
  const add = (kind: TaskKind, cited: Clause[], paraphrased: readonly Example[] = []): void => {
    const seed = deriveSeed(settings.seed, `${kind}\n${cited.map((c) => c.id).join(',')}`);
    const shots = shotsFor(kind, cited, existing, seed, vocabulary);
    const messages = promptFor(kind, cited, tree, shots, paraphrased, kind === 'paraphrase' ? paraphrased.length : n);
    const label = isScenario(kind) ? (kind.slice('scenario-'.length) as ScenarioLabel) : null;
    tasks.push({ key: taskKey(model, kind, cited, messages), kind, clauses: cited, messages, label, seed });
  };
  const kinds = new Set(settings.kinds);
  for (const [index, clause] of clauses.entries()) {
    if (kinds.has('qa')) add('qa', [clause]);
    if (kinds.has('paraphrase')) {
      const own = existing.filter((e) => e.kind === 'qa' && e.clauseIds[0] === clause.id && e.source !== 'teacher').slice(0, n);
      if (own.length > 0) add('paraphrase', [clause], own);
    }
    if (kinds.has('multi-clause')) {
      // The next stated clause of the same section: rules that are read together.
      const next = clauses[index + 1];
      if (next && next.sectionId === clause.sectionId) add('multi-clause', [clause, next]);
    }
    for (const label of ['compliant', 'violating', 'ambiguous'] as const) {
      if (kinds.has(`scenario-${label}`)) add(`scenario-${label}`, [clause]);
    }
  }
  return tasks;
}

// ---------------------------------------------------------------- parsing and filters -------

const TeacherExample = z
  .object({
    question: z.string().trim().min(1).max(2_000),
    answer: z.string().trim().min(1).max(4_000),
    label: z.string().trim().optional(),
  })
  .strip();
const TeacherReply = z.object({ examples: z.array(z.unknown()).min(1).max(50) }).strip();

type Parsed = { ok: true; items: unknown[] } | { ok: false };

/**
 * The teacher's reply must be one JSON object `{"examples": [...]}`, optionally inside one Markdown
 * code fence (how chat models wrap JSON); prose around it is not accepted.
 */
export function parseTeacherReply(content: string): Parsed {
  let text = content.trim();
  const fenced = /^```(?:json)?\s*\n([\s\S]*?)\n?```$/i.exec(text);
  if (fenced) text = (fenced[1] as string).trim();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false };
  }
  const reply = TeacherReply.safeParse(value);
  return reply.success ? { ok: true, items: reply.data.examples } : { ok: false };
}

interface Candidate {
  task: Task;
  kind: ExampleKind;
  question: string;
  answer: string;
  label: ScenarioLabel | null;
}

const words = (text: string): number => text.split(/\s+/).filter(Boolean).length;

/** Lower-cased words of a document (clauses, headings, title): what it names. */
export function documentVocabulary(tree: DocumentTree): Set<string> {
  const texts = [tree.title ?? '', ...tree.sections.map((s) => s.title), ...tree.clauses.map((c) => c.text)];
  return new Set(texts.flatMap((t) => t.toLowerCase().match(/\p{L}[\p{L}'’-]*/gu) ?? []));
}

/**
 * The first capitalised word inside a sentence of `text` (not its first word) that the document
 * never uses: a person, place or organisation the teacher made up ("Max", "Lyon"); null when none.
 */
export function inventedName(text: string, vocabulary: ReadonlySet<string>): string | null {
  for (const sentence of text.split(/(?<=[.?!])\s+/)) {
    const words = sentence.match(/\p{L}[\p{L}'’-]*/gu) ?? [];
    for (const word of words.slice(1)) {
      if (/^\p{Lu}/u.test(word) && word !== 'I' && !vocabulary.has(word.toLowerCase())) return word;
    }
  }
  return null;
}

/** A word of four letters or more written twice in a row ("doing doing"): a model stuck in a loop. */
export function repeatsWord(text: string): boolean {
  return /\b(\p{L}{4,})\s+\1\b/iu.test(text);
}

/** The grounding checks of one candidate; null when it passes. */
function groundingProblem(c: Candidate, settings: SynthesisSettings): DropReason | null {
  const clauseTexts = c.task.clauses.map((cl) => ({ id: cl.id, text: cl.text }));
  // The question must be about the clauses: at least min(3, a fifth of) their key terms.
  const clauseTerms = extractKeyTermsOfAll(clauseTexts.map((cl) => cl.text));
  const asked = coverageOfTerms(c.question, clauseTerms).found.length;
  if (asked < Math.min(3, Math.ceil(0.2 * clauseTerms.length))) return 'off-topic';
  const f = faithfulness(c.answer, clauseTexts);
  if (f.coverage < settings.minCoverage) return 'ungrounded';
  const answerTerms = extractKeyTerms(c.answer);
  const support = coverageOfTerms(`${c.task.clauses.map((cl) => cl.text).join(' ')} ${c.question}`, answerTerms).coverage;
  if (support < settings.minSupport) return 'unsupported';
  if (f.contradiction) return 'contradiction';
  return null;
}

function labelProblem(c: Candidate): boolean {
  if (c.label === null) return false;
  const polarity = polarityOf(c.answer);
  if (c.label === 'compliant') return polarity !== 'yes';
  if (c.label === 'violating') return polarity !== 'no';
  return polarity !== null;
}

/** Answers cite the clauses they were written from, as the dataset does: added where the teacher left it out. */
function withCitation(answer: string, clauses: readonly Clause[]): string {
  const cited = new Set(citedRefs(answer));
  if (clauses.some((c) => cited.has(c.numbering))) return answer;
  const cites = clauses.map((c) => citeClause(c.numbering)).join(', ');
  return `${answer.replace(/\s+$/, '')} (${cites})`;
}

function candidatesOf(
  task: Task,
  content: string,
  settings: SynthesisSettings,
  vocabulary: ReadonlySet<string>,
  drop: (reason: DropReason) => void,
): Candidate[] {
  const parsed = parseTeacherReply(content);
  if (!parsed.ok) {
    drop('unparseable');
    return [];
  }
  const out: Candidate[] = [];
  const numberings = new Set(task.clauses.map((c) => c.numbering));
  for (const item of parsed.items) {
    const e = TeacherExample.safeParse(item);
    if (!e.success) {
      drop('schema');
      continue;
    }
    const { question, answer } = e.data;
    const label = task.label;
    if (e.data.label !== undefined && e.data.label.toLowerCase() !== (label ?? '')) {
      // A Q&A request answered with a label, or a scenario of another label than asked.
      drop(label === null ? 'schema' : 'label-mismatch');
      continue;
    }
    if (!question.endsWith('?') || words(question) < 4 || words(answer) < 2) {
      drop('not-a-question');
      continue;
    }
    if (repeatsWord(question) || repeatsWord(answer)) {
      drop('garbled');
      continue;
    }
    if (inventedName(question, vocabulary) !== null || inventedName(answer, vocabulary) !== null) {
      drop('invented-name');
      continue;
    }
    if (citedRefs(answer).some((ref) => !numberings.has(ref))) {
      drop('unknown-citation');
      continue;
    }
    const candidate: Candidate = { task, kind: label ? 'scenario' : 'qa', question, answer, label };
    if (labelProblem(candidate)) {
      drop('label-mismatch');
      continue;
    }
    const problem = groundingProblem(candidate, settings);
    if (problem) {
      drop(problem);
      continue;
    }
    out.push({ ...candidate, answer: withCitation(answer, task.clauses) });
  }
  return out;
}

function exampleOf(c: Candidate, statementKinds: ReadonlyMap<string, NormativeKind>, values: ContextValues | null): Example {
  const clauseIds = c.task.clauses.map((cl) => cl.id);
  return Example.parse({
    id: `ex-${sha256Hex(`teacher\n${c.kind}\n${c.question}\n${clauseIds.join(',')}`).slice(0, 16)}`,
    kind: c.kind,
    source: 'teacher',
    question: c.question,
    answer: c.answer,
    rejected: contradict(c.answer),
    label: c.label,
    clauseIds,
    clauseRefs: c.task.clauses.map((cl) => cl.numbering),
    statementKind: statementKinds.get(clauseIds[0] as string) ?? null,
    values: valuesForClause(c.task.clauses[0]?.numbering ?? '', values),
  });
}

// ---------------------------------------------------------------- the use case --------------

export interface SynthesisPorts {
  teacher: TeacherEndpoint;
  checkpoint: SynthesisCheckpoint;
  /** Milliseconds, for the ETA and the timings (performance.now by default). */
  now?: () => number;
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}

/** How many of the first requests may all fail before the teacher is declared unreachable. */
const FAIL_FAST_AFTER = 4;

export async function synthesizeExamples(
  ports: SynthesisPorts,
  input: SynthesisInput,
  settingsInput: SynthesisSettingsInput = {},
  progress?: ProgressSink,
  signal?: AbortSignal,
): Promise<SynthesisResult> {
  const settings = SynthesisSettings.parse(settingsInput);
  const { teacher } = ports;
  const now = ports.now ?? (() => performance.now());
  const tasks = planSynthesis(input, settings, teacher.model);
  const done = new Map<string, string>(await ports.checkpoint.load());
  const report: SynthesisReport = {
    teacherModel: teacher.model,
    concurrency: settings.concurrency,
    clauses: new Set(tasks.flatMap((t) => t.clauses.map((c) => c.id))).size,
    requests: tasks.length,
    resumed: tasks.filter((t) => done.has(t.key)).length,
    sent: 0,
    failed: 0,
    generated: 0,
    kept: 0,
    droppedByReason: {},
    keptByKind: {},
    teacherMs: 0,
    promptTokens: 0,
    completionTokens: 0,
    lastError: null,
  };
  const pending = tasks.filter((t) => !done.has(t.key));
  const began = now();
  let finished = report.resumed;
  let fresh = 0;
  const tick = (): void => {
    if (!progress) return;
    const elapsed = now() - began;
    const remaining = tasks.length - finished;
    const etaMs = fresh > 0 && remaining > 0 ? (elapsed / fresh) * remaining : undefined;
    progress({
      done: finished,
      total: tasks.length,
      note: `${report.sent} sent, ${report.resumed} resumed${report.failed ? `, ${report.failed} failed` : ''}`,
      ...(etaMs !== undefined ? { etaMs } : {}),
    });
  };
  tick();

  let next = 0;
  const run = async (): Promise<void> => {
    while (next < pending.length) {
      signal?.throwIfAborted();
      const task = pending[next++] as Task;
      try {
        const result = await teacher.llm.chat(
          {
            model: teacher.model,
            messages: task.messages,
            temperature: settings.temperature,
            max_tokens: settings.maxTokens,
            seed: task.seed,
          },
          { timeoutMs: settings.requestTimeoutMs, ...(signal ? { signal } : {}) },
        );
        report.sent += 1;
        report.promptTokens += result.usage?.promptTokens ?? 0;
        report.completionTokens += result.usage?.completionTokens ?? 0;
        done.set(task.key, result.content);
        await ports.checkpoint.record({ key: task.key, content: result.content });
      } catch (error) {
        if (signal?.aborted) throw signal.reason ?? error;
        report.failed += 1;
        report.lastError = describe(error);
        if (report.failed >= FAIL_FAST_AFTER && report.sent === 0) {
          throw new TeacherUnavailableError(
            `the teacher "${teacher.model}" failed its first ${report.failed} requests (last: ${report.lastError})`,
            { cause: error },
          );
        }
      }
      finished += 1;
      fresh += 1;
      tick();
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(settings.concurrency, Math.max(1, pending.length)) }, run));
  } finally {
    await ports.checkpoint.flush();
    report.teacherMs = now() - began;
  }

  // Filters, over every reply in plan order (resumed or fresh): the same replies give the same examples.
  const drop = (reason: DropReason): void => {
    report.generated += 1;
    report.droppedByReason[reason] = (report.droppedByReason[reason] ?? 0) + 1;
  };
  const candidates: Candidate[] = [];
  const vocabulary = documentVocabulary(input.tree);
  for (const task of tasks) {
    const content = done.get(task.key);
    if (content === undefined) continue;
    for (const c of candidatesOf(task, content, settings, vocabulary, drop)) {
      report.generated += 1;
      candidates.push(c);
    }
  }
  // The judge, where one is configured, grades the candidates, as many at once as the teacher is asked.
  const judged: Candidate[] = [];
  if (teacher.judge) {
    const judge = teacher.judge;
    const passed: boolean[] = new Array<boolean>(candidates.length).fill(false);
    let nextCandidate = 0;
    const grade = async (): Promise<void> => {
      while (nextCandidate < candidates.length) {
        signal?.throwIfAborted();
        const index = nextCandidate++;
        const c = candidates[index] as Candidate;
        const result = await judge.judge(
          {
            question: c.question,
            reference: 'No reference answer: grade the answer against the clauses alone.',
            answer: c.answer,
            clauses: c.task.clauses.map((cl) => cl.text),
          },
          signal ? { signal } : {},
        );
        passed[index] = result.score !== null && result.score >= settings.minJudgeScore;
      }
    };
    await Promise.all(Array.from({ length: Math.min(settings.concurrency, Math.max(1, candidates.length)) }, grade));
    candidates.forEach((c, i) => {
      if (passed[i]) judged.push(c);
      else report.droppedByReason['judge-rejected'] = (report.droppedByReason['judge-rejected'] ?? 0) + 1;
    });
  } else judged.push(...candidates);

  // Near-duplicates of the dataset's examples or of an earlier synthetic one.
  const baseline = input.existing.map((e) => ({ id: `existing:${e.id}`, question: e.question }));
  const synthetic = judged.map((c, i) => ({ id: `teacher:${i}`, question: c.question }));
  const duplicates = new Set<number>();
  for (const group of nearDuplicates([...baseline, ...synthetic], settings.nearDuplicateThreshold).groups) {
    // The first member of a group (existing examples come first) stays; later synthetic members go.
    for (const id of group.slice(1)) if (id.startsWith('teacher:')) duplicates.add(Number(id.slice('teacher:'.length)));
  }
  const perClause = new Map<string, number>();
  const statementKinds = new Map<string, NormativeKind>();
  for (const s of input.statements) if (!statementKinds.has(s.clauseId)) statementKinds.set(s.clauseId, s.kind);
  const examples: Example[] = [];
  judged.forEach((c, i) => {
    if (duplicates.has(i)) {
      report.droppedByReason['near-duplicate'] = (report.droppedByReason['near-duplicate'] ?? 0) + 1;
      return;
    }
    const primary = c.task.clauses[0]?.id as string;
    const count = perClause.get(primary) ?? 0;
    if (count >= settings.maxPerClause) {
      report.droppedByReason['clause-cap'] = (report.droppedByReason['clause-cap'] ?? 0) + 1;
      return;
    }
    perClause.set(primary, count + 1);
    examples.push(exampleOf(c, statementKinds, input.values));
    report.keptByKind[c.task.kind] = (report.keptByKind[c.task.kind] ?? 0) + 1;
  });
  report.kept = examples.length;
  return { examples, report };
}

/** generated = kept + every drop: the report's accounting, checked. */
export function droppedTotal(report: Pick<SynthesisReport, 'droppedByReason'>): number {
  return Object.values(report.droppedByReason).reduce((a, b) => a + (b ?? 0), 0);
}

/** Synthetic pairs per hour of teacher time: generated and kept. */
export function synthesisRates(report: SynthesisReport): { generatedPerHour: number; keptPerHour: number; keptRatio: number } {
  const hours = report.teacherMs / 3_600_000;
  return {
    generatedPerHour: hours > 0 ? report.generated / hours : 0,
    keptPerHour: hours > 0 ? report.kept / hours : 0,
    keptRatio: report.generated > 0 ? report.kept / report.generated : 0,
  };
}

// ---------------------------------------------------------------- checkpoints ---------------

const CheckpointLine = z.object({ key: z.string().min(1), content: z.string() });

function parseCheckpoint(text: string, where: string): Map<string, string> {
  const entries = new Map<string, string>();
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      // A last line cut by an interruption is a request to send again; anything else is a damaged file.
      if (index === lines.length - 1 || lines.slice(index + 1).every((l) => l.trim() === '')) return;
      throw new Error(`${where}:${index + 1}: not a synthesis checkpoint line (not JSON)`);
    }
    const parsed = CheckpointLine.safeParse(value);
    if (!parsed.success)
      throw new Error(`${where}:${index + 1}: not a synthesis checkpoint line: ${parsed.error.issues[0]?.message ?? ''}`);
    entries.set(parsed.data.key, parsed.data.content);
  });
  return entries;
}

/** A checkpoint in memory (tests, benchmarks). */
export function memoryCheckpoint(initial: Iterable<[string, string]> = []): SynthesisCheckpoint & { entries: Map<string, string> } {
  const entries = new Map(initial);
  return {
    entries,
    load: async () => new Map(entries),
    record: async ({ key, content }) => void entries.set(key, content),
    flush: async () => undefined,
  };
}

/**
 * A checkpoint kept as one JSON-lines artifact under `key`, rewritten (atomically, by the store) as
 * requests finish: at most one write at a time, later entries coalesced into the next write.
 */
export function artifactCheckpoint(
  artifacts: Pick<ArtifactStore, 'put' | 'read' | 'exists' | 'localPath'>,
  key: string,
): SynthesisCheckpoint {
  const lines: string[] = [];
  let writing: Promise<void> = Promise.resolve();
  let dirty = false;
  let failure: unknown = null;
  const write = (): void => {
    if (dirty) return;
    dirty = true;
    writing = writing.then(async () => {
      dirty = false;
      try {
        await artifacts.put(key, lines.join(''));
      } catch (error) {
        failure = error;
      }
    });
  };
  return {
    async load() {
      const path = artifacts.localPath(key);
      if (!(await artifacts.exists(path))) return new Map();
      const entries = parseCheckpoint(await artifacts.read(path), path);
      lines.length = 0;
      for (const [k, content] of entries) lines.push(`${JSON.stringify({ key: k, content })}\n`);
      return entries;
    },
    async record(entry) {
      lines.push(`${JSON.stringify(entry)}\n`);
      write();
    },
    async flush() {
      await writing;
      if (failure) throw failure;
    },
  };
}

// ---------------------------------------------------------------- in a dataset version ------

/** A dataset version asked for with a teacher: who teaches, how, and who follows the progress. */
export interface DatasetSynthesis {
  teacher: TeacherEndpoint;
  settings: SynthesisSettingsInput;
  progress?: ProgressSink;
  signal?: AbortSignal;
}

/** The checkpoint of a document's synthesis: one artifact per document content, under the tenant. */
export function synthesisCheckpointKey(documentId: string, documentSha256: string): string {
  return `synthesis/${documentId}/${documentSha256.slice(0, 16)}.checkpoint.jsonl`;
}

/**
 * Synthesis for a framed document, checkpointed in the artifact store (`synthesisCheckpointKey`
 * under the tenant), with the document's seeds and template examples as few-shot material and
 * near-duplicate baseline.
 */
export function synthesizeForDocument(
  artifacts: Pick<ArtifactStore, 'put' | 'read' | 'exists' | 'localPath'>,
  tenant: string,
  document: { id: string; sha256: string },
  framed: { tree: DocumentTree; statements: readonly NormativeStatement[]; seeds: readonly Example[]; generated: readonly Example[] },
  values: ContextValues | null,
  synthesis: DatasetSynthesis,
  steering: ClauseChooser | null = null,
): Promise<SynthesisResult> {
  const checkpoint = artifactCheckpoint(artifacts, tenantKey(tenant, synthesisCheckpointKey(document.id, document.sha256)));
  return synthesizeExamples(
    { teacher: synthesis.teacher, checkpoint },
    { tree: framed.tree, statements: framed.statements, existing: [...framed.seeds, ...framed.generated], values, steering },
    synthesis.settings,
    synthesis.progress,
    synthesis.signal,
  );
}
