import { createHash } from 'node:crypto';
import {
  TRAIN_JOB,
  TRAINING_RUN_COMPLETED_V1,
  TRAINING_RUN_FAILED_V1,
  TRAINING_RUN_PROGRESS_V1,
  TRAINING_RUN_REQUESTED_V1,
  TrainingJobV1,
  type RuntimeProgressV1,
  type TrainingHyperparameters,
} from '@studio/contracts';
import { canonicalJson } from '@studio/framing';
import { tenantId, type JobContext, type JobHandler, type TenantId } from '@studio/ports';
import { publishEvent } from './events';
import type { ModelTrainer, PipelinePorts, ProgressSink, StudioRepositories } from './ports';
import type { AdapterRecord, DatasetVersionRecord, TrainingRunRecord } from './records';

export interface RequestTrainingInput {
  tenant: TenantId;
  contextId: string;
  dataset: DatasetVersionRecord;
  baseModel: string;
  hyperparameters: TrainingHyperparameters;
  /** Train again even when this exact run already produced an adapter. */
  force?: boolean;
}

export type RequestTrainingResult =
  { kind: 'enqueued'; runId: string; jobId: string; job: TrainingJobV1 } | { kind: 'reused'; runId: string; adapter: AdapterRecord };

/**
 * The run id is a content hash of what determines the model: dataset, base model and
 * hyper-parameters. The same inputs name the same run, so a re-run can reuse its adapter.
 */
export function trainingRunId(datasetSha256: string, baseModel: string, hyperparameters: TrainingHyperparameters): string {
  const digest = createHash('sha256').update(canonicalJson({ datasetSha256, baseModel, hyperparameters })).digest('hex');
  return `run-${digest.slice(0, 16)}`;
}

/** Mean loss of the first and of the last `window` steps: a steadier picture than two single steps. */
export function lossTrend(losses: readonly number[], window = 5): { first: number; last: number } | null {
  if (losses.length === 0) return null;
  const n = Math.max(1, Math.min(window, Math.floor(losses.length / 2) || 1));
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { first: mean(losses.slice(0, n)), last: mean(losses.slice(-n)) };
}

export function adapterIdFor(runId: string): string {
  return `adapter-${runId.replace(/^run-/, '')}`;
}

/**
 * Requests SFT of `baseModel` on a dataset version: records the run, publishes
 * `training.run.requested` and enqueues a `train` job (job id = run id, so enqueueing twice
 * gives one job). When the registry already holds this run's adapter and its files are there,
 * the adapter is reused instead (unless `force`).
 */
export async function requestTraining(
  ports: Pick<PipelinePorts, 'bus' | 'repos' | 'queue' | 'artifacts'>,
  input: RequestTrainingInput,
): Promise<RequestTrainingResult> {
  const { tenant, contextId, dataset, baseModel, hyperparameters } = input;
  const runId = trainingRunId(dataset.sha256, baseModel, hyperparameters);
  if (!input.force) {
    const existing = await ports.repos.adapters.get(tenant, adapterIdFor(runId));
    if (existing && (await ports.artifacts.exists(existing.artifactDir))) return { kind: 'reused', runId, adapter: existing };
  }
  const outputDir = ports.artifacts.localPath(`runs/${runId}`);
  const job = TrainingJobV1.parse({
    schema_version: 'v1',
    run_id: runId,
    tenant_id: tenant,
    context_id: contextId,
    method: 'sft',
    base_model: baseModel,
    dataset: {
      train_path: ports.artifacts.pathOf(dataset.train.uri),
      eval_path: null,
      sha256: dataset.train.sha256,
      format: 'conversational',
    },
    hyperparameters,
    output_dir: outputDir,
  });
  const run: TrainingRunRecord = {
    id: runId,
    contextId,
    datasetVersionId: dataset.id,
    datasetSha256: dataset.sha256,
    baseModel,
    hyperparameters,
    outputDir,
    state: 'requested',
    totalSteps: null,
    step: 0,
    firstLoss: null,
    lastLoss: null,
    losses: [],
    adapterId: null,
    error: null,
  };
  await ports.repos.runs.upsert(tenant, run);
  await publishEvent(ports.bus, TRAINING_RUN_REQUESTED_V1, {
    tenant,
    contextId,
    subject: runId,
    data: { version: 'v1', contextId, runId, method: 'sft', baseModel, datasetVersionId: dataset.id, hyperparameters },
  });
  const { jobId } = await ports.queue.enqueue(TRAIN_JOB, job, { jobId: runId, attempts: 1 });
  return { kind: 'enqueued', runId, jobId, job };
}

export interface TrainJobPorts {
  bus: PipelinePorts['bus'];
  repos: Pick<StudioRepositories, 'runs' | 'adapters'>;
  trainer: ModelTrainer;
}

export interface TrainJobResult {
  runId: string;
  adapterId: string;
  artifactDir: string;
  firstLoss: number | null;
  lastLoss: number | null;
}

/**
 * The `train` job handler: runs the trainer, forwards each progress line of the runtime as a
 * `training.run.progress` event (and to `progress`), and on completion registers the adapter
 * with its lineage (base model, dataset version, configuration) and publishes
 * `training.run.completed`; on failure it publishes `training.run.failed` and fails the job.
 */
