import { BadRequestException, Body, ConflictException, Controller, Get, Inject, NotFoundException, Param, Post, Res } from '@nestjs/common';
import { ContextId, Id } from '@studio/contracts';
import { Tenant, ZodValidationPipe } from '@studio/nest';
import { tenantId, type Repository } from '@studio/ports';
import { z } from 'zod';
import { InvalidHyperparametersError } from './hyperparameters';
import { DatasetNotAvailableError, RequestTrainingRun } from './request-training-run';
import { ADAPTERS_REPOSITORY, RUNS_REPOSITORY, type RegisteredAdapter, type TrainingRun } from './training-run';

export const StartRunBody = z
  .object({
    datasetVersionId: Id,
    baseModel: z.string().min(1).max(500),
    hyperparameters: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();
export type StartRunBody = z.infer<typeof StartRunBody>;

export type RunView = TrainingRun & { adapter: RegisteredAdapter | null };

@Controller('v1')
export class RunsController {
  constructor(
    private readonly requestTrainingRun: RequestTrainingRun,
    @Inject(RUNS_REPOSITORY) private readonly runs: Repository<TrainingRun>,
    @Inject(ADAPTERS_REPOSITORY) private readonly adapters: Repository<RegisteredAdapter>,
  ) {}

  /** 202 for a new run, 200 when the same run (same dataset, base model, hyper-parameters) exists. */
  @Post('contexts/:contextId/runs')
  async start(
    @Tenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Body(new ZodValidationPipe(StartRunBody)) body: StartRunBody,
    @Res({ passthrough: true }) res: { status(code: number): unknown },
  ): Promise<RunView> {
    try {
      const { run, created } = await this.requestTrainingRun.execute({ tenant: tenantId(tenant), contextId, ...body });
      res.status(created ? 202 : 200);
      return this.view(tenant, run);
    } catch (err) {
      if (err instanceof InvalidHyperparametersError)
        throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: err.message, issues: err.issues });
      if (err instanceof DatasetNotAvailableError) throw new ConflictException(err.message);
      throw err;
    }
  }

  @Get('runs/:runId')
  async get(@Tenant() tenant: string, @Param('runId', new ZodValidationPipe(Id, 'path parameter runId')) runId: string): Promise<RunView> {
    const run = await this.runs.get(tenantId(tenant), runId);
    if (!run) throw new NotFoundException(`training run "${runId}" not found`);
    return this.view(tenant, run);
  }

  @Get('contexts/:contextId/runs')
  async list(
    @Tenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
  ): Promise<{ runs: TrainingRun[] }> {
    return { runs: await this.runs.find(tenantId(tenant), { contextId }, { sort: { requestedAt: -1 }, limit: 200 }) };
  }

  private async view(tenant: string, run: TrainingRun): Promise<RunView> {
    return { ...run, adapter: run.adapterId ? await this.adapters.get(tenantId(tenant), run.adapterId) : null };
  }
}
