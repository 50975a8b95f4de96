import { createHash } from 'node:crypto';
import {
  Metrics,
  TRAIN_JOB,
  TRAINING_RUN_CANCELLED_V1,
  TRAINING_RUN_COMPLETED_V1,
  TRAINING_RUN_FAILED_V1,
  TRAINING_RUN_PROGRESS_V1,
  TRAINING_RUN_REQUESTED_V1,
  TrainingJobV1,
  type RuntimeProgressV1,
  type EventData,
  type Topic,
  type PreferenceDatasetPublishedV1,
  type TrainingHyperparameters,
  type TrainingMethod,
  type TrainingRunProgressV1,
} from '@studio/contracts';
import { canonicalJson } from '@studio/framing';
import { tenantId, tenantKey, type JobContext, type JobHandler, type JobQueue, type Repository, type TenantId } from '@studio/ports';
import { z } from 'zod';
import { publishEvent } from './events';
import type { ArtifactStore, ModelTrainer, ProgressSink, Publishing } from './ports';
import {
  clauseIndexId,
  type AdapterRecord,
  type ClauseIndexRecord,
  type DatasetVersionRecord,
  type LossPoint,
  type PreferenceDatasetVersionRecord,
  type TrainingRunRecord,
} from './records';

/**
 * The run id is a content hash of what determines the model: dataset, base model and
 * hyper-parameters, and for dpo and reward runs also the method, the parent adapter and the
 * preference dataset (whose method prefixes the id: `run-dpo-…`, `run-reward-…`). The same inputs
 * name the same run, so a re-run can reuse its adapter. SFT ids are those of runs before methods.
 */
export function trainingRunId(
  datasetSha256: string,
  baseModel: string,
  hyperparameters: TrainingHyperparameters,
  lineage: { method: TrainingMethod; parentAdapterId: string | null; preferenceDatasetSha256: string | null } = {
    method: 'sft',
    parentAdapterId: null,
    preferenceDatasetSha256: null,
  },
): string {
  if (lineage.method === 'sft') {
    const digest = createHash('sha256').update(canonicalJson({ datasetSha256, baseModel, hyperparameters })).digest('hex');
    return `run-${digest.slice(0, 16)}`;
  }
  const digest = createHash('sha256')
    .update(canonicalJson({ datasetSha256, baseModel, hyperparameters, ...lineage }))
    .digest('hex');
  return `run-${lineage.method}-${digest.slice(0, 16)}`;
}

export function adapterIdFor(runId: string): string {
  return `adapter-${runId.replace(/^run-/, '')}`;
}

/** Mean loss of the first and of the last `window` steps: a steadier picture than two single steps. */
export function lossTrend(losses: readonly number[], window = 5): { first: number; last: number } | null {
  if (losses.length === 0) return null;
  const n = Math.max(1, Math.min(window, Math.floor(losses.length / 2) || 1));
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { first: mean(losses.slice(0, n)), last: mean(losses.slice(-n)) };
}

/** Attempts of a `train` job: a worker that dies mid-run is replaced and the next attempt resumes from the last checkpoint. */
export const TRAIN_JOB_ATTEMPTS = 2;

/** What training needs of a published dataset version (the framer's record, or a consumer's copy of its event). */
export interface TrainableDataset {
  id: string;
  sha256: string;
  documentId: string;
  documentSha256: string;
  /** Every document (version) the dataset was generated from; each must be indexed. Absent: only documentId. */
  documents?: ReadonlyArray<{ documentId: string; sha256: string }>;
  trainUri: string;
  trainSha256: string;
  /** The held-out conversations (what checkpoint evaluations answer); absent: none known. */
  heldOutUri?: string;
  heldOutExamples?: number;
}

export function trainableDataset(dataset: DatasetVersionRecord): TrainableDataset {
  return {
    id: dataset.id,
    sha256: dataset.sha256,
    documentId: dataset.documentId,
    documentSha256: dataset.documentSha256,
    ...(dataset.documents.length > 0 ? { documents: dataset.documents.map((d) => ({ documentId: d.documentId, sha256: d.sha256 })) } : {}),
    trainUri: dataset.train.uri,
    trainSha256: dataset.train.sha256,
    heldOutUri: dataset.heldOut.uri,
    heldOutExamples: dataset.heldOut.examples,
  };
}