export function trainJobHandler(ports: TrainJobPorts, progress?: ProgressSink): JobHandler<typeof TRAIN_JOB> {
  return async (job, context: JobContext): Promise<TrainJobResult> => {
    const tenant = tenantId(job.tenant_id);
    const contextId = job.context_id;
    const runId = job.run_id;
    const prior = await ports.repos.runs.get(tenant, runId);
    if (!prior) throw new Error(`training run ${runId} is not recorded: request it with requestTraining first`);
    // A retried job starts its loss curve again.
    let run: TrainingRunRecord = { ...prior, state: 'running', error: null, firstLoss: null, lastLoss: null, losses: [] };
    await ports.repos.runs.upsert(tenant, run);

    const publishProgress = (
      phase: 'started' | 'step' | 'eval' | 'checkpoint',
      fields: Partial<Record<'loss' | 'evalLoss' | 'learningRate' | 'tokensPerS' | 'etaS', number | null>> & { step: number },
    ) =>
      publishEvent(ports.bus, TRAINING_RUN_PROGRESS_V1, {
        tenant,
        contextId,
        subject: runId,
        data: {
          version: 'v1',
          contextId,
          runId,
          phase,
          step: fields.step,
          totalSteps: run.totalSteps ?? 0,
          loss: fields.loss ?? null,
          evalLoss: fields.evalLoss ?? null,
          learningRate: fields.learningRate ?? null,
          tokensPerS: fields.tokensPerS ?? null,
          etaS: fields.etaS ?? null,
        },
      });

    const fail = async (type: string, message: string): Promise<never> => {
      run = { ...run, state: 'failed', error: `${type}: ${message}` };
      await ports.repos.runs.upsert(tenant, run);
      await publishEvent(ports.bus, TRAINING_RUN_FAILED_V1, {
        tenant,
        contextId,
        subject: runId,
        data: { version: 'v1', contextId, runId, error: { type, message }, attempts: Math.max(1, context.attempt) },
      });
      throw new Error(`training run ${runId} failed: ${type}: ${message}`);
    };

    let events: AsyncIterable<RuntimeProgressV1>;
    try {
      events = ports.trainer.train(job, context.signal);
      for await (const event of events) {
        switch (event.event) {
          case 'started':
            run = { ...run, totalSteps: event.total_steps, step: event.resumed_from_step ?? 0 };
            await publishProgress('started', { step: run.step });
            progress?.({ done: run.step, total: event.total_steps });
            break;
          case 'step':
            run = {
              ...run,
              step: event.step,
              totalSteps: event.total_steps,
              firstLoss: run.firstLoss ?? event.loss,
              lastLoss: event.loss,
              losses: [...run.losses, event.loss],
            };
            await publishProgress('step', {
              step: event.step,
              loss: event.loss,
              learningRate: event.learning_rate,
              tokensPerS: event.tokens_per_s,
              etaS: event.eta_s,
            });
            await context.reportProgress({ step: event.step, totalSteps: event.total_steps, loss: event.loss });
            progress?.({ done: event.step, total: event.total_steps, note: `loss ${event.loss.toFixed(3)}` });
            break;
          case 'eval':
            await publishProgress('eval', { step: event.step, evalLoss: event.eval_loss });
            break;
          case 'checkpoint':
            await publishProgress('checkpoint', { step: event.step });
            await ports.repos.runs.upsert(tenant, run);
            break;
          case 'completed': {
            const adapter: AdapterRecord = {
              id: adapterIdFor(runId),
              contextId,
              runId,
              baseModel: job.base_model,
              datasetVersionId: run.datasetVersionId,
              datasetSha256: run.datasetSha256,
              hyperparameters: job.hyperparameters,
              artifactDir: event.artifact_dir,
              metrics: event.metrics,
              firstLoss: run.firstLoss,
              lastLoss: run.lastLoss,
              losses: run.losses,
            };
            await ports.repos.adapters.upsert(tenant, adapter);
            run = { ...run, state: 'completed', adapterId: adapter.id };
            await ports.repos.runs.upsert(tenant, run);
            await publishEvent(ports.bus, TRAINING_RUN_COMPLETED_V1, {
              tenant,
              contextId,
              id: `completed-${runId}`,
              subject: runId,
              data: {
                version: 'v1',
                contextId,
                runId,
                method: 'sft',
                baseModel: job.base_model,
                datasetVersionId: run.datasetVersionId,
                adapterId: adapter.id,
                artifactUri: event.artifact_dir,
                metrics: event.metrics,
              },
            });
            return { runId, adapterId: adapter.id, artifactDir: event.artifact_dir, firstLoss: run.firstLoss, lastLoss: run.lastLoss };
          }
          case 'failed':
            return await fail(event.error.type, event.error.message);
        }
      }
    } catch (error) {
      if (run.state === 'failed') throw error;
      return await fail(error instanceof Error ? error.name : 'Error', error instanceof Error ? error.message : String(error));
    }
    return await fail('TrainingIncomplete', 'the model runtime stopped without reporting a completed or failed event');
  };
}

/** The adapter a training run registered, or an error naming the run's state. */
export async function adapterOfRun(
  repos: Pick<StudioRepositories, 'runs' | 'adapters'>,
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
