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
} from '@nestjs/common';
import { ContextId, Id } from '@studio/contracts';
import { PUBLISHING, Tenant, ZodValidationPipe, type Publishing } from '@studio/nest';
import {
  cancelTraining,
  ClauseIndexMissingError,
  InvalidHyperparametersError,
  requestTraining,
  resolveHyperparameters,
  RunNotCancellableError,
  trainableDataset,
  type AdapterRecord,
  type ArtifactStore,
  type ClauseIndexRecord,
  type DatasetVersionRecord,
  type TrainingRunRecord,
} from '@studio/pipeline';
import { tenantId, type JobQueue, type Repository } from '@studio/ports';
import { z } from 'zod';
import {
  ADAPTERS_REPOSITORY,
  ARTIFACTS,
  CLAUSE_INDEXES_REPOSITORY,
  RUNS_REPOSITORY,
  DATASETS_REPOSITORY,
  TRAINING_QUEUE,
} from '../instructor.ports';

export const StartRunBody = z
  .object({
    datasetVersionId: Id,
    baseModel: z.string().min(1).max(500),
    hyperparameters: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();
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
    @Inject(TRAINING_QUEUE) private readonly queue: JobQueue,
    @Inject(ARTIFACTS) private readonly artifacts: ArtifactStore,
  ) {}

  /**
   * Requests a training run with the pipeline's use case: 202 for a new run, 200 when the same run
   * (same dataset, base model, hyper-parameters) exists; 409 while the dataset (or its clause index) has not arrived.
   */
  @Post('contexts/:contextId/runs')
  async start(
    @Tenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Body(new ZodValidationPipe(StartRunBody)) body: StartRunBody,
    @Res({ passthrough: true }) res: { status(code: number): unknown },
  ): Promise<RunView> {
    try {
      const hyperparameters = resolveHyperparameters(body.hyperparameters);
      const dataset = await this.datasets.get(tenantId(tenant), body.datasetVersionId);
      if (!dataset || dataset.contextId !== contextId) {
        throw new ConflictException(
          `dataset version "${body.datasetVersionId}" is not available in context "${contextId}" (not published, or its dataset.version.published.v1 event has not arrived yet)`,
        );
      }
      const requested = await requestTraining(
        {
          ...this.publishing,
          repos: { runs: this.runs, adapters: this.adapters, clauseIndexes: this.clauseIndexes },
          queue: this.queue,
          artifacts: this.artifacts,
        },
        { tenant: tenantId(tenant), contextId, dataset: trainableDataset(dataset), baseModel: body.baseModel, hyperparameters },
      );
      res.status(requested.kind === 'enqueued' && requested.created ? 202 : 200);
      return this.view(tenant, requested.run);
    } catch (err) {
      if (err instanceof InvalidHyperparametersError)
        throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: err.message, issues: err.issues });
      if (err instanceof ClauseIndexMissingError) throw new ConflictException(err.message);
      throw err;
    }
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
