import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { RuntimeProgressV1, TRAIN_JOB } from '@studio/contracts';
import type { JobLogger } from '@studio/bullmq';
import { JOB_PLATFORM, type JobPlatform } from '@studio/nest';
import type { JobEventsListener } from '@studio/ports';
import { TrainingRunTracker, TrainJobResult } from '@studio/pipeline';

export const TRAINING_EVENTS_OPTIONS = Symbol('TRAINING_EVENTS_OPTIONS');
export interface TrainingEventsOptions {
  /** Names the stream cursor (BullMQ): replicas of one deployment share it. */
  consumer: string;
}

function nestJobLogger(logger: Logger): JobLogger {
  return {
    info: (message, fields) => logger.log({ msg: message, ...fields }),
    warn: (message, fields) => logger.warn({ msg: message, ...fields }),
    error: (message, fields) => logger.error({ msg: message, ...fields }),
  };
}

/** The worker's failure reason ("Type: message", as the model runtime writes it) as an error type and message. */
export function failureOf(reason: string): { type: string; message: string } {
  const colon = reason.indexOf(': ');
  const type = colon > 0 ? reason.slice(0, colon) : '';
  return /^[A-Za-z_][\w.]*$/.test(type) ? { type, message: reason.slice(colon + 2) } : { type: 'TrainingFailed', message: reason };
}

/**
 * Feeds the pipeline's TrainingRunTracker from the `training` queue's events (progress, result
 * and final failure of `train` jobs, whichever worker runs them: the Python model runtime reports
 * each JSON-lines progress event with `job.updateProgress`) for as long as the service runs;
 * stops before the event bus closes, so the event in hand is published.
 */
@Injectable()
export class TrainingJobEvents implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(TrainingJobEvents.name);
  private readonly events: JobEventsListener;

  constructor(
    @Inject(TRAINING_EVENTS_OPTIONS) options: TrainingEventsOptions,
    @Inject(JOB_PLATFORM) jobs: JobPlatform,
    tracker: TrainingRunTracker,
  ) {
    this.events = jobs.events(
      { job: TRAIN_JOB, consumer: options.consumer, logger: nestJobLogger(this.logger) },
      {
        progress: async (job, value) => {
          const parsed = RuntimeProgressV1.safeParse(value);
          if (!parsed.success) {
            this.logger.warn({ msg: 'progress that is not runtime/progress.v1 ignored', runId: job.data.run_id });
            return;
          }
          await tracker.progress(job.data, parsed.data);
        },
        completed: async (job, value) => {
          const result = TrainJobResult.safeParse(value);
          if (result.success) await tracker.completed(job.data, result.data);
          else
            await tracker.failed(
              job.data,
              { type: 'InvalidResult', message: `the training worker returned ${JSON.stringify(value).slice(0, 300)}` },
              1,
            );
        },
        failed: (job, reason, attempts) => tracker.failed(job.data, failureOf(reason), attempts),
      },
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.events.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.events.stop();
  }
}
