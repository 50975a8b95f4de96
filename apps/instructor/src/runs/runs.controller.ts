import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Get,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Post,
  Res,
  UnprocessableEntityException,
} from '@nestjs/common';
import { ContextId, Id, TrainingMethod } from '@studio/contracts';
import { PUBLISHING, Tenant, ZodValidationPipe, type Publishing } from '@studio/nest';
import {
  cancelTraining,
  ClauseIndexMissingError,
  InvalidHyperparametersError,
  requestTraining,
  resolveHyperparameters,
  RunNotCancellableError,
  trainableDataset,
  trainablePreferenceDataset,
  TrainingRequestError,
  type AdapterRecord,
  type ArtifactStore,
  type ClauseIndexRecord,
  type DatasetVersionRecord,
  type PreferenceDatasetVersionRecord,
  type TrainingRunRecord,
} from '@studio/pipeline';
import { tenantId, type JobQueue, type Repository } from '@studio/ports';
import { z } from 'zod';
import {
  ADAPTERS_REPOSITORY,
  ARTIFACTS,
  CLAUSE_INDEXES_REPOSITORY,
  PREFERENCE_DATASETS_REPOSITORY,
  RUNS_REPOSITORY,
  DATASETS_REPOSITORY,
  TRAINING_QUEUE,
} from '../instructor.ports';

/**
 * A run request. sft: `datasetVersionId` and `baseModel`. dpo: `parentRunId` (a completed SFT run,
 * or an earlier DPO round, of this context) and `preferenceDatasetId`; base model and dataset
 * version are the parent's (given, they must match). reward: `preferenceDatasetId` and
 * `baseModel`; `datasetVersionId` (the lineage's instruction dataset) defaults to the context's newest.
 */
export const StartRunBody = z
  .object({
    method: TrainingMethod.default('sft'),
    datasetVersionId: Id.optional(),
    baseModel: z.string().min(1).max(500).optional(),
    preferenceDatasetId: Id.optional(),
    parentRunId: Id.optional(),
    hyperparameters: z.record(z.string(), z.unknown()).default({}),
  })
  .strict()
  .superRefine((b, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (b.method !== 'dpo' && b.baseModel === undefined) issue('baseModel', `a ${b.method} run needs baseModel`);
    if (b.method === 'sft' && b.datasetVersionId === undefined) issue('datasetVersionId', 'an sft run needs datasetVersionId');
    if (b.method !== 'sft' && b.preferenceDatasetId === undefined)
      issue('preferenceDatasetId', `a ${b.method} run needs preferenceDatasetId`);
    if (b.method === 'sft' && b.preferenceDatasetId !== undefined)
      issue('preferenceDatasetId', 'an sft run trains on a dataset version; preferences are for method dpo or reward');
    if (b.method === 'dpo' && b.parentRunId === undefined) issue('parentRunId', 'a dpo run needs parentRunId: the SFT run it starts from');
    if (b.method !== 'dpo' && b.parentRunId !== undefined)
      issue('parentRunId', `only a dpo run starts from a parent run, not a ${b.method} run`);
  });
export type StartRunBody = z.infer<typeof StartRunBody>;

export const CancelRunBody = z
  .object({ by: z.string().min(1).max(300).describe('who cancels (the caller as the gateway knows it)') })
  .strict();
export type CancelRunBody = z.infer<typeof CancelRunBody>;

export type RunView = TrainingRunRecord & { adapter: AdapterRecord | null };

@Controller('v1')
export class RunsController {
  constructor(
    @Inject(PUBLISHING) private readonly publishing: Publishing,
    @Inject(DATASETS_REPOSITORY) private readonly datasets: Repository<DatasetVersionRecord>,
    @Inject(CLAUSE_INDEXES_REPOSITORY) private readonly clauseIndexes: Repository<ClauseIndexRecord>,
    @Inject(RUNS_REPOSITORY) private readonly runs: Repository<TrainingRunRecord>,
    @Inject(ADAPTERS_REPOSITORY) private readonly adapters: Repository<AdapterRecord>,
    @Inject(PREFERENCE_DATASETS_REPOSITORY) private readonly preferenceDatasets: Repository<PreferenceDatasetVersionRecord>,
    @Inject(TRAINING_QUEUE) private readonly queue: JobQueue,
    @Inject(ARTIFACTS) private readonly artifacts: ArtifactStore,
  ) {}

