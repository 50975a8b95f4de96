import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { EVALUATE_RUN_JOB } from '@studio/contracts';
import { JOB_PLATFORM, type JobPlatform } from '@studio/nest';
import type { JobWorker } from '@studio/ports';
import { RunAudit } from './run-audit';

export const AUDIT_JOBS_OPTIONS = Symbol('AUDIT_JOBS_OPTIONS');
export interface AuditJobsOptions {
  /** Audits run at once (each one keeps the model server busy). */
  concurrency: number;
}

/** Consumes the `evaluation` queue's `evaluate-run` jobs while the service runs. */
@Injectable()
export class AuditJobs implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(AuditJobs.name);
  private readonly worker: JobWorker;

  constructor(@Inject(AUDIT_JOBS_OPTIONS) options: AuditJobsOptions, @Inject(JOB_PLATFORM) jobs: JobPlatform, runAudit: RunAudit) {
    this.worker = jobs.worker({
      jobs: [EVALUATE_RUN_JOB],
      concurrency: options.concurrency,
      shutdownGraceMs: 5_000,
      logger: {
        info: (message, fields) => this.logger.log({ msg: message, ...fields }),
        warn: (message, fields) => this.logger.warn({ msg: message, ...fields }),
        error: (message, fields) => this.logger.error({ msg: message, ...fields }),
      },
    });
    this.worker.handle(EVALUATE_RUN_JOB, (job, context) => runAudit.execute(job, context));
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.worker.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.worker.stop();
  }
}
