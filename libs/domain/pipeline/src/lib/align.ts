import { TRAIN_JOB, type TrainingHyperparameters } from '@studio/contracts';
import type { AuditThresholds } from '@studio/auditing';
import type { ContextValues, MediaType, NormativeKind } from '@studio/framing';
import {
  publishPreferenceDataset,
  recordPreferences,
  syntheticPreferences,
  type PreferenceDatasetRecord,
  type PreferenceRepositories,
} from '@studio/preferences';
import type { JobQueue, JobStatus, LlmClient, TenantId, VectorIndex } from '@studio/ports';
import { auditAdapter, clauseSourceOf, type AuditPorts, type AuditResult, type AuditSettings } from './audit';
import { markStaleAudits, readDatasetExamples } from './document-versions';
import {
  frameUploadedDocument,
  generateDatasetVersion,
  readClauses,
  uploadDocument,
  type GenerateDatasetInput,
  type GenerateDatasetResult,
} from './frame';
import { forgetStaleClauses, indexDocumentClauses, type IndexClausesResult } from './index-clauses';
import type { AdapterLoader, ArtifactStore, ProgressSink, Publishing, StudioRepositories } from './ports';
import {
  clauseIndexId,
  type AdapterRecord,
  type ClauseRecord,
  type DatasetVersionRecord,
  type DocumentRecord,
  type DocumentVersionRecord,
} from './records';
import type { SynthesisSettingsInput, TeacherEndpoint } from './synthesize';
import {
  adapterOfRun,
  requestTraining,
  trainableDataset,
  trainablePreferenceDataset,
  TrainJobResult,
  type RequestTrainingInput,
  type RequestTrainingResult,
} from './train';

/** The model endpoint once it is up (it may still be loading while the document is framed). */
export interface ModelEndpoint {
  llm: LlmClient;
  adapters: AdapterLoader;
}

export interface AlignmentPorts extends Publishing {
  repos: StudioRepositories;
  artifacts: ArtifactStore;
  /** The training queue: some worker runs the `train` jobs it is given. */
  queue: Pick<JobQueue, 'enqueue' | 'status'>;
  vectors: VectorIndex;
  models: () => Promise<ModelEndpoint>;
  judge?: AuditPorts['judge'];
  /** An LLM judge of the audit's replies to attacks (beside the rules and the reward model). */
  attackJudge?: AuditPorts['attackJudge'];
  /** The audit's adaptive attacker, once it is up (a remote endpoint, or the local model server); none: no adaptive attacks. */
  attacker?: () => Promise<NonNullable<AuditPorts['attacker']>>;
  /** The teacher of synthesis, once it is up (the local model server, or a remote endpoint); needed when `synthesis` is asked for. */
  teacher?: () => Promise<TeacherEndpoint>;
  /** Where preferences and preference datasets are stored; needed for a DPO round (`dpo`). */
  preferences?: PreferenceRepositories;
}

export interface AlignmentInput {
  tenant: TenantId;
  contextId: string;
  document: { id: string; filename: string; mediaType: MediaType; content: Uint8Array; maxBytes: number };
  values: ContextValues | null;
  seedsJsonl: string | null;
  seed: number;
  heldOutRatio: number;
  baseModel: string;
  embeddingModel: string;
  hyperparameters: TrainingHyperparameters;
  thresholds: AuditThresholds;
  audit: AuditSettings;
  /** Train again even when this exact run already produced an adapter. */
  retrain: boolean;
  /** 'frame' stops after the dataset version. */
  until: 'frame' | 'audit';
  /** Synthesise more examples with the teacher before the dataset version is built; null for none. */
  synthesis?: SynthesisSettingsInput | null;
  /**
   * After SFT, a DPO round: synthetic preference pairs from the dataset version's training
   * examples, a preference dataset version, DPO from the SFT adapter with these settings; the audit
   * is then of the DPO adapter, with the SFT adapter as its `sft` variant. Null or absent: SFT only.
   */
  dpo?: { hyperparameters: TrainingHyperparameters } | null;
}