/** What a DPO or reward run needs of a published preference dataset version (the reward-model service's record, or the instructor's copy of its event). */
export interface TrainablePreferenceDataset {
  id: string;
  contextId: string;
  sha256: string;
  trainUri: string;
  trainSha256: string;
  trainExamples: number;
  heldOutUri: string;
  heldOutExamples: number;
}

export function trainablePreferenceDataset(
  dataset: Pick<PreferenceDatasetVersionRecord, 'id' | 'contextId' | 'sha256' | 'train' | 'heldOut'>,
): TrainablePreferenceDataset {
  return {
    id: dataset.id,
    contextId: dataset.contextId,
    sha256: dataset.sha256,
    trainUri: dataset.train.uri,
    trainSha256: dataset.train.sha256,
    trainExamples: dataset.train.examples,
    heldOutUri: dataset.heldOut.uri,
    heldOutExamples: dataset.heldOut.examples,
  };
}

/** The instructor's record of a `preference.dataset.published.v1` event. */
export function preferenceDatasetVersionOf(event: { time: string; data: PreferenceDatasetPublishedV1 }): PreferenceDatasetVersionRecord {
  const d = event.data;
  return {
    id: d.preferenceDatasetId,
    contextId: d.contextId,
    sha256: d.sha256,
    previousId: d.previousId,
    pairs: d.pairs,
    newPairs: d.newPairs,
    bySource: d.bySource,
    resolutions: d.resolutions,
    train: { uri: d.train.path, sha256: d.train.sha256, examples: d.train.examples },
    heldOut: { uri: d.heldOut.path, sha256: d.heldOut.sha256, examples: d.heldOut.examples },
    publishedAt: event.time,
  };
}

/** A training request that cannot be run as asked (a DPO run without its SFT adapter, a preference dataset of another context, …). */
export class TrainingRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainingRequestError';
  }
}

/** The adapter a DPO run is asked to start from is not usable: of another context or base model, not a policy adapter, or its files are gone. */
export class ParentAdapterError extends TrainingRequestError {
  constructor(message: string) {
    super(message);
    this.name = 'ParentAdapterError';
  }
}

/** The clauses of the dataset's document are not in the retrieval index (yet): the audit could not ground its RAG variant. */
export class ClauseIndexMissingError extends Error {
  constructor(
    readonly documentId: string,
    readonly documentSha256: string,
  ) {
    super(
      `the clauses of document ${documentId} (sha256 ${documentSha256.slice(0, 16)}…) are not indexed for retrieval: ` +
        'training starts once ontology.clauses.indexed.v1 has been published for it (see the ontology service and the dead-letter topic)',
    );
    this.name = 'ClauseIndexMissingError';
  }
}

export interface RequestTrainingPorts extends Publishing {
  repos: {
    runs: Repository<TrainingRunRecord>;
    adapters: Pick<Repository<AdapterRecord>, 'get'>;
    clauseIndexes: Pick<Repository<ClauseIndexRecord>, 'get'>;
  };
  queue: Pick<JobQueue, 'enqueue'>;
  artifacts: Pick<ArtifactStore, 'exists' | 'localPath' | 'pathOf'>;
}

export interface RequestTrainingInput {
  tenant: TenantId;
  contextId: string;
  /** sft (default): on `dataset`; dpo: from `initAdapter` on `preferenceDataset`; reward: on `preferenceDataset`. */
  method?: TrainingMethod;
  /** The instruction dataset version: SFT trains on it; for dpo it must be the one `initAdapter` was trained on (the audit asks its held-out set). */
  dataset: TrainableDataset;
  /** dpo and reward: the preference dataset version to train on (of this context). */
  preferenceDataset?: TrainablePreferenceDataset | null;
  /** dpo: the adapter (SFT, or an earlier round's DPO) of this context and base model the run starts from. */
  initAdapter?: AdapterRecord | null;
  baseModel: string;
  hyperparameters: TrainingHyperparameters;
  /** Train again even when this exact run already produced an adapter. */
  force?: boolean;
  now?: Date;
}

