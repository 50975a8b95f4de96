import { createHash } from 'node:crypto';
import { AUDIT_RUN_COMPLETED_V1, AUDIT_VERDICT_ISSUED_V1 } from '@studio/contracts';
import {
  buildAuditReport,
  clauseCoverage,
  decideVerdict,
  detectLeakage,
  evaluateItems,
  nearDuplicates,
  renderMarkdownReport,
  toAuditRunCompleted,
  toAuditVerdictIssued,
  withRewards,
  type AuditReportV1,
  type RewardsByVariant,
  type RewardSummary,
  type AuditThresholds,
  type AuditVariant,
  type VariantRecord,
  type EvalClause,
  type EvalItem,
  type AnswerJudge,
} from '@studio/auditing';
import { citeClause, type ContextValue } from '@studio/framing';
import { tenantKey, type ChatMessage, type Repository, type RewardScorer, type TenantId } from '@studio/ports';
import { z } from 'zod';
import { clausesOfDataset, staleReason, type DatasetClausePorts } from './document-versions';
import { publishEvent } from './events';
import { readDatasetOntology } from './frame';
import { retrieveClauses, type RetrievalPorts, type RetrievedClause } from './index-clauses';
import type { AdapterLoader, PipelinePorts, ProgressSink } from './ports';
import type { AdapterRecord, AuditRunRecord, ClauseRecord, DatasetVersionRecord } from './records';
import {
  DEFAULT_RED_TEAM_SETTINGS,
  MAX_ADAPTIVE_ROUNDS,
  planRedTeam,
  requestsOf,
  runRedTeamAudit,
  type AttackerPort,
  type AttackJudgePort,
  type RedTeamSettings,
} from './red-team-audit';

/** One line of a conversational dataset file as the framing stage writes it. */
const ConversationLine = z.object({
  id: z.string().min(1),
  messages: z.array(z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string() })).min(2),
  clause_ids: z.array(z.string().min(1)).min(1),
  kind: z.string().optional(),
  label: z.string().nullable().optional(),
});

export interface DatasetItem extends Omit<EvalItem, 'kind'> {
  /** The example's kind (qa, scenario): what the sample is spread over. */
  kind: string;
  /** The kind the report breaks scores down by: qa, scenario:<label>. */
  breakdown: string;
}

