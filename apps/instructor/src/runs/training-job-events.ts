import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { TRAIN_JOB } from '@studio/contracts';
import { BullMqJobEvents, type JobLogger } from '@studio/bullmq';
import { TrackTrainingRun } from './track-training-run';

export const TRAINING_EVENTS_OPTIONS = Symbol('TRAINING_EVENTS_OPTIONS');
export interface TrainingEventsOptions {
  redisUrl: string;
  /** Names the stream cursor: replicas of one deployment share it. */
  consumer: string;
}

function nestJobLogger(logger: Logger): JobLogger {
  return {
    info: (message, fields) => logger.log({ msg: message, ...fields }),
    warn: (message, fields) => logger.warn({ msg: message, ...fields }),
    error: (message, fields) => logger.error({ msg: message, ...fields }),
  };
}

/**
 * Follows the `training` queue's events (progress, result, failure of `train` jobs) for as long
 * as the service runs; stops before the event bus closes, so the event in hand is published.
 */
@Injectable()
export class TrainingJobEvents implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(TrainingJobEvents.name);
  private readonly events: BullMqJobEvents<typeof TRAIN_JOB>;

  constructor(@Inject(TRAINING_EVENTS_OPTIONS) options: TrainingEventsOptions, track: TrackTrainingRun) {
    this.events = new BullMqJobEvents(
      { redisUrl: options.redisUrl, job: TRAIN_JOB, consumer: options.consumer, logger: nestJobLogger(this.logger) },
      {
        progress: (job, value) => track.progress(job, value),
        completed: (job, value) => track.completed(job, value),
        failed: (job, reason, attempts) => track.failed(job, reason, attempts),
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
