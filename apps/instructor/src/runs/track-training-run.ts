import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  Metrics,
  RuntimeProgressV1,
  TRAIN_JOB,
  TRAINING_RUN_COMPLETED_V1,
  TRAINING_RUN_FAILED_V1,
  TRAINING_RUN_PROGRESS_V1,
  type TrainingRunProgressV1,
} from '@studio/contracts';
import type { EventJob, JobEventHandlers } from '@studio/bullmq';
import { EventPublisher } from '@studio/nest';
import { adapterIdFor } from '@studio/pipeline';
import { tenantId, type Repository } from '@studio/ports';
import { z } from 'zod';
import { ADAPTERS_REPOSITORY, RUNS_REPOSITORY, type RegisteredAdapter, type TrainingRun } from './training-run';

/** What the model runtime's worker returns for a finished `train` job. */
export const TrainJobResult = z.object({ artifact_dir: z.string().min(1), metrics: Metrics });

type TrainEventJob = EventJob<typeof TRAIN_JOB>;

/**
 * Follows a training run from the events of its BullMQ job (whichever worker runs it: the
 * Python model runtime reports each JSON-lines progress event with `job.updateProgress`):
 * progress updates the run and is published as `training.run.progress`; the job's result
 * registers the adapter with its lineage and publishes `training.run.completed`; the job's final
 * failure publishes `training.run.failed`. Event ids are deterministic (run, phase, step), so a
 * replayed job event, or a second instructor replica, publishes duplicates consumers skip.
 */
@Injectable()
export class TrackTrainingRun implements JobEventHandlers<typeof TRAIN_JOB> {
  private readonly logger = new Logger(TrackTrainingRun.name);

  constructor(
    @Inject(RUNS_REPOSITORY) private readonly runs: Repository<TrainingRun>,
    @Inject(ADAPTERS_REPOSITORY) private readonly adapters: Repository<RegisteredAdapter>,
    private readonly events: EventPublisher,
  ) {}

  private now(): Date {
    return new Date();
  }

  async progress(job: TrainEventJob, value: unknown): Promise<void> {
    const parsed = RuntimeProgressV1.safeParse(value);
    if (!parsed.success) {
      this.logger.warn({
        msg: 'progress that is not runtime/progress.v1 ignored',
        runId: job.data.run_id,
        issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
      });
      return;
    }
    const event = parsed.data;
    // completed/failed arrive as the job's own result or failure.
    if (event.event === 'completed' || event.event === 'failed') return;
    const run = await this.run(job);
    if (!run) return;
    const tenant = tenantId(job.data.tenant_id);
    let next: TrainingRun = run;
    let progress: Omit<TrainingRunProgressV1, 'version' | 'contextId' | 'runId' | 'totalSteps'>;
    switch (event.event) {
      case 'started':
        next = { ...run, state: 'running', totalSteps: event.total_steps, step: event.resumed_from_step ?? 0, error: null };
        progress = { phase: 'started', step: next.step, loss: null, evalLoss: null, learningRate: null, tokensPerS: null, etaS: null };
        break;
      case 'step':
        next = {
          ...run,
          state: 'running',
          step: event.step,
          totalSteps: event.total_steps,
          firstLoss: run.firstLoss ?? event.loss,
          lastLoss: event.loss,
        };
        progress = {
          phase: 'step',
          step: event.step,
          loss: event.loss,
          evalLoss: null,
          learningRate: event.learning_rate,
          tokensPerS: event.tokens_per_s,
          etaS: event.eta_s,
        };
        break;
      case 'eval':
        progress = {
          phase: 'eval',
          step: event.step,
          loss: null,
          evalLoss: event.eval_loss,
          learningRate: null,
          tokensPerS: null,
          etaS: null,
        };
        break;
      case 'checkpoint':
        progress = { phase: 'checkpoint', step: event.step, loss: null, evalLoss: null, learningRate: null, tokensPerS: null, etaS: null };
        break;
    }
    // A late replay never moves a finished run back.
    if (next !== run && run.state !== 'completed' && run.state !== 'failed') {
      await this.runs.upsert(tenant, { ...next, updatedAt: this.now().toISOString() });
    }
    await this.events.publish(TRAINING_RUN_PROGRESS_V1, {
      tenantId: tenant,
      contextId: run.contextId,
      subject: run.id,
      id: `progress-${run.id}-${progress.phase}-${progress.step}`,
      data: { version: 'v1', contextId: run.contextId, runId: run.id, totalSteps: next.totalSteps ?? 0, ...progress },
    });
  }