export type RequestTrainingResult =
  | { kind: 'enqueued'; run: TrainingRunRecord; jobId: string; created: boolean }
  | { kind: 'reused'; run: TrainingRunRecord; adapter: AdapterRecord };

/**
 * "Train this base model on this dataset version" (SFT), "improve this adapter with these
 * preferences" (DPO: the job's `init_adapter` is the parent adapter's artifact folder) or "train a
 * reward model on these preferences": checks the request (TrainingRequestError names what is
 * missing or mismatched) and that the dataset's clauses are indexed, records the run, publishes `training.run.requested` and queues a `train` job (job
 * id = run id, so queueing twice gives one job). Requesting the same run again returns it: a
 * completed run's adapter is reused (unless `force`), a requested or running one is queued
 * again (a no-op where its job is there), a failed or cancelled one gets a new job.
 */
export async function requestTraining(ports: RequestTrainingPorts, input: RequestTrainingInput): Promise<RequestTrainingResult> {
  const { tenant, contextId, dataset, baseModel, hyperparameters } = input;
  const method = input.method ?? 'sft';
  const { preferenceDataset, initAdapter } = checkTrainingRequest(input, method);
  if (initAdapter && !(await ports.artifacts.exists(initAdapter.artifactDir))) {
    throw new ParentAdapterError(
      `adapter ${initAdapter.id} (run ${initAdapter.runId}) is registered but its files at ${initAdapter.artifactDir} are gone: train it again first`,
    );
  }
  const now = (input.now ?? new Date()).toISOString();
  const heldOutPath = checkpointEvalHeldOut(ports, input, method);
  // The audit's RAG variant retrieves the dataset's clauses; a reward model is not audited that way.
  for (const d of method === 'reward' ? [] : (dataset.documents ?? [{ documentId: dataset.documentId, sha256: dataset.documentSha256 }])) {
    if (!(await ports.repos.clauseIndexes.get(tenant, clauseIndexId(d.documentId, d.sha256)))) {
      throw new ClauseIndexMissingError(d.documentId, d.sha256);
    }
  }
  const lineage = {
    parentAdapterId: initAdapter?.id ?? null,
    preferenceDatasetId: preferenceDataset?.id ?? null,
  };
  const runId = trainingRunId(dataset.sha256, baseModel, hyperparameters, {
    method,
    parentAdapterId: lineage.parentAdapterId,
    preferenceDatasetSha256: preferenceDataset?.sha256 ?? null,
  });
  const existing = await ports.repos.runs.get(tenant, runId);
  if (existing?.state === 'completed' && existing.adapterId && !input.force) {
    const adapter = await ports.repos.adapters.get(tenant, existing.adapterId);
    if (adapter && (await ports.artifacts.exists(adapter.artifactDir))) return { kind: 'reused', run: existing, adapter };
  }
  const outputDir = ports.artifacts.localPath(tenantKey(tenant, `runs/${runId}`));
  const job = TrainingJobV1.parse({
    schema_version: 'v1',
    run_id: runId,
    tenant_id: tenant,
    context_id: contextId,
    method,
    base_model: baseModel,
    dataset: preferenceDataset
      ? {
          train_path: ports.artifacts.pathOf(preferenceDataset.trainUri),
          // A reward model's pairwise accuracy is measured on the held-out preferences.
          eval_path:
            method === 'reward' && preferenceDataset.heldOutExamples > 0 ? ports.artifacts.pathOf(preferenceDataset.heldOutUri) : null,
          held_out_path: heldOutPath,
          sha256: preferenceDataset.trainSha256,
          format: 'preference',
        }
      : {
          train_path: ports.artifacts.pathOf(dataset.trainUri),
          eval_path: null,
          held_out_path: heldOutPath,
          sha256: dataset.trainSha256,
          format: 'conversational',
        },
    hyperparameters,
    output_dir: outputDir,
    init_adapter: initAdapter?.artifactDir ?? null,
  });
  const again = existing !== null && isFinished(existing.state);
  const jobId = again ? `${runId}-${Date.parse(now)}` : (existing?.jobId ?? runId);
  const run: TrainingRunRecord = existing
    ? { ...existing, ...(again ? { state: 'requested' as const, error: null, jobId, updatedAt: now } : {}) }
    : {
        id: runId,
        contextId,
        method,
        datasetVersionId: dataset.id,
        datasetSha256: dataset.sha256,
        ...lineage,
        baseModel,
        hyperparameters,
        outputDir,
        state: 'requested',
        totalSteps: null,
        step: 0,
        lossCurve: [],
        adapterId: null,
        error: null,
        jobId,
        requestedAt: now,
        updatedAt: now,
      };
  if (!existing || again) {
    await ports.repos.runs.upsert(tenant, run);
    await publishEvent(ports.bus, TRAINING_RUN_REQUESTED_V1, {
      tenant,
      contextId,
      subject: runId,
      id: `requested-${jobId}`,
      ...(ports.eventSource ? { source: ports.eventSource } : {}),
      data: { version: 'v1', contextId, runId, method, baseModel, datasetVersionId: dataset.id, hyperparameters, ...lineage },
    });
  }
  await ports.queue.enqueue(TRAIN_JOB, job, { jobId, attempts: TRAIN_JOB_ATTEMPTS });
  return { kind: 'enqueued', run, jobId, created: existing === null };
}

