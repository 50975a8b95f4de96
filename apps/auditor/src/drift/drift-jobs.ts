import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { SCORE_DRIFT_JOB } from '@studio/contracts';
import { JOB_PLATFORM, type JobPlatform } from '@studio/nest';
import type { JobWorker } from '@studio/ports';
import { ScoreDrift } from './score-drift';

/** Consumes the `drift` queue's `score-drift` jobs while the service runs (apart from the audits: a long audit does not hold them up). */
@Injectable()
export class DriftJobs implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(DriftJobs.name);
  private readonly worker: JobWorker;

  constructor(@Inject(JOB_PLATFORM) jobs: JobPlatform, scoreDrift: ScoreDrift) {
    this.worker = jobs.worker({
      jobs: [SCORE_DRIFT_JOB],
      concurrency: 1,
      shutdownGraceMs: 5_000,
      logger: {
        info: (message, fields) => this.logger.log({ msg: message, ...fields }),
        warn: (message, fields) => this.logger.warn({ msg: message, ...fields }),
        error: (message, fields) => this.logger.error({ msg: message, ...fields }),
      },
    });
    this.worker.handle(SCORE_DRIFT_JOB, (job) => scoreDrift.execute(job));
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.worker.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.worker.stop();
  }
}