  async completed(job: TrainEventJob, value: unknown): Promise<void> {
    const run = await this.run(job);
    if (!run) return;
    const parsed = TrainJobResult.safeParse(value);
    if (!parsed.success) {
      await this.failed(
        job,
        `the training worker returned a result without artifact_dir and metrics: ${JSON.stringify(value).slice(0, 300)}`,
        1,
      );
      return;
    }
    const tenant = tenantId(job.data.tenant_id);
    const now = this.now().toISOString();
    const adapter: RegisteredAdapter = {
      id: adapterIdFor(run.id),
      contextId: run.contextId,
      runId: run.id,
      baseModel: run.baseModel,
      datasetVersionId: run.datasetVersionId,
      datasetSha256: run.datasetSha256,
      hyperparameters: run.hyperparameters,
      artifactDir: parsed.data.artifact_dir,
      metrics: parsed.data.metrics,
      firstLoss: run.firstLoss,
      lastLoss: run.lastLoss,
      registeredAt: (await this.adapters.get(tenant, adapterIdFor(run.id)))?.registeredAt ?? now,
    };
    await this.adapters.upsert(tenant, adapter);
    const totalSteps = parsed.data.metrics['total_steps'];
    await this.runs.upsert(tenant, {
      ...run,
      state: 'completed',
      adapterId: adapter.id,
      error: null,
      ...(typeof totalSteps === 'number' ? { totalSteps, step: totalSteps } : {}),
      updatedAt: now,
    });
    await this.events.publish(TRAINING_RUN_COMPLETED_V1, {
      tenantId: tenant,
      contextId: run.contextId,
      subject: run.id,
      id: `completed-${run.id}`,
      data: {
        version: 'v1',
        contextId: run.contextId,
        runId: run.id,
        method: job.data.method,
        baseModel: run.baseModel,
        datasetVersionId: run.datasetVersionId,
        adapterId: adapter.id,
        artifactUri: adapter.artifactDir,
        metrics: adapter.metrics,
      },
    });
    this.logger.log({ msg: 'training run completed', tenantId: tenant, runId: run.id, adapterId: adapter.id, lastLoss: run.lastLoss });
  }

  async failed(job: TrainEventJob, reason: string, attemptsMade: number): Promise<void> {
    const run = await this.run(job);
    if (!run) return;
    const tenant = tenantId(job.data.tenant_id);
    const [type, ...rest] = reason.includes(': ') ? reason.split(': ') : ['TrainingFailed', reason];
    const message = rest.length > 0 ? rest.join(': ') : reason;
    await this.runs.upsert(tenant, { ...run, state: 'failed', error: reason, updatedAt: this.now().toISOString() });
    await this.events.publish(TRAINING_RUN_FAILED_V1, {
      tenantId: tenant,
      contextId: run.contextId,
      subject: run.id,
      id: `failed-${run.id}-${attemptsMade}`,
      data: {
        version: 'v1',
        contextId: run.contextId,
        runId: run.id,
        error: { type: type && /^[A-Za-z_][\w.]*$/.test(type) ? type : 'TrainingFailed', message: message || reason },
        attempts: Math.max(1, attemptsMade),
      },
    });
    this.logger.warn({ msg: 'training run failed', tenantId: tenant, runId: run.id, reason });
  }

  private async run(job: TrainEventJob): Promise<TrainingRun | null> {
    const run = await this.runs.get(tenantId(job.data.tenant_id), job.data.run_id);
    if (!run)
      this.logger.warn({ msg: 'event for a training run this instructor did not request; ignored', runId: job.data.run_id, jobId: job.id });
    return run;
  }
}