/**
 * The held-out conversations checkpoint evaluations answer: the instruction dataset version's held-out split (for a
 * DPO run too: the questions the audit asks). Null when the run asks for no checkpoint evaluations; a
 * TrainingRequestError when it asks for them and there is nothing to answer.
 */
function checkpointEvalHeldOut(
  ports: Pick<RequestTrainingPorts, 'artifacts'>,
  input: RequestTrainingInput,
  method: TrainingMethod,
): string | null {
  if (!input.hyperparameters.checkpoint_eval) return null;
  if (method === 'reward')
    throw new TrainingRequestError(
      'checkpoint_eval answers held-out questions with the trained model; a reward model cannot: set it to null',
    );
  const { heldOutUri, heldOutExamples } = input.dataset;
  if (!heldOutUri || !heldOutExamples)
    throw new TrainingRequestError(
      `checkpoint_eval answers the held-out questions of dataset version ${input.dataset.id}, which has none: set hyperparameters.checkpoint_eval to null`,
    );
  return ports.artifacts.pathOf(heldOutUri);
}

/** The preference dataset and parent adapter a request of `method` needs, checked against the context, base model and dataset. */
function checkTrainingRequest(
  input: RequestTrainingInput,
  method: TrainingMethod,
): { preferenceDataset: TrainablePreferenceDataset | null; initAdapter: AdapterRecord | null } {
  const preferenceDataset = input.preferenceDataset ?? null;
  const initAdapter = input.initAdapter ?? null;
  if (method === 'sft') {
    if (preferenceDataset)
      throw new TrainingRequestError('an sft run trains on a dataset version, not on a preference dataset: use method dpo or reward');
    if (initAdapter)
      throw new TrainingRequestError('an sft run starts from the base model; starting from an adapter is what method dpo does');
    return { preferenceDataset, initAdapter };
  }
  if (!preferenceDataset) throw new TrainingRequestError(`a ${method} run needs a preference dataset version (preferenceDatasetId)`);
  if (preferenceDataset.contextId !== input.contextId) {
    throw new TrainingRequestError(
      `preference dataset ${preferenceDataset.id} belongs to context ${preferenceDataset.contextId}, not ${input.contextId}`,
    );
  }
  if (preferenceDataset.trainExamples === 0)
    throw new TrainingRequestError(`preference dataset ${preferenceDataset.id} has no training pairs`);
  if (method === 'reward') {
    if (initAdapter)
      throw new TrainingRequestError('a reward model is trained from the base model, not from an adapter: leave out the parent run');
    return { preferenceDataset, initAdapter };
  }
  if (!initAdapter) {
    throw new TrainingRequestError('a dpo run starts from a completed SFT run of the same context and base model (parentRunId)');
  }
  if (initAdapter.contextId !== input.contextId) {
    throw new ParentAdapterError(`adapter ${initAdapter.id} belongs to context ${initAdapter.contextId}, not ${input.contextId}`);
  }
  if (initAdapter.baseModel !== input.baseModel) {
    throw new ParentAdapterError(
      `adapter ${initAdapter.id} was trained on base model ${initAdapter.baseModel}, not ${input.baseModel}: DPO continues an adapter of the same base model`,
    );
  }
  if (initAdapter.method === 'reward') {
    throw new ParentAdapterError(`adapter ${initAdapter.id} is a reward model: DPO starts from an SFT (or an earlier DPO) adapter`);
  }
  if (initAdapter.datasetVersionId !== input.dataset.id) {
    throw new ParentAdapterError(
      `adapter ${initAdapter.id} was trained on dataset version ${initAdapter.datasetVersionId}, not ${input.dataset.id}: a dpo run is audited on its parent's dataset version`,
    );
  }
  return { preferenceDataset, initAdapter };
}