export type AlignmentStage = 'frame' | 'synthesize' | 'index' | 'train' | 'preferences' | 'dpo' | 'audit';

/** How the caller follows the stages (a progress board, a log). */
export interface AlignmentObserver {
  stage(stage: AlignmentStage): ProgressSink;
  done(stage: AlignmentStage, ms: number, note: string): void;
  note(text: string): void;
}

export interface StageTiming {
  stage: string;
  ms: number;
  /** Of which spent in the model runtime (loading, training, generation, embeddings). */
  modelMs: number;
}

export interface AlignmentResult {
  document: DocumentRecord;
  /** The version the upload is (a new one, or the current one for the same bytes again). */
  version: DocumentVersionRecord | null;
  /** When the upload revised a framed version: its clause changes, and how many recorded audits it made stale. */
  revision: {
    previousVersion: number;
    changes: DocumentVersionRecord['changes'];
    /** The clauses that differ, in the new version's order: type and numbering before / after. */
    differences: Array<{ type: 'moved' | 'changed' | 'added' | 'removed'; from: string | null; to: string | null }>;
    staleAudits: number;
  } | null;
  clauses: ClauseRecord[];
  statementsByKind: Record<NormativeKind, number>;
  dataset: GenerateDatasetResult;
  timings: StageTiming[];
  training: { adapter: AdapterRecord; reused: boolean } | null;
  /** The DPO round after SFT, when one was asked for: its preferences, preference dataset and adapter. */
  dpo: {
    preferences: { generated: number; created: number };
    preferenceDataset: PreferenceDatasetRecord;
    adapter: AdapterRecord;
    reused: boolean;
  } | null;
  audit: AuditResult | null;
}

function stopwatch(): () => number {
  const began = performance.now();
  return () => performance.now() - began;
}

