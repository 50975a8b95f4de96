import { Inject, Injectable, Logger } from '@nestjs/common';
import { TRAIN_JOB, TRAINING_RUN_REQUESTED_V1, TrainingJobV1 } from '@studio/contracts';
import { EventPublisher } from '@studio/nest';
import { trainingRunId } from '@studio/pipeline';
import type { JobQueue, Repository, TenantId } from '@studio/ports';
import { TRAINING_DATASETS_REPOSITORY } from '../datasets/datasets.handler';
import type { TrainingDataset } from '../datasets/training-dataset';
import { resolveHyperparameters } from './hyperparameters';
import { RUNS_REPOSITORY, type TrainingRun } from './training-run';

export const TRAINING_QUEUE_PORT = Symbol('TRAINING_QUEUE_PORT');
export const RUN_ARTIFACTS = Symbol('RUN_ARTIFACTS');

/** Where runs write and datasets are read: the shared artifact folder. */
export interface RunArtifacts {
  localPath(key: string): string;
  pathOf(uri: string): string;
}

export class DatasetNotAvailableError extends Error {
  constructor(datasetVersionId: string, contextId: string) {
    super(
      `dataset version "${datasetVersionId}" is not available in context "${contextId}" (not published, or its dataset.version.published.v1 event has not arrived yet)`,
    );
    this.name = 'DatasetNotAvailableError';
  }
}

export interface RequestTrainingRunInput {
  tenant: TenantId;
  contextId: string;
  datasetVersionId: string;
  baseModel: string;
  hyperparameters: Record<string, unknown>;
}

/**
 * "Train this base model on this dataset version": records the run (named by the pipeline's
 * content hash of dataset, base model and hyper-parameters, as the embedded profile names it), publishes
 * `training.run.requested` and queues a `train` job (job id = run id) for the model runtime's
 * workers. Requesting the same run again returns it as it stands (and queues it again while it
 * is only requested: the job id makes that a no-op when it is queued already).
 */
@Injectable()
export class RequestTrainingRun {
  private readonly logger = new Logger(RequestTrainingRun.name);

  constructor(
    @Inject(TRAINING_DATASETS_REPOSITORY) private readonly datasets: Repository<TrainingDataset>,
    @Inject(RUNS_REPOSITORY) private readonly runs: Repository<TrainingRun>,
    @Inject(TRAINING_QUEUE_PORT) private readonly queue: JobQueue,
    @Inject(RUN_ARTIFACTS) private readonly artifacts: RunArtifacts,
    private readonly events: EventPublisher,
  ) {}

  async execute(input: RequestTrainingRunInput): Promise<{ run: TrainingRun; created: boolean }> {
    const { tenant, contextId, baseModel } = input;
    const hyperparameters = resolveHyperparameters(input.hyperparameters);
    const dataset = await this.datasets.get(tenant, input.datasetVersionId);
    if (!dataset || dataset.contextId !== contextId) throw new DatasetNotAvailableError(input.datasetVersionId, contextId);
    const runId = trainingRunId(dataset.sha256, baseModel, hyperparameters);
    const existing = await this.runs.get(tenant, runId);
    if (existing && existing.state !== 'requested') return { run: existing, created: false };

    const outputDir = this.artifacts.localPath(`runs/${runId}`);
    const job = TrainingJobV1.parse({
      schema_version: 'v1',
      run_id: runId,
      tenant_id: tenant,
      context_id: contextId,
      method: 'sft',
      base_model: baseModel,
      dataset: {
        train_path: this.artifacts.pathOf(dataset.trainPath),
        eval_path: null,
        sha256: dataset.trainSha256,
        format: dataset.format,
      },
      hyperparameters,
      output_dir: outputDir,
    });
    if (existing) {
      // Requested but perhaps never queued (Redis was down): queueing again is a no-op when it was.
      await this.queue.enqueue(TRAIN_JOB, job, { jobId: runId, attempts: 2 });
      return { run: existing, created: false };
    }
    const now = new Date().toISOString();
    const run: TrainingRun = {
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
      adapterId: null,
      error: null,
      requestedAt: now,
      updatedAt: now,
    };
    await this.runs.upsert(tenant, run);
    await this.events.publish(TRAINING_RUN_REQUESTED_V1, {
      tenantId: tenant,
      contextId,
      subject: runId,
      id: `requested-${runId}`,
      data: { version: 'v1', contextId, runId, method: 'sft', baseModel, datasetVersionId: dataset.id, hyperparameters },
    });
    // Two attempts: a worker that dies mid-run is replaced and the next attempt resumes from the last checkpoint.
    await this.queue.enqueue(TRAIN_JOB, job, { jobId: runId, attempts: 2 });
    this.logger.log({ msg: 'training run requested', tenantId: tenant, contextId, runId, datasetVersionId: dataset.id, baseModel });
    return { run, created: true };
  }
}