/** Whether a run has reached an end state (a new request for it queues a new job). */
export function isFinished(state: TrainingRunRecord['state']): boolean {
  return state === 'completed' || state === 'failed' || state === 'cancelled';
}

/** The run cannot be cancelled: it has already completed, failed or been cancelled. */
export class RunNotCancellableError extends Error {
  constructor(
    readonly runId: string,
    readonly state: TrainingRunRecord['state'],
  ) {
    super(`training run ${runId} is ${state}: only a requested or running run can be cancelled`);
    this.name = 'RunNotCancellableError';
  }
}

export interface CancelTrainingPorts extends Publishing {
  repos: { runs: Repository<TrainingRunRecord> };
  queue: Pick<JobQueue, 'cancel' | 'status'>;
}

export interface CancelTrainingInput {
  tenant: TenantId;
  runId: string;
  /** Who asks (recorded in the event). */
  by: string;
  now?: Date;
}

/**
 * "Stop this training run": cancels its `train` job (a waiting job is removed; a running one's
 * worker sees the job's cancel key and stops the trainer), marks the run cancelled and
 * publishes `training.run.cancelled`. From then on the tracker ignores the job's progress,
 * result and failure, so the run is never marked completed later. Null when the tenant has no
 * such run; RunNotCancellableError when it has already finished — also when its job finished
 * (completed or failed) before the request, whose result the tracker is about to record.
 */
export async function cancelTraining(ports: CancelTrainingPorts, input: CancelTrainingInput): Promise<TrainingRunRecord | null> {
  const run = await ports.repos.runs.get(input.tenant, input.runId);
  if (!run) return null;
  if (isFinished(run.state)) throw new RunNotCancellableError(run.id, run.state);
  const stopped = await ports.queue.cancel(TRAIN_JOB, run.jobId);
  if (!stopped) {
    // No job to stop: unknown to the queue (lost, or already cancelled), or it has just finished.
    const status = await ports.queue.status(TRAIN_JOB, run.jobId);
    if (status?.state === 'completed') throw new RunNotCancellableError(run.id, 'completed');
    if (status?.state === 'failed') throw new RunNotCancellableError(run.id, 'failed');
  }
  const now = (input.now ?? new Date()).toISOString();
  const cancelled: TrainingRunRecord = { ...run, state: 'cancelled', error: null, updatedAt: now };
  await ports.repos.runs.upsert(input.tenant, cancelled);
  await publishEvent(ports.bus, TRAINING_RUN_CANCELLED_V1, {
    tenant: input.tenant,
    contextId: run.contextId,
    subject: run.id,
    id: `cancelled-${run.jobId}`,
    ...(ports.eventSource ? { source: ports.eventSource } : {}),
    data: {
      version: 'v1',
      contextId: run.contextId,
      runId: run.id,
      step: run.step,
      totalSteps: run.totalSteps,
      cancelledBy: input.by,
      cancelledAt: now,
    },
  });
  return cancelled;
}

/** What a finished `train` job returns (the model runtime's worker, or the in-process handler). */
export const TrainJobResult = z.object({ artifact_dir: z.string().min(1), metrics: Metrics });
export type TrainJobResult = z.infer<typeof TrainJobResult>;

export interface TrackerPorts extends Publishing {
  repos: { runs: Repository<TrainingRunRecord>; adapters: Repository<AdapterRecord> };
  /**
   * The training queue, asked whether a failed job was cancelled (its cancel marker): such a
   * run ends cancelled, not failed, even where a progress write raced its cancellation.
   */
  queue?: Pick<JobQueue, 'status'>;
}

