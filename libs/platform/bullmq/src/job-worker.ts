import { QueueEvents, UnrecoverableError, WaitingError, Worker, type Job, type QueueEventsListener } from 'bullmq';
import type { Redis } from 'ioredis';
import { jobCancelKey, type JobName, type QueueName } from '@studio/contracts';
import {
  isJobName,
  JOB_CANCELLED,
  JobHandlerRegistry,
  parseJobPayload,
  queueOf,
  WORKER_SHUTTING_DOWN,
  type JobContext,
  type JobHandler,
  type JobWorker,
} from '@studio/ports';
import { CANCEL_EVENT, silentLogger, workerConnection, type JobLogger } from './connection';

interface CancelListener extends QueueEventsListener {
  [CANCEL_EVENT]: (args: { jobId?: string }, id: string) => void;
}

export interface BullMqJobWorkerOptions {
  redisUrl: string;
  /** The job names this worker serves; it consumes their queues, and must handle every job on them. */
  jobs: readonly JobName[];
  prefix?: string;
  /** Jobs run at once per queue (default 1). */
  concurrency?: number;
  /** How long stop() lets active jobs finish before aborting their signals (default 30 s). */
  shutdownGraceMs?: number;
  logger?: JobLogger;
}

/**
 * Consumer side of the job contracts on BullMQ. start() refuses to run unless every job name
 * on the consumed queues has exactly one handler; each payload is validated before its handler
 * sees it (an invalid payload fails the job at once, without retries).
 */
export class BullMqJobWorker implements JobWorker {
  private readonly registry = new JobHandlerRegistry();
  private readonly prefix: string;
  private readonly logger: JobLogger;
  private readonly workers: Worker[] = [];
  private readonly listeners: { events: QueueEvents; connection: Redis }[] = [];
  private connection: Redis | null = null;
  private started = false;
  private stopping: Promise<void> | null = null;

  constructor(private readonly options: BullMqJobWorkerOptions) {
    this.prefix = options.prefix ?? 'bull';
    this.logger = options.logger ?? silentLogger;
  }

  handle<N extends JobName>(name: N, handler: JobHandler<N>): void {
    if (this.started) throw new Error(`cannot add a handler for job "${name}": the worker has started`);
    this.registry.register(name, handler);
  }

  async start(): Promise<void> {
    if (this.started) throw new Error('the job worker has already started');
    const queues = this.registry.verify(this.options.jobs);
    this.started = true;
    const connection = workerConnection(this.options.redisUrl);
    this.connection = connection;
    for (const queue of queues) {
      const worker = new Worker(queue, (job: Job, token?: string, signal?: AbortSignal) => this.process(queue, job, token, signal), {
        connection,
        prefix: this.prefix,
        concurrency: this.options.concurrency ?? 1,
        autorun: false,
      });
      worker.on('error', (err: Error) => this.logger.error('job worker error', { queue, error: err.message }));
      worker.on('failed', (job: Job | undefined, err: Error) =>
        this.logger.warn('job attempt failed', { queue, name: job?.name, jobId: job?.id, attempt: job?.attemptsMade, error: err.message }),
      );
      this.workers.push(worker);

      const eventsConnection = workerConnection(this.options.redisUrl);
      const events = new QueueEvents(queue, { connection: eventsConnection, prefix: this.prefix });
      events.on('error', (err: Error) => this.logger.error('queue events error', { queue, error: err.message }));
      events.on<CancelListener>(CANCEL_EVENT, ({ jobId }: { jobId?: string }) => {
        if (jobId && worker.cancelJob(jobId, JOB_CANCELLED)) this.logger.info('job cancelled while running', { queue, jobId });
      });
      this.listeners.push({ events, connection: eventsConnection });
    }
    await Promise.all(this.listeners.map((l) => l.events.waitUntilReady()));
    for (const worker of this.workers) {
      worker.run().catch((err: Error) => this.logger.error('job worker stopped with an error', { queue: worker.name, error: err.message }));
    }
    await Promise.all(this.workers.map((w) => w.waitUntilReady()));
    this.logger.info('job worker started', { queues, jobs: this.options.jobs });
  }

  /** Stops taking jobs and waits for active ones; after the grace period their signals are aborted. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    const grace = setTimeout(() => {
      for (const worker of this.workers) worker.cancelAllJobs(WORKER_SHUTTING_DOWN);
    }, this.options.shutdownGraceMs ?? 30_000);
    try {
      await Promise.all(this.workers.map((w) => w.close()));
    } finally {
      clearTimeout(grace);
    }
    await Promise.all(this.listeners.map((l) => l.events.close()));
    await Promise.all([this.connection, ...this.listeners.map((l) => l.connection)].map((c) => c?.quit().catch(() => undefined)));
    this.logger.info('job worker stopped', { jobs: this.options.jobs });
  }

  private async process(queue: QueueName, job: Job, token: string | undefined, signal: AbortSignal | undefined): Promise<unknown> {
    const name = job.name;
    const jobId = job.id ?? '';
    if (!isJobName(name) || queueOf(name) !== queue) {
      throw new UnrecoverableError(`job "${name}" does not belong on queue "${queue}": no handler for it`);
    }
    if (this.connection && (await this.connection.exists(jobCancelKey(queue, jobId, this.prefix))) === 1) {
      throw new UnrecoverableError(`${JOB_CANCELLED} before it started`);
    }
    let payload;
    try {
      payload = parseJobPayload(name, job.data);
    } catch (err) {
      // Retrying cannot make an invalid payload valid.
      throw new UnrecoverableError((err as Error).message);
    }
    const context: JobContext = {
      jobId,
      attempt: job.attemptsMade + 1,
      maxAttempts: Math.max(1, job.opts.attempts ?? 1),
      reportProgress: (progress) => job.updateProgress(progress),
      signal: signal ?? new AbortController().signal,
    };
    try {
      return await this.registry.handlerFor(name)(payload, context);
    } catch (err) {
      if (signal?.aborted && signal.reason === JOB_CANCELLED) throw new UnrecoverableError(JOB_CANCELLED);
      if (signal?.aborted && signal.reason === WORKER_SHUTTING_DOWN && token) {
        // Not the job's fault: put it back so another worker (or this one, restarted) runs it.
        await job.moveToWait(token);
        throw new WaitingError();
      }
      throw err;
    }
  }
}