  /**
   * Requests a training run with the pipeline's use case (sft, dpo from a parent run, or reward):
   * 202 for a new run, 200 when the same run (same method, datasets, parent, base model,
   * hyper-parameters) exists; 409 while the dataset, preference dataset or clause index has not
   * arrived or the parent run has not completed; 422 when the parent does not fit (other context or
   * base model, a reward model, another dataset version).
   */
  @Post('contexts/:contextId/runs')
  async start(
    @Tenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Body(new ZodValidationPipe(StartRunBody)) body: StartRunBody,
    @Res({ passthrough: true }) res: { status(code: number): unknown },
  ): Promise<RunView> {
    const t = tenantId(tenant);
    try {
      const hyperparameters = resolveHyperparameters(body.hyperparameters, body.method);
      const parent = body.parentRunId ? await this.parentAdapter(tenant, contextId, body.parentRunId) : null;
      if (parent && body.datasetVersionId !== undefined && body.datasetVersionId !== parent.datasetVersionId) {
        throw new UnprocessableEntityException(
          `parent run ${parent.runId} was trained on dataset version ${parent.datasetVersionId}, not ${body.datasetVersionId}: a dpo run keeps its parent's dataset version`,
        );
      }
      const datasetVersionId = body.datasetVersionId ?? parent?.datasetVersionId ?? (await this.newestDatasetVersion(tenant, contextId));
      const dataset = await this.datasets.get(t, datasetVersionId);
      if (!dataset || dataset.contextId !== contextId) {
        throw new ConflictException(
          `dataset version "${datasetVersionId}" is not available in context "${contextId}" (not published, or its dataset.version.published.v1 event has not arrived yet)`,
        );
      }
      let preferenceDataset: PreferenceDatasetVersionRecord | null = null;
      if (body.preferenceDatasetId) {
        preferenceDataset = await this.preferenceDatasets.get(t, body.preferenceDatasetId);
        if (!preferenceDataset || preferenceDataset.contextId !== contextId) {
          throw new ConflictException(
            `preference dataset "${body.preferenceDatasetId}" is not available in context "${contextId}" (not published, or its preference.dataset.published.v1 event has not arrived yet)`,
          );
        }
      }
      const requested = await requestTraining(
        {
          ...this.publishing,
          repos: { runs: this.runs, adapters: this.adapters, clauseIndexes: this.clauseIndexes },
          queue: this.queue,
          artifacts: this.artifacts,
        },
        {
          tenant: t,
          contextId,
          method: body.method,
          dataset: trainableDataset(dataset),
          preferenceDataset: preferenceDataset ? trainablePreferenceDataset(preferenceDataset) : null,
          initAdapter: parent,
          baseModel: body.baseModel ?? parent?.baseModel ?? '',
          hyperparameters,
        },
      );
      res.status(requested.kind === 'enqueued' && requested.created ? 202 : 200);
      return this.view(tenant, requested.run);
    } catch (err) {
      if (err instanceof InvalidHyperparametersError)
        throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: err.message, issues: err.issues });
      if (err instanceof ClauseIndexMissingError) throw new ConflictException(err.message);
      if (err instanceof TrainingRequestError) throw new UnprocessableEntityException(err.message);
      throw err;
    }
  }

  /** The newest completed reward model of the context (what the auditor scores compliance with); 404 when none. */
  @Get('contexts/:contextId/reward-models/latest')
  async latestRewardModel(
    @Tenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
  ): Promise<AdapterRecord> {
    const [latest] = await this.adapters.find(tenantId(tenant), { contextId, method: 'reward' }, { sort: { registeredAt: -1 }, limit: 1 });
    if (!latest) throw new NotFoundException(`context "${contextId}" has no trained reward model`);
    return latest;
  }

  /** The adapter of a DPO run's parent: a completed run of this context. */
  private async parentAdapter(tenant: string, contextId: string, runId: string): Promise<AdapterRecord> {
    const run = await this.runs.get(tenantId(tenant), runId);
    if (!run || run.contextId !== contextId) {
      throw new ConflictException(`parent run "${runId}" is not a training run of context "${contextId}"`);
    }
    if (run.state !== 'completed' || !run.adapterId) {
      throw new ConflictException(`parent run "${runId}" is ${run.state}: a dpo run starts from a completed run's adapter`);
    }
    const adapter = await this.adapters.get(tenantId(tenant), run.adapterId);
    if (!adapter) throw new ConflictException(`parent run "${runId}" names adapter ${run.adapterId}, which is not registered`);
    return adapter;
  }

  private async newestDatasetVersion(tenant: string, contextId: string): Promise<string> {
    const [newest] = await this.datasets.find(tenantId(tenant), { contextId }, { sort: { createdAt: -1 }, limit: 1 });
    if (!newest) throw new ConflictException(`context "${contextId}" has no published dataset version yet`);
    return newest.id;
  }

  @Get('runs/:runId')
  async get(@Tenant() tenant: string, @Param('runId', new ZodValidationPipe(Id, 'path parameter runId')) runId: string): Promise<RunView> {
    const run = await this.runs.get(tenantId(tenant), runId);
    if (!run) throw new NotFoundException(`training run "${runId}" not found`);
    return this.view(tenant, run);
  }

  /**
   * Cancels a requested or running run (pipeline's cancelTraining): 200 with the cancelled run;
   * 404 for no such run; 409 when it has already completed, failed or been cancelled.
   */
  @Post('runs/:runId/cancel')
  @HttpCode(200)
  async cancel(
    @Tenant() tenant: string,
    @Param('runId', new ZodValidationPipe(Id, 'path parameter runId')) runId: string,
    @Body(new ZodValidationPipe(CancelRunBody)) body: CancelRunBody,
  ): Promise<RunView> {
    try {
      const run = await cancelTraining(
        { ...this.publishing, repos: { runs: this.runs }, queue: this.queue },
        { tenant: tenantId(tenant), runId, by: body.by },
      );
      if (!run) throw new NotFoundException(`training run "${runId}" not found`);
      return this.view(tenant, run);
    } catch (err) {
      if (err instanceof RunNotCancellableError) throw new ConflictException(err.message);
      throw err;
    }
  }

  @Get('contexts/:contextId/runs')
  async list(
    @Tenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
  ): Promise<{ runs: TrainingRunRecord[] }> {
    return { runs: await this.runs.find(tenantId(tenant), { contextId }, { sort: { requestedAt: -1 }, limit: 200 }) };
  }

  private async view(tenant: string, run: TrainingRunRecord): Promise<RunView> {
    return { ...run, adapter: run.adapterId ? await this.adapters.get(tenantId(tenant), run.adapterId) : null };
  }
}