/** Parses a conversational JSON-lines split back into question / reference / clause ids. */
export function readConversationalItems(jsonl: string, where: string): DatasetItem[] {
  const items: DatasetItem[] = [];
  jsonl.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (error) {
      throw new Error(`${where}:${index + 1}: not valid JSON (${(error as Error).message})`);
    }
    const parsed = ConversationLine.safeParse(json);
    if (!parsed.success)
      throw new Error(`${where}:${index + 1}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const row = parsed.data;
    const question = row.messages.find((m) => m.role === 'user')?.content;
    const reference = [...row.messages].reverse().find((m) => m.role === 'assistant')?.content;
    if (!question || !reference) throw new Error(`${where}:${index + 1}: needs a user and an assistant message`);
    const kind = row.kind ?? 'qa';
    items.push({
      id: row.id,
      question,
      reference,
      clauseIds: row.clause_ids,
      expectsRefusal: false,
      kind,
      // As the dataset counts its examples: qa, scenario:compliant, scenario:violating, scenario:ambiguous.
      breakdown: kind === 'scenario' && row.label ? `scenario:${row.label}` : kind,
    });
  });
  return items;
}

/**
 * Up to `max` items, the same ones on every run: round-robin over the kinds (Q&A and each
 * scenario label), each kind in id order, so a small sample still covers every kind.
 */
export function sampleItems<T extends { id: string; kind: string }>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return [...items];
  const byKind = new Map<string, T[]>();
  for (const item of [...items].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    const list = byKind.get(item.kind) ?? [];
    list.push(item);
    byKind.set(item.kind, list);
  }
  const queues = [...byKind.keys()].sort().map((k) => byKind.get(k) as T[]);
  const out: T[] = [];
  while (out.length < max) {
    for (const queue of queues) {
      const next = queue.shift();
      if (next && out.length < max) out.push(next);
    }
  }
  return out;
}

/** A framed clause as the audit's scoring reads it. */
export function evalClauseOf(c: Pick<ClauseRecord, 'id' | 'text' | 'title' | 'numbering'>): EvalClause {
  return { id: c.id, text: c.text, numbering: c.numbering, ...(c.title ? { title: c.title } : {}) };
}

/** The system prompt of the aligned+RAG variant: the training prompt plus the retrieved clauses. */
export function ragSystemPrompt(systemPrompt: string, clauses: readonly RetrievedClause[]): string {
  if (clauses.length === 0) return systemPrompt;
  return `${systemPrompt}\n\nRelevant clauses:\n${clauses.map((c) => `(${citeClause(c.numbering)}) ${c.text}`).join('\n')}`;
}

/**
 * The model a variant is answered by: the base model, the parent adapter for `sft`, or the audited
 * adapter (loaded by name) for the aligned variants.
 */
export function variantModel(variant: AuditVariant, baseModel: string, adapterName: string, parentName?: string | null): string {
  if (variant === 'sft') {
    if (!parentName) throw new Error('the sft variant is answered by the parent adapter, and none was given');
    return parentName;
  }
  return variant === 'base' ? baseModel : adapterName;
}

/**
 * The messages a variant is asked with: the dataset's system prompt (the one the model was trained
 * with), for aligned+RAG extended with the retrieved clauses, then the question.
 */
export function variantMessages(
  variant: AuditVariant,
  systemPrompt: string,
  question: string,
  retrieved: readonly RetrievedClause[],
): ChatMessage[] {
  return [
    { role: 'system', content: variant === 'aligned_rag' ? ragSystemPrompt(systemPrompt, retrieved) : systemPrompt },
    { role: 'user', content: question },
  ];
}

/** One variant's answer as the audit generates it: greedy decoding, bounded length, seed 0, trimmed. */
export async function answerVariant(
  llm: RetrievalPorts['llm'],
  request: {
    variant: AuditVariant;
    baseModel: string;
    adapterName: string;
    /** The parent adapter's name, for the `sft` variant. */
    parentName?: string | null;
    systemPrompt: string;
    question: string;
    retrieved: readonly RetrievedClause[];
    maxTokens: number;
  },
): Promise<string> {
  const result = await llm.chat({
    model: variantModel(request.variant, request.baseModel, request.adapterName, request.parentName),
    messages: variantMessages(request.variant, request.systemPrompt, request.question, request.retrieved),
    temperature: 0,
    max_tokens: request.maxTokens,
    seed: 0,
  });
  return result.content.trim();
}

export interface AuditSettings {
  /** Held-out items evaluated (a deterministic sample covering every kind). */
  maxItems: number;
  /** Clauses retrieved for the aligned+RAG variant. */
  ragTopK: number;
  /** Bound on each generated answer. */
  maxTokens: number;
  /** Chat requests in flight at once (the runtime batches concurrent requests of one model). */
  concurrency: number;
  /** Attacks generated from the rules and asked of every variant (default 24); 0 runs no red team. */
  maxAttacks?: number;
  /** Benign probes (over-refusal) asked of every variant (default 12); 0 asks none. */
  maxBenign?: number;
  /** Items of the general-ability set answered by every variant (default: all); 0 answers none. */
  maxGeneralAbility?: number;
  /** Goals the adaptive attacker attacks in every variant, when the ports have an attacker (default 4); 0 attacks none. */
  maxAdaptive?: number;
  /** Prompts the adaptive attacker tries at most per goal and variant (default 4, at most MAX_ADAPTIVE_ROUNDS). */
  adaptiveRounds?: number;
}

/** The red-team bounds of audit settings, the defaults where they are not given. */
export function redTeamSettingsOf(
  settings: Pick<AuditSettings, 'maxAttacks' | 'maxBenign' | 'maxGeneralAbility' | 'maxAdaptive' | 'adaptiveRounds'>,
): RedTeamSettings {
  const bound = (name: string, value: number | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    if (!Number.isInteger(value) || value < 0) throw new Error(`audit setting ${name} must be a non-negative integer, got ${value}`);
    return value;
  };
  return {
    maxAttacks: bound('maxAttacks', settings.maxAttacks, DEFAULT_RED_TEAM_SETTINGS.maxAttacks),
    maxBenign: bound('maxBenign', settings.maxBenign, DEFAULT_RED_TEAM_SETTINGS.maxBenign),
    maxGeneralAbility: bound('maxGeneralAbility', settings.maxGeneralAbility, DEFAULT_RED_TEAM_SETTINGS.maxGeneralAbility),
    maxAdaptive: bound('maxAdaptive', settings.maxAdaptive, DEFAULT_RED_TEAM_SETTINGS.maxAdaptive),
    adaptiveRounds: (() => {
      const rounds = settings.adaptiveRounds ?? DEFAULT_RED_TEAM_SETTINGS.adaptiveRounds;
      if (!Number.isInteger(rounds) || rounds < 1 || rounds > MAX_ADAPTIVE_ROUNDS)
        throw new Error(`audit setting adaptiveRounds must be a whole number from 1 to ${MAX_ADAPTIVE_ROUNDS}, got ${rounds}`);
      return rounds;
    })(),
  };
}

/** The clauses of a context as the audit reads them: the framer's repository or HTTP API. */
export interface ClauseSource {
  /** The context's current clauses (those of its documents' current versions). */
  clausesOf(tenant: TenantId, contextId: string): Promise<ClauseRecord[]>;
  /** The clauses a dataset version was generated from (clausesOfDataset); without it, the current ones stand for them. */
  clausesOfDataset?(tenant: TenantId, contextId: string, datasetVersionId: string): Promise<ClauseRecord[]>;
}

/** A clause repository as a clause source; with the dataset and version repositories and the artifacts, it also reads a dataset's clauses. */
export function clauseSourceOf(
  clauses: Pick<Repository<ClauseRecord>, 'find'>,
  versions?: Omit<DatasetClausePorts, 'repos'> & { repos: Omit<DatasetClausePorts['repos'], 'clauses'> },
): ClauseSource {
  return {
    clausesOf: (tenant, contextId) => clauses.find(tenant, { contextId }, { sort: { documentId: 1, position: 1 } }),
    ...(versions
      ? {
          clausesOfDataset: (tenant: TenantId, contextId: string, datasetVersionId: string) =>
            clausesOfDataset({ ...versions, repos: { ...versions.repos, clauses } }, tenant, contextId, datasetVersionId),
        }
      : {}),
  };
}

/** What the audit needs of a dataset version: its splits and system prompt, and the concept coverage measured when it was made. */
export type AuditedDataset = Pick<DatasetVersionRecord, 'id' | 'systemPrompt'> & {
  train: Pick<DatasetVersionRecord['train'], 'uri'>;
  heldOut: Pick<DatasetVersionRecord['heldOut'], 'uri' | 'sha256'>;
  /** Absent or null: not measured (a concept coverage gate then fails, saying so). */
  conceptCoverage?: DatasetVersionRecord['conceptCoverage'];
};

export interface AuditInput {
  tenant: TenantId;
  contextId: string;
  dataset: AuditedDataset;
  /** What the audit needs of the registered adapter: its name, run and files (method and preference dataset for the lineage). */
  adapter: Pick<AdapterRecord, 'id' | 'runId' | 'artifactDir'> & Partial<Pick<AdapterRecord, 'method' | 'preferenceDatasetId'>>;
  /**
   * The adapter the audited one was trained from (a DPO round's SFT adapter): loaded like it and
   * answered as the `sft` variant. Null or absent: no sft variant.
   */
  parent?: Pick<AdapterRecord, 'id' | 'runId' | 'artifactDir'> | null;
  /** Name of the base model on the LLM endpoint. */
  baseModel: string;
  /** The context's release gates, clause coverage among them. */
  thresholds: AuditThresholds;
  settings: AuditSettings;
  /** ISO time stamped on the report. */
  createdAt: string;
  /**
   * The context's reward model (a registered reward adapter), when it has one: every answer is
   * scored with it (the report's compliance `rewards`, beside the lexical metrics). Needs `ports.rewards`.
   */
  rewardModel?: Pick<AdapterRecord, 'id' | 'runId' | 'artifactDir'> | null;
  /**
   * The context's values (its values file): which values each attacked clause exercises, for the red
   * team's success per value. Null or absent: attacks carry no values.
   */
  values?: readonly ContextValue[] | null;
}

export interface AuditPorts extends Pick<PipelinePorts, 'bus' | 'artifacts'>, RetrievalPorts {
  clauses: ClauseSource;
  /** Where the audit records are written. */
  audits: Pick<Repository<AuditRunRecord>, 'upsert'>;
  adapters: AdapterLoader;
  /** CloudEvents `source` of the audit events (default: the CLI's). */
  eventSource?: string;
  /** Optional LLM judge (any OpenAI-compatible endpoint); without one, judge scores are null. */
  judge?: { judge: AnswerJudge; model: string };
  /** The model server's reward scoring: what scores the answers when the input names a reward model. */
  rewards?: RewardScorer;
  /** Optional LLM judge of the replies to attacks (LlmAttackJudge of @studio/redteam); without one, the rules and the reward model judge. */
  attackJudge?: AttackJudgePort;
  /**
   * Optional adaptive attacker (a model at any OpenAI-compatible endpoint): it refines its prompt from
   * each variant's replies for `settings.maxAdaptive` goals; without one the report says adaptive attacks were not run.
   */
  attacker?: AttackerPort;
}

export interface AuditResult {
  record: AuditRunRecord;
  report: AuditReportV1;
  reportJsonUri: string;
  reportMarkdownUri: string;
  /** Time spent waiting for chat completions and question embeddings. */
  modelMs: number;
  /** Wall time of the red team, benign probes and general-ability set (included in the audit's time), and the chat requests they sent. */
  redTeam: { ms: number; requests: number };
}

async function mapPool<T, R>(inputs: readonly T[], limit: number, fn: (input: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(inputs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < inputs.length) {
      const index = next;
      next += 1;
      out[index] = await fn(inputs[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, inputs.length)) }, worker));
  return out;
}

/** Conversations sent to the reward model per request. */
const REWARD_BATCH = 16;

/**
 * Every variant's answers scored by the reward model (loaded into the model server first). Each
 * answer is scored as the reply to the dataset's system prompt and the question: the same prompt
 * for every variant (the retrieved clauses of aligned+RAG are not shown), so the rewards compare
 * the answers alone, as the preference pairs the model learnt from did.
 */
async function rewardAnswers(
  scorer: RewardScorer,
  model: Pick<AdapterRecord, 'id' | 'artifactDir'>,
  systemPrompt: string,
  items: readonly DatasetItem[],
  answers: Record<string, Record<string, string>>,
  settings: AuditSettings,
): Promise<RewardsByVariant> {
  await scorer.loadRewardModel(model.id, model.artifactDir);
  const out: Record<string, Record<string, number>> = {};
  for (const [variant, byItem] of Object.entries(answers)) {
    const batches: DatasetItem[][] = [];
    for (let i = 0; i < items.length; i += REWARD_BATCH) batches.push(items.slice(i, i + REWARD_BATCH));
    const scored = await mapPool(batches, settings.concurrency, async (batch) => {
      const conversations = batch.map((item): ChatMessage[] => [
        { role: 'system', content: systemPrompt },
        { role: 'user', content: item.question },
        { role: 'assistant', content: byItem[item.id] ?? '' },
      ]);
      const scores = await scorer.score(model.id, conversations);
      if (scores.length !== batch.length)
        throw new Error(`reward model ${model.id} returned ${scores.length} scores for ${batch.length} ${variant} answers`);
      return scores;
    });
    out[variant] = Object.fromEntries(batches.flat().map((item, index) => [item.id, scored.flat()[index] as number]));
  }
  return out as RewardsByVariant;
}

/** Scores conversations with the (loaded) reward model, in batches of REWARD_BATCH. */
function rewardScoring(
  scorer: RewardScorer,
  model: Pick<AdapterRecord, 'id'>,
  settings: AuditSettings,
): (conversations: ChatMessage[][]) => Promise<number[]> {
  return async (conversations) => {
    const batches: ChatMessage[][][] = [];
    for (let i = 0; i < conversations.length; i += REWARD_BATCH) batches.push(conversations.slice(i, i + REWARD_BATCH));
    const scored = await mapPool(batches, settings.concurrency, async (batch) => {
      const scores = await scorer.score(model.id, batch);
      if (scores.length !== batch.length)
        throw new Error(`reward model ${model.id} returned ${scores.length} scores for ${batch.length} conversations`);
      return scores;
    });
    return scored.flat();
  };
}

export function auditRunIdFor(runId: string, dataset: Pick<AuditedDataset, 'heldOut'>, settings: AuditSettings): string {
  const digest = createHash('sha256')
    .update(JSON.stringify({ runId, heldOut: dataset.heldOut.sha256, settings }))
    .digest('hex');
  return `audit-${digest.slice(0, 16)}`;
}

/**
 * Audits a trained adapter on the held-out set: loads the adapter, answers each held-out
 * question with the base model, the aligned model and the aligned model with the top-k
 * hybrid-retrieved clauses in its system prompt (greedy decoding, bounded length), scores them
 * with `evaluateItems`, decides the verdict with the context's thresholds, writes `report.json`
 * and `report.md` beside the run, records the audit and publishes `audit.run.completed` and
 * `audit.verdict.issued`.
 */
export async function auditAdapter(ports: AuditPorts, input: AuditInput, progress?: ProgressSink): Promise<AuditResult> {
  const { tenant, contextId, dataset, adapter, settings } = input;
  const heldOut = readConversationalItems(await ports.artifacts.read(dataset.heldOut.uri), dataset.heldOut.uri);
  if (heldOut.length === 0) throw new Error(`dataset ${dataset.id} has no held-out examples to audit`);
  const items = sampleItems(heldOut, settings.maxItems);
  // The answers are checked against the clauses the dataset was generated from; staleness against the current ones.
  const currentClauses = await ports.clauses.clausesOf(tenant, contextId);
  const clauseRecords = ports.clauses.clausesOfDataset
    ? await ports.clauses.clausesOfDataset(tenant, contextId, dataset.id)
    : currentClauses;
  const clauses: EvalClause[] = clauseRecords.map(evalClauseOf);

  const parent = input.parent ?? null;
  await ports.adapters.loadAdapter(adapter.id, adapter.artifactDir);
  if (parent) await ports.adapters.loadAdapter(parent.id, parent.artifactDir);

  let modelMs = 0;
  const timed = async <T>(fn: () => Promise<T>): Promise<T> => {
    const began = performance.now();
    try {
      return await fn();
    } finally {
      modelMs += performance.now() - began;
    }
  };

  const variants: readonly AuditVariant[] = parent ? ['base', 'sft', 'aligned', 'aligned_rag'] : ['base', 'aligned', 'aligned_rag'];
  const redTeamInput = {
    clauses: clauseRecords,
    values: input.values ?? [],
    settings: redTeamSettingsOf(settings),
    attacker: ports.attacker ?? null,
  };
  const plan = planRedTeam(redTeamInput);
  const heldOutTotal = items.length * variants.length;
  const total = heldOutTotal + requestsOf(plan, variants);
  let done = 0;
  progress?.({ done, total });
  const answers: VariantRecord<Record<string, string>> = { base: {}, ...(parent ? { sft: {} } : {}), aligned: {}, aligned_rag: {} };
  // The RAG variant retrieves with the concept graph the dataset was measured against (query expansion, boosts), when it has one.
  const retrieval = { ontology: await readDatasetOntology(ports.artifacts, tenant, dataset.id) };
  const retrieved = await timed(() =>
    mapPool(items, settings.concurrency, (item) =>
      retrieveClauses(ports, { tenant, contextId }, item.question, settings.ragTopK, retrieval),
    ),
  );
  for (const variant of variants) {
    // One variant at a time, its requests concurrent: the runtime batches requests of one model.
    await timed(() =>
      mapPool(items, settings.concurrency, async (item, index) => {
        const answered = answers[variant] as Record<string, string>;
        answered[item.id] = await answerVariant(ports.llm, {
          variant,
          baseModel: input.baseModel,
          adapterName: adapter.id,
          parentName: parent?.id ?? null,
          systemPrompt: dataset.systemPrompt,
          question: item.question,
          retrieved: retrieved[index] ?? [],
          maxTokens: settings.maxTokens,
        });
        done += 1;
        progress?.({ done, total, note: variant });
      }),
    );
  }

  const lexical = await evaluateItems(
    items.map(({ breakdown, ...item }) => ({ ...item, kind: breakdown })),
    answers,
    {
      clauses,
      itemPass: input.thresholds.itemPass,
      ...(ports.judge ? { judge: ports.judge.judge } : {}),
    },
  );
  let evaluation = lexical;
  let rewards: RewardSummary | null = null;
  const rewardModel = input.rewardModel;
  if (rewardModel) {
    const scorer = ports.rewards;
    if (!scorer) throw new Error(`the audit was given reward model ${rewardModel.id} but no reward scorer to score with`);
    const byVariant = await timed(() => rewardAnswers(scorer, rewardModel, dataset.systemPrompt, items, answers, settings));
    ({ evaluation, rewards } = withRewards(lexical, byVariant, { adapterId: rewardModel.id, runId: rewardModel.runId }));
  }
  // The red team, the benign probes and the general-ability set, asked of every variant.
  const redTeamBegan = performance.now();
  const attacking = await runRedTeamAudit(
    {
      ...redTeamInput,
      variants,
      gateVariant: input.thresholds.gateVariant,
      systemPrompt: dataset.systemPrompt,
      ragPrompt: ragSystemPrompt,
      ask: async (variant, messages) => {
        const result = await ports.llm.chat({
          model: variantModel(variant, input.baseModel, adapter.id, parent?.id ?? null),
          messages,
          temperature: 0,
          max_tokens: settings.maxTokens,
          seed: 0,
        });
        return result.content.trim();
      },
      retrieve: (question) => retrieveClauses(ports, { tenant, contextId }, question, settings.ragTopK, retrieval),
      reward: rewardModel && ports.rewards ? rewardScoring(ports.rewards, rewardModel, settings) : null,
      llmJudge: ports.attackJudge ?? null,
      concurrency: settings.concurrency,
      progress: (doneHere, _totalHere, note) => progress?.({ done: heldOutTotal + doneHere, total, note }),
    },
    plan,
  );
  // Nearly all of it is waiting for the model server (answers, retrieval, reward scores), its requests concurrent: counted once, as wall time.
  const redTeamMs = performance.now() - redTeamBegan;
  modelMs += redTeamMs;
  const train = readConversationalItems(await ports.artifacts.read(dataset.train.uri), dataset.train.uri);
  const auditRunId = auditRunIdFor(adapter.runId, dataset, settings);
  // Coverage of the context's clauses as they are now: a dataset on replaced clauses covers less of them.
  const coverage = clauseCoverage(
    currentClauses.map((c) => c.id),
    [...train, ...heldOut],
  );
  const verdict = decideVerdict(evaluation.scores, input.thresholds, {
    clauseCoverage: coverage.coverage,
    // The concept coverage of the data the run trained on, as measured when the version was made.
    conceptCoverage: dataset.conceptCoverage?.concepts.share ?? null,
    ...attacking.verdict,
  });
  // A document revised after the dataset was generated: the dataset's examples on clauses no longer current make the audit stale.
  const current = new Set(currentClauses.map((c) => c.id));
  const staleExamples = [...train, ...heldOut].filter((item) => item.clauseIds.some((id) => !current.has(id))).length;
  const report = buildAuditReport({
    meta: {
      contextId,
      auditRunId,
      runId: adapter.runId,
      datasetVersionId: dataset.id,
      createdAt: input.createdAt,
      models: { base: input.baseModel, adapter: adapter.id, judge: ports.judge?.model ?? null, parent: parent?.id ?? null },
      lineage: {
        adapterId: adapter.id,
        runId: adapter.runId,
        method: adapter.method ?? (parent ? 'dpo' : 'sft'),
        datasetVersionId: dataset.id,
        parentAdapterId: parent?.id ?? null,
        parentRunId: parent?.runId ?? null,
        preferenceDatasetId: adapter.preferenceDatasetId ?? null,
      },
    },
    evaluation,
    thresholds: input.thresholds,
    verdict,
    dataAudit: {
      clauseCoverage: coverage,
      nearDuplicates: nearDuplicates([...train, ...heldOut]),
      leakage: detectLeakage(train, heldOut),
    },
    rewards,
    redTeam: attacking.redTeam,
    benign: attacking.benign,
    generalAbility: attacking.generalAbility,
  });
  const json = await ports.artifacts.put(tenantKey(tenant, `runs/${adapter.runId}/report.json`), `${JSON.stringify(report, null, 2)}\n`);
  const markdown = await ports.artifacts.put(tenantKey(tenant, `runs/${adapter.runId}/report.md`), renderMarkdownReport(report));
  const record: AuditRunRecord = {
    id: auditRunId,
    contextId,
    runId: adapter.runId,
    adapterId: adapter.id,
    datasetVersionId: dataset.id,
    items: report.items,
    verdict: report.verdict,
    reportJsonUri: json.uri,
    reportMarkdownUri: markdown.uri,
    createdAt: input.createdAt,
    stale: staleExamples > 0 ? { since: input.createdAt, reason: staleReason(staleExamples, []), staleExamples, revisions: [] } : null,
  };
  await ports.audits.upsert(tenant, record);
  const source = ports.eventSource ? { source: ports.eventSource } : {};
  await publishEvent(ports.bus, AUDIT_RUN_COMPLETED_V1, {
    tenant,
    contextId,
    subject: auditRunId,
    data: toAuditRunCompleted(report, json.uri),
    ...source,
  });
  await publishEvent(ports.bus, AUDIT_VERDICT_ISSUED_V1, {
    tenant,
    contextId,
    subject: auditRunId,
    data: toAuditVerdictIssued(report, json.uri),
    ...source,
  });
  return {
    record,
    report,
    reportJsonUri: json.uri,
    reportMarkdownUri: markdown.uri,
    modelMs,
    redTeam: { ms: redTeamMs, requests: attacking.requests },
  };
}
