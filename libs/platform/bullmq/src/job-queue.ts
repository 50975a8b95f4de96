import { Queue, QueueEventsProducer, type Job, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { jobCancelKey, type JobName, type JobPayload, type QueueName } from '@studio/contracts';
import {
  assertJobId,
  JOB_CANCELLED,
  parseJobPayload,
  queueOf,
  type EnqueueOptions,
  type JobQueue,
  type JobState,
  type JobStatus,
} from '@studio/ports';
import { CANCEL_EVENT, CANCEL_MARKER_TTL_S, producerConnection, type JobLogger, silentLogger } from './connection';

export interface BullMqJobQueueOptions {
  redisUrl: string;
  /** Redis key prefix of every queue (BullMQ's `prefix`, default "bull"). */
  prefix?: string;
  /** Attempts per job unless the caller says otherwise (default 3). */
  defaultAttempts?: number;
  /** First retry delay, doubled on each retry (default 1 s). */
  defaultBackoffMs?: number;
  logger?: JobLogger;
}

const KEEP_COMPLETED = { age: 7 * 24 * 3600, count: 10_000 };
const KEEP_FAILED = { age: 30 * 24 * 3600 };

function assertDelay(delayMs: number): number {
  if (!Number.isInteger(delayMs) || delayMs < 0) throw new Error(`invalid job delay ${delayMs}: use a whole number of ms, 0 or more`);
  return delayMs;
}

function mapState(state: string): JobState {
  switch (state) {
    case 'waiting':
    case 'prioritized':
    case 'waiting-children':
      return 'waiting';
    case 'active':
    case 'completed':
    case 'failed':
    case 'delayed':
      return state;
    default:
      return 'unknown';
  }
}

/**
 * What a handler reported (`reportProgress` takes an object), or null: BullMQ gives a job that
 * reported nothing the progress 0, which the other adapters report as null.
 */
function reportedProgress(progress: unknown): unknown {
  return progress === undefined || progress === null || progress === 0 ? null : progress;
}

/**
 * Producer side of the job contracts on BullMQ. Payloads are validated with the job's zod
 * schema before anything reaches Redis; queue names come from the contracts (`JOBS`).
 */
export class BullMqJobQueue implements JobQueue {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly queues = new Map<QueueName, Queue>();
  private readonly events = new Map<QueueName, QueueEventsProducer>();
  private readonly logger: JobLogger;

  constructor(private readonly options: BullMqJobQueueOptions) {
    this.redis = producerConnection(options.redisUrl);
    this.prefix = options.prefix ?? 'bull';
    this.logger = options.logger ?? silentLogger;
  }

  async enqueue<N extends JobName>(name: N, payload: JobPayload<N>, options: EnqueueOptions = {}): Promise<{ jobId: string }> {
    const data = parseJobPayload(name, payload);
    const jobOptions: JobsOptions = {
      attempts: options.attempts ?? this.options.defaultAttempts ?? 3,
      backoff: { type: 'exponential', delay: options.backoffMs ?? this.options.defaultBackoffMs ?? 1_000 },
      removeOnComplete: KEEP_COMPLETED,
      removeOnFail: KEEP_FAILED,
    };
    if (options.jobId !== undefined) jobOptions.jobId = assertJobId(options.jobId);
    if (options.delayMs !== undefined) jobOptions.delay = assertDelay(options.delayMs);
    const job = await this.queue(queueOf(name)).add(name, data, jobOptions);
    if (!job.id) throw new Error(`queue "${queueOf(name)}" returned no id for job "${name}"`);
    return { jobId: job.id };
  }

  async status(name: JobName, jobId: string): Promise<JobStatus | null> {
    const queue = queueOf(name);
    // State first, then the job: a job read before its state could miss a result written in between.
    const rawState = await this.queue(queue).getJobState(jobId);
    const job = await this.job(name, jobId);
    const cancelled = (await this.redis.exists(jobCancelKey(queue, jobId, this.prefix))) === 1;
    if (!job) {
      // A job cancelled before it started is removed; its marker still answers for it.
      return cancelled
        ? { id: jobId, name, state: 'cancelled', progress: null, attemptsMade: 0, result: null, failedReason: JOB_CANCELLED }
        : null;
    }
    const state = mapState(rawState);
    return {
      id: jobId,
      name,
      state: cancelled && state === 'failed' ? 'cancelled' : state,
      progress: reportedProgress(job.progress),
      attemptsMade: job.attemptsMade,
      result: job.returnvalue ?? null,
      failedReason: job.failedReason ?? null,
    };
  }

  /**
   * Cancels a job that has not finished by setting its cancel key (`jobCancelKey`, the contract
   * every worker honours: the Python training worker polls it every second, a worker refuses a
   * job that has it). A waiting or delayed job is also removed; for an active one a custom event
   * (`CANCEL_EVENT`) additionally wakes a TypeScript worker, which aborts the handler's signal
   * through BullMQ's `Worker.cancelJob` at once. Returns false for finished or unknown jobs.
   */
  async cancel(name: JobName, jobId: string): Promise<boolean> {
    const queue = queueOf(name);
    const job = await this.job(name, jobId);
    if (!job) return false;
    const state = await job.getState();
    if (state === 'completed' || state === 'failed' || state === 'unknown') return false;
    await this.redis.set(jobCancelKey(queue, jobId, this.prefix), JOB_CANCELLED, 'EX', CANCEL_MARKER_TTL_S);
    if (state !== 'active') {
      try {
        await job.remove();
        this.logger.info('job cancelled before it started', { queue, name, jobId });
        return true;
      } catch {
        // It became active (and locked) meanwhile: ask its worker to abort it.
      }
    }
    await this.eventsProducer(queue).publishEvent({ eventName: CANCEL_EVENT, jobId });
    this.logger.info('job cancellation requested', { queue, name, jobId });
    return true;
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values(), ...this.events.values()].map((q) => q.close()));
    this.queues.clear();
    this.events.clear();
    await this.redis.quit().catch(() => undefined);
  }

  private async job(name: JobName, jobId: string): Promise<Job | null> {
    const job = await this.queue(queueOf(name)).getJob(jobId);
    return job && job.name === name ? (job as Job) : null;
  }

  private queue(name: QueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.redis, prefix: this.prefix });
      queue.on('error', (err: Error) => this.logger.error('queue error', { queue: name, error: err.message }));
      this.queues.set(name, queue);
    }
    return queue;
  }

  private eventsProducer(name: QueueName): QueueEventsProducer {
    let producer = this.events.get(name);
    if (!producer) {
      producer = new QueueEventsProducer(name, { connection: this.redis, prefix: this.prefix });
      this.events.set(name, producer);
    }
    return producer;
  }
}