type ProgressFields = Omit<TrainingRunProgressV1, 'version' | 'contextId' | 'runId' | 'totalSteps'>;
const NO_FIGURES = { loss: null, evalLoss: null, learningRate: null, tokensPerS: null, etaS: null } as const;

/** How the CLI's progress line reports a checkpoint evaluation. */
export function checkpointEvalNote(event: Extract<RuntimeProgressV1, { event: 'checkpoint_eval' }>): string {
  const scores = `held-out token F1 ${event.token_f1.toFixed(3)}, loss ${event.heldout_loss.toFixed(3)} (${event.items} items, ${event.seconds.toFixed(1)} s)`;
  const es = event.early_stop;
  if (!es) return scores;
  const best = `best ${es.metric} ${es.best_value.toFixed(3)} at step ${es.best_step}`;
  return es.stopped
    ? `${scores}; early stop: ${es.regressions} regressions in a row, keeping step ${es.best_step} (${best})`
    : `${scores}; ${best}${es.regressions > 0 ? `, ${es.regressions}/${es.patience} regressions` : ''}`;
}

/** The loss curve after a step: a resumed attempt replaces what came after its checkpoint. */
function withStep(curve: readonly LossPoint[], point: LossPoint): LossPoint[] {
  return [...curve.filter((p) => p.step < point.step), point];
}

/**
 * Follows a training run from its job's progress, result and failure, whichever worker runs it
 * (the in-process handler of the embedded profile, or the Python worker seen through BullMQ's
 * queue events): progress updates the run and is published as `training.run.progress`; the
 * result registers the adapter with its lineage and publishes `training.run.completed`; the
 * failure publishes `training.run.failed`. Event ids are deterministic (run, phase, step), so a
 * replayed job event publishes duplicates that consumers skip, and a late replay never moves a
 * finished run back.
 */