async function waitForJob(queue: Pick<JobQueue, 'status'>, jobId: string, signal: AbortSignal): Promise<JobStatus> {
  for (;;) {
    signal.throwIfAborted();
    const status = await queue.status(TRAIN_JOB, jobId);
    if (!status) throw new Error(`training job ${jobId} is not in the queue`);
    if (status.state === 'completed' || status.state === 'failed' || status.state === 'cancelled') return status;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function lossNote(adapter: AdapterRecord): string {
  const curve = adapter.lossCurve;
  return `loss ${curve[0]?.loss.toFixed(3) ?? '?'} → ${curve.at(-1)?.loss.toFixed(3) ?? '?'}`;
}

/** Requests a run and waits for its job: the adapter it registered, or the reused one. */
async function trainAndWait(
  ports: Parameters<typeof requestTraining>[0] & { queue: Pick<JobQueue, 'enqueue' | 'status'> },
  request: RequestTrainingInput,
  signal: AbortSignal,
): Promise<{ adapter: AdapterRecord; reused: boolean; requested: RequestTrainingResult }> {
  const requested = await requestTraining(ports, request);
  if (requested.kind === 'reused') return { adapter: requested.adapter, reused: true, requested };
  const status = await waitForJob(ports.queue, requested.jobId, signal);
  if (status.state !== 'completed') throw new Error(`training run ${requested.run.id} failed: ${status.failedReason ?? status.state}`);
  TrainJobResult.parse(status.result);
  return { adapter: await adapterOfRun(ports.repos, request.tenant, requested.run.id), reused: false, requested };
}

/**
 * "Make preferences from this dataset version": synthetic pairs from its training examples (the
 * held-out ones stay unseen: the audit asks them), recorded (idempotently) and published as a
 * preference dataset version of the context, weighted by the values' priorities.
 */
export async function publishSyntheticPreferences(
  ports: Pick<AlignmentPorts, 'bus' | 'eventSource' | 'artifacts' | 'preferences'>,
  input: { tenant: TenantId; contextId: string; dataset: DatasetVersionRecord; values: ContextValues | null },
): Promise<{ generated: number; created: number; preferenceDataset: PreferenceDatasetRecord }> {
  if (!ports.preferences) throw new Error('a DPO round needs the preference repositories (AlignmentPorts.preferences)');
  const { dataset } = input;
  if (!dataset.examplesUri) {
    throw new Error(
      `dataset version ${dataset.id} keeps no examples file: synthetic preferences need its examples (generate the dataset again)`,
    );
  }
  const { examples } = await readDatasetExamples(ports.artifacts, dataset.examplesUri);
  const train = examples.filter((e) => e.split === 'train').map((e) => e.example);
  const inputs = syntheticPreferences(train, {
    contextId: input.contextId,
    datasetVersionId: dataset.id,
    systemPrompt: dataset.systemPrompt,
    values: input.values,
  });
  if (inputs.length === 0) {
    throw new Error(
      `dataset version ${dataset.id} gives no synthetic preference pairs: none of its ${train.length} training examples has a rejected answer or a variant`,
    );
  }
  const preferencePorts = {
    repos: ports.preferences,
    artifacts: ports.artifacts,
    bus: ports.bus,
    ...(ports.eventSource ? { eventSource: ports.eventSource } : {}),
  };
  const recorded = await recordPreferences(preferencePorts, input.tenant, inputs);
  const published = await publishPreferenceDataset(preferencePorts, input.tenant, { contextId: input.contextId, values: input.values });
  return { generated: inputs.length, created: recorded.created, preferenceDataset: published.dataset };
}

/**
 * "Align a model to this policy": the whole pipeline, stage after stage, on whatever adapters
 * the ports are — upload → frame → dataset version → index the clauses → train (a `train` job
 * that a worker runs) → with `dpo`, synthetic preferences and a DPO round from the SFT adapter →
 * audit base, (SFT,) aligned and aligned+RAG against the context's gates. Each
 * stage is the use case the services run; `trainingMs` is told by the caller's worker.
 */
export async function alignToPolicy(
  ports: AlignmentPorts,
  input: AlignmentInput,
  observer: AlignmentObserver,
  signal: AbortSignal,
  /** Time the caller's worker spent in its last `train` job. */
  trainingMs: () => number = () => 0,
): Promise<AlignmentResult> {
  const { tenant, contextId } = input;
  const timings: StageTiming[] = [];
  const publishing = { bus: ports.bus, ...(ports.eventSource ? { eventSource: ports.eventSource } : {}) };

  // (a) frame: upload, clauses, dataset version
  let elapsed = stopwatch();
  const frameSink = observer.stage('frame');
  frameSink({ done: 0, total: 3 });
  const uploaded = await uploadDocument(ports, {
    tenant,
    contextId,
    documentId: input.document.id,
    filename: input.document.filename,
    mediaType: input.document.mediaType,
    content: input.document.content,
    maxBytes: input.document.maxBytes,
    source: ports.eventSource ?? '/studio/cli',
  });
  frameSink({ done: 1, total: 3 });
  const framed = await frameUploadedDocument({ ...publishing, repos: ports.repos, artifacts: ports.artifacts }, uploaded);
  if (framed.document.status !== 'framed' || framed.statementsByKind === null) {
    throw new Error(`document ${framed.document.id} could not be framed: ${framed.document.error ?? framed.document.status}`);
  }
  let revision: AlignmentResult['revision'] = null;
  if (framed.revised && framed.version) {
    // What the auditor and the ontology do on policy.document.revised in the services.
    const stale = await markStaleAudits(ports.repos.audits, tenant, framed.revised);
    await forgetStaleClauses(ports, tenant, framed.revised);
    const differences = (framed.revision?.diff.entries ?? []).flatMap((e) =>
      e.type === 'unchanged' ? [] : [{ type: e.type, from: 'from' in e ? e.from.numbering : null, to: 'to' in e ? e.to.numbering : null }],
    );
    revision = { previousVersion: framed.revised.fromVersion, changes: framed.version.changes, differences, staleAudits: stale.length };
  }
  frameSink({ done: 2, total: 3 });
  let synthesis: GenerateDatasetInput['synthesis'] = null;
  let teacherWaitMs = 0;
  if (input.synthesis) {
    if (!ports.teacher) throw new Error('synthesis was asked for, but no teacher endpoint was given');
    const waited = stopwatch();
    const teacher = await ports.teacher();
    teacherWaitMs = waited();
    synthesis = { teacher, settings: input.synthesis, progress: observer.stage('synthesize'), signal };
  }
  // From every document of the context (each at its current version), incrementally after a previous version.
  const dataset = await generateDatasetVersion(
    { ...publishing, repos: ports.repos, artifacts: ports.artifacts },
    {
      tenant,
      contextId,
      values: input.values,
      seedsJsonl: input.seedsJsonl,
      seed: input.seed,
      heldOutRatio: input.heldOutRatio,
      synthesis,
    },
  );
  frameSink({ done: 3, total: 3 });
  const taught = dataset.synthesis;
  timings.push({ stage: 'frame', ms: elapsed() - (taught?.teacherMs ?? 0) - teacherWaitMs, modelMs: 0 });
  if (taught) {
    if (teacherWaitMs > 0) timings.push({ stage: 'teacher start', ms: teacherWaitMs, modelMs: teacherWaitMs });
    timings.push({ stage: 'synthesize', ms: taught.teacherMs, modelMs: taught.teacherMs });
    observer.done(
      'synthesize',
      taught.teacherMs,
      `${taught.teacherModel}: kept ${taught.kept} of ${taught.generated} generated, ${taught.requests} requests (${taught.resumed} resumed), concurrency ${taught.concurrency}`,
    );
  }
  observer.done(
    'frame',
    timings.find((t) => t.stage === 'frame')?.ms ?? 0,
    `${framed.clauses.length} clauses, dataset ${dataset.dataset.id}${dataset.created ? '' : ' (already published)'}`,
  );
  const result: AlignmentResult = {
    document: framed.document,
    version: framed.version,
    revision,
    clauses: framed.clauses,
    statementsByKind: framed.statementsByKind,
    dataset,
    timings,
    training: null,
    dpo: null,
    audit: null,
  };
  if (input.until === 'frame') return result;

  // (b) index
  signal.throwIfAborted();
  elapsed = stopwatch();
  observer.note('runtime: waiting for the model server');
  const models = await ports.models();
  const waitedMs = elapsed();
  timings.push({ stage: 'runtime start (overlaps frame)', ms: waitedMs, modelMs: waitedMs });
  elapsed = stopwatch();
  const indexPorts = { ...publishing, llm: models.llm, vectors: ports.vectors, embeddingModel: input.embeddingModel, repos: ports.repos };
  const indexed: IndexClausesResult = (
    await indexDocumentClauses(
      indexPorts,
      { tenant, contextId, documentId: framed.document.id, documentSha256: framed.document.sha256, clauses: framed.clauses },
      observer.stage('index'),
    )
  ).result;
  // The context's other documents (framed by earlier runs, perhaps with `studio frame` only) are indexed at their current version.
  for (const other of await ports.repos.documents.find(tenant, { contextId, status: 'framed' })) {
    if (other.id === framed.document.id || !other.clausesUri) continue;
    if (await ports.repos.clauseIndexes.get(tenant, clauseIndexId(other.id, other.sha256))) continue;
    const clauses = await readClauses(ports.artifacts, other.clausesUri);
    const more = (
      await indexDocumentClauses(indexPorts, { tenant, contextId, documentId: other.id, documentSha256: other.sha256, clauses })
    ).result;
    indexed.indexed += more.indexed;
    indexed.embedMs += more.embedMs;
  }
  timings.push({ stage: 'index', ms: elapsed(), modelMs: indexed.embedMs });
  observer.done('index', timings.at(-1)?.ms ?? 0, `${indexed.indexed} clauses, ${indexed.dimensions} dimensions`);

  // (c) train
  signal.throwIfAborted();
  elapsed = stopwatch();
  observer.stage('train');
  const trainingPorts = { ...publishing, repos: ports.repos, queue: ports.queue, artifacts: ports.artifacts };
  const trained = await trainAndWait(
    trainingPorts,
    {
      tenant,
      contextId,
      dataset: trainableDataset(dataset.dataset),
      baseModel: input.baseModel,
      hyperparameters: input.hyperparameters,
      force: input.retrain,
    },
    signal,
  );
  const adapter = trained.adapter;
  if (trained.reused) {
    observer.note(
      `train: reusing adapter ${adapter.id} of run ${adapter.runId} (same dataset, model and settings; --retrain to train again)`,
    );
  }
  timings.push({ stage: 'train', ms: elapsed(), modelMs: trainingMs() });
  observer.done('train', timings.at(-1)?.ms ?? 0, trained.reused ? 'reused' : lossNote(adapter));
  result.training = { adapter, reused: trained.reused };

  let audited = adapter;
  let parent: AdapterRecord | null = null;
  if (input.dpo) {
    // (c2) preferences: synthetic pairs from the training examples (never the held-out ones the audit asks)
    signal.throwIfAborted();
    elapsed = stopwatch();
    const prefSink = observer.stage('preferences');
    prefSink({ done: 0, total: 2 });
    const round = await publishSyntheticPreferences(ports, { tenant, contextId, dataset: dataset.dataset, values: input.values });
    prefSink({ done: 2, total: 2 });
    timings.push({ stage: 'preferences', ms: elapsed(), modelMs: 0 });
    observer.done(
      'preferences',
      timings.at(-1)?.ms ?? 0,
      `${round.generated} synthetic pairs (${round.created} new), preference dataset ${round.preferenceDataset.id}: train ${round.preferenceDataset.train.examples} / held-out ${round.preferenceDataset.heldOut.examples}, ${round.preferenceDataset.resolutions} conflicts resolved`,
    );

    // (c3) DPO from the SFT adapter
    signal.throwIfAborted();
    elapsed = stopwatch();
    observer.stage('dpo');
    const dpo = await trainAndWait(
      trainingPorts,
      {
        tenant,
        contextId,
        method: 'dpo',
        dataset: trainableDataset(dataset.dataset),
        preferenceDataset: trainablePreferenceDataset(round.preferenceDataset),
        initAdapter: adapter,
        baseModel: input.baseModel,
        hyperparameters: input.dpo.hyperparameters,
        force: input.retrain,
      },
      signal,
    );
    timings.push({ stage: 'dpo', ms: elapsed(), modelMs: dpo.reused ? 0 : trainingMs() });
    observer.done('dpo', timings.at(-1)?.ms ?? 0, dpo.reused ? `reused ${dpo.adapter.id}` : lossNote(dpo.adapter));
    result.dpo = {
      preferences: { generated: round.generated, created: round.created },
      preferenceDataset: round.preferenceDataset,
      adapter: dpo.adapter,
      reused: dpo.reused,
    };
    audited = dpo.adapter;
    parent = adapter;
  }

  // (d) audit
  signal.throwIfAborted();
  elapsed = stopwatch();
  const attacker = ports.attacker ? await ports.attacker() : null;
  const audit = await auditAdapter(
    {
      ...publishing,
      artifacts: ports.artifacts,
      llm: models.llm,
      vectors: ports.vectors,
      embeddingModel: input.embeddingModel,
      adapters: models.adapters,
      clauses: clauseSourceOf(ports.repos.clauses, { repos: ports.repos, artifacts: ports.artifacts }),
      audits: ports.repos.audits,
      ...(ports.judge ? { judge: ports.judge } : {}),
      ...(ports.attackJudge ? { attackJudge: ports.attackJudge } : {}),
      ...(attacker ? { attacker } : {}),
    },
    {
      tenant,
      contextId,
      dataset: dataset.dataset,
      adapter: audited,
      parent,
      baseModel: input.baseModel,
      thresholds: input.thresholds,
      settings: input.audit,
      createdAt: new Date().toISOString(),
      values: input.values?.values ?? null,
    },
    observer.stage('audit'),
  );
  timings.push({ stage: 'audit', ms: elapsed(), modelMs: audit.modelMs });
  observer.done('audit', timings.at(-1)?.ms ?? 0, `verdict ${audit.report.verdict}`);
  result.audit = audit;
  return result;
}