export class TrainingRunTracker {
  constructor(
    private readonly ports: TrackerPorts,
    private readonly sink?: ProgressSink,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async progress(job: TrainingJobV1, event: RuntimeProgressV1): Promise<void> {
    // completed/failed arrive as the job's own result or failure.
    if (event.event === 'completed' || event.event === 'failed') return;
    const run = await this.run(job);
    // A cancelled run's worker may still report a step or two before it stops: they are not news.
    if (!run || run.state === 'cancelled') return;
    let next = run;
    let fields: ProgressFields;
    switch (event.event) {
      case 'started': {
        const from = event.resumed_from_step ?? 0;
        next = {
          ...run,
          state: 'running',
          totalSteps: event.total_steps,
          step: from,
          lossCurve: run.lossCurve.filter((p) => p.step <= from),
          ...(run.evalCurve ? { evalCurve: run.evalCurve.filter((p) => p.step <= from) } : {}),
          error: null,
        };
        fields = { phase: 'started', step: from, ...NO_FIGURES };
        this.sink?.({ done: from, total: event.total_steps });
        break;
      }
      case 'step':
        next = {
          ...run,
          state: 'running',
          step: event.step,
          totalSteps: event.total_steps,
          lossCurve: withStep(run.lossCurve, { step: event.step, loss: event.loss }),
        };
        fields = {
          phase: 'step',
          step: event.step,
          ...NO_FIGURES,
          loss: event.loss,
          learningRate: event.learning_rate,
          tokensPerS: event.tokens_per_s,
          etaS: event.eta_s,
        };
        this.sink?.({ done: event.step, total: event.total_steps, note: `loss ${event.loss.toFixed(3)}` });
        break;
      case 'eval':
        fields = { phase: 'eval', step: event.step, ...NO_FIGURES, evalLoss: event.eval_loss };
        break;
      case 'checkpoint':
        fields = { phase: 'checkpoint', step: event.step, ...NO_FIGURES };
        break;
      case 'checkpoint_eval': {
        const point = { step: event.step, tokenF1: event.token_f1, heldoutLoss: event.heldout_loss };
        next = { ...run, evalCurve: [...(run.evalCurve ?? []).filter((p) => p.step < point.step), point] };
        const es = event.early_stop;
        fields = {
          phase: 'checkpoint_eval',
          step: event.step,
          ...NO_FIGURES,
          checkpointEval: {
            items: event.items,
            tokenF1: event.token_f1,
            heldoutLoss: event.heldout_loss,
            seconds: event.seconds,
            earlyStop: es
              ? {
                  metric: es.metric,
                  bestStep: es.best_step,
                  bestValue: es.best_value,
                  regressions: es.regressions,
                  patience: es.patience,
                  stopped: es.stopped,
                }
              : null,
          },
        };
        this.sink?.({ done: event.step, total: event.total_steps, note: checkpointEvalNote(event) });
        break;
      }
    }
    const tenant = tenantId(job.tenant_id);
    if (next !== run && !isFinished(run.state)) {
      // Read again just before writing: a cancellation recorded meanwhile is not overwritten.
      const latest = await this.ports.repos.runs.get(tenant, run.id);
      if (latest?.state === 'cancelled') return;
      await this.ports.repos.runs.upsert(tenant, { ...next, updatedAt: this.clock().toISOString() });
    }
    await this.publish(TRAINING_RUN_PROGRESS_V1, job, run, `progress-${run.id}-${fields.phase}-${fields.step}`, {
      version: 'v1',
      contextId: run.contextId,
      runId: run.id,
      totalSteps: next.totalSteps ?? 0,
      ...fields,
    });
  }

  /** Registers the adapter the run produced; null when the run is not this tracker's. */
  async completed(job: TrainingJobV1, result: TrainJobResult): Promise<AdapterRecord | null> {
    const run = await this.run(job);
    // A run cancelled while its worker was finishing stays cancelled: nobody asked for its adapter any more.
    if (!run || run.state === 'cancelled') return null;
    const tenant = tenantId(job.tenant_id);
    const now = this.clock().toISOString();
    const adapterId = adapterIdFor(run.id);
    const adapter: AdapterRecord = {
      id: adapterId,
      contextId: run.contextId,
      runId: run.id,
      method: run.method,
      baseModel: run.baseModel,
      datasetVersionId: run.datasetVersionId,
      datasetSha256: run.datasetSha256,
      hyperparameters: run.hyperparameters,
      parentAdapterId: run.parentAdapterId,
      preferenceDatasetId: run.preferenceDatasetId,
      artifactDir: result.artifact_dir,
      metrics: result.metrics,
      lossCurve: run.lossCurve,
      ...(run.evalCurve ? { evalCurve: run.evalCurve } : {}),
      registeredAt: (await this.ports.repos.adapters.get(tenant, adapterId))?.registeredAt ?? now,
    };
    const parent = run.parentAdapterId ? await this.ports.repos.adapters.get(tenant, run.parentAdapterId) : null;
    await this.ports.repos.adapters.upsert(tenant, adapter);
    const totalSteps = result.metrics['total_steps'];
    await this.ports.repos.runs.upsert(tenant, {
      ...run,
      state: 'completed',
      adapterId,
      error: null,
      ...(typeof totalSteps === 'number' ? { totalSteps, step: totalSteps } : {}),
      updatedAt: now,
    });
    await this.publish(TRAINING_RUN_COMPLETED_V1, job, run, `completed-${run.jobId}`, {
      version: 'v1',
      contextId: run.contextId,
      runId: run.id,
      method: run.method,
      baseModel: run.baseModel,
      datasetVersionId: run.datasetVersionId,
      adapterId,
      artifactUri: adapter.artifactDir,
      metrics: adapter.metrics,
      parentAdapter: parent ? { adapterId: parent.id, runId: parent.runId, artifactUri: parent.artifactDir, method: parent.method } : null,
      preferenceDatasetId: run.preferenceDatasetId,
    });
    return adapter;
  }

  async failed(job: TrainingJobV1, error: { type: string; message: string }, attempts: number): Promise<void> {
    const run = await this.run(job);
    // The worker stopping a cancelled run fails its job ("run … was cancelled"): the run stays cancelled.
    if (!run || run.state === 'cancelled') return;
    const tenant = tenantId(job.tenant_id);
    if ((await this.ports.queue?.status(TRAIN_JOB, run.jobId))?.state === 'cancelled') {
      // Cancelled (cancelTraining published the event), but a progress write overtook the record.
      await this.ports.repos.runs.upsert(tenant, { ...run, state: 'cancelled', error: null, updatedAt: this.clock().toISOString() });
      return;
    }
    const type = /^[A-Za-z_][\w.]*$/.test(error.type) ? error.type : 'TrainingFailed';
    const reason = `${type}: ${error.message}`;
    await this.ports.repos.runs.upsert(tenant, {
      ...run,
      state: 'failed',
      error: reason,
      updatedAt: this.clock().toISOString(),
    });
    await this.publish(TRAINING_RUN_FAILED_V1, job, run, `failed-${run.jobId}-${attempts}`, {
      version: 'v1',
      contextId: run.contextId,
      runId: run.id,
      error: { type, message: error.message || reason },
      attempts: Math.max(1, attempts),
    });
  }

  private async run(job: TrainingJobV1): Promise<TrainingRunRecord | null> {
    return this.ports.repos.runs.get(tenantId(job.tenant_id), job.run_id);
  }

  private async publish<T extends Topic>(
    topic: T,
    job: TrainingJobV1,
    run: TrainingRunRecord,
    id: string,
    data: EventData<T>,
  ): Promise<void> {
    await publishEvent(this.ports.bus, topic, {
      tenant: tenantId(job.tenant_id),
      contextId: run.contextId,
      subject: run.id,
      id,
      data,
      ...(this.ports.eventSource ? { source: this.ports.eventSource } : {}),
    });
  }
}

/**
 * The `train` job handler of the in-process queue: runs the trainer and feeds its progress
 * protocol to the tracker (and the job's progress); returns the job result the model runtime's
 * worker returns, or fails the job with the runtime's error.
 */
export function trainJobHandler(ports: { tracker: TrainingRunTracker; trainer: ModelTrainer }): JobHandler<typeof TRAIN_JOB> {
  return async (job, context: JobContext): Promise<TrainJobResult> => {
    const fail = async (type: string, message: string): Promise<never> => {
      // As with the BullMQ worker, the run fails when its last attempt does; an earlier one is retried.
      if (context.attempt >= context.maxAttempts) await ports.tracker.failed(job, { type, message }, context.attempt);
      throw new Error(`training run ${job.run_id} failed: ${type}: ${message}`);
    };
    let outcome: { ok: TrainJobResult } | { error: { type: string; message: string } } | null = null;
    try {
      for await (const event of ports.trainer.train(job, context.signal)) {
        if (event.event === 'completed') {
          outcome = { ok: { artifact_dir: event.artifact_dir, metrics: event.metrics } };
          break;
        }
        if (event.event === 'failed') {
          outcome = { error: event.error };
          break;
        }
        await ports.tracker.progress(job, event);
        if (event.event === 'step') await context.reportProgress({ step: event.step, totalSteps: event.total_steps, loss: event.loss });
      }
    } catch (error) {
      outcome = {
        error: { type: error instanceof Error ? error.name : 'Error', message: error instanceof Error ? error.message : String(error) },
      };
    }
    if (outcome === null) return fail('TrainingIncomplete', 'the model runtime stopped without reporting a completed or failed event');
    if ('error' in outcome) return fail(outcome.error.type, outcome.error.message);
    await ports.tracker.completed(job, outcome.ok);
    return outcome.ok;
  };
}

/** The adapter a training run registered, or an error naming the run's state. */
export async function adapterOfRun(
  repos: { runs: Pick<Repository<TrainingRunRecord>, 'get'>; adapters: Pick<Repository<AdapterRecord>, 'get'> },
  tenant: TenantId,
  runId: string,
): Promise<AdapterRecord> {
  const run = await repos.runs.get(tenant, runId);
  if (!run) throw new Error(`training run ${runId} is not recorded`);
  if (run.state !== 'completed' || !run.adapterId) {
    throw new Error(`training run ${runId} is ${run.state}${run.error ? `: ${run.error}` : ''}`);
  }
  const adapter = await repos.adapters.get(tenant, run.adapterId);
  if (!adapter) throw new Error(`training run ${runId} names adapter ${run.adapterId}, which is not registered`);
  return adapter;
}
