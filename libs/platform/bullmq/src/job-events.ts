import { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { JobName } from '@studio/contracts';
import { parseJobPayload, queueOf, type EventJob, type JobEventHandlers, type JobEventsListener } from '@studio/ports';
import { producerConnection, silentLogger, workerConnection, type JobLogger } from './connection';

export type { EventJob, JobEventHandlers } from '@studio/ports';

export interface BullMqJobEventsOptions<N extends JobName> {
  redisUrl: string;
  prefix?: string;
  /** The job name whose events are delivered (its queue comes from the contracts). */
  job: N;
  /**
   * Names the listener's cursor: the id of the last handled event is kept in Redis under it,
   * and a restarted listener continues from there instead of missing what happened meanwhile.
   */
  consumer: string;
  /** Attempts per event before it is logged as lost (default 5, 200 ms doubling). */
  attempts?: number;
  logger?: JobLogger;
}

/** A cursor untouched this long (30 days) is forgotten: the listener then starts from new events. */
export const CURSOR_TTL_S = 30 * 24 * 3600;

type Delivery =
  | { kind: 'progress'; jobId: string; value: unknown }
  | { kind: 'completed'; jobId: string; value: unknown }
  | { kind: 'failed'; jobId: string; value: string };

/**
 * Listens to a BullMQ queue's event stream (QueueEvents) and hands each progress, completed and
 * failed event of one job name to its handler, with the job's validated payload, one event at a
 * time in stream order. The position in the stream is remembered in Redis after each event, so
 * the handlers see every event at least once across restarts: they must be idempotent.
 */
export class BullMqJobEvents<N extends JobName> implements JobEventsListener {
  private readonly queueName: string;
  private readonly prefix: string;
  private readonly logger: JobLogger;
  private readonly cursorKey: string;
  private redis: Redis | null = null;
  private blocking: Redis | null = null;
  private events: QueueEvents | null = null;
  private queue: Queue | null = null;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly options: BullMqJobEventsOptions<N>,
    private readonly handlers: JobEventHandlers<N>,
  ) {
    this.queueName = queueOf(options.job);
    this.prefix = options.prefix ?? 'bull';
    this.logger = options.logger ?? silentLogger;
    this.cursorKey = `${this.prefix}:${this.queueName}:studio-events-cursor:${options.consumer}`;
  }

  async start(): Promise<void> {
    if (this.events) return;
    this.redis = producerConnection(this.options.redisUrl);
    this.queue = new Queue(this.queueName, { connection: this.redis, prefix: this.prefix });
    const lastEventId = (await this.redis.get(this.cursorKey)) ?? '$';
    this.blocking = workerConnection(this.options.redisUrl);
    const events = new QueueEvents(this.queueName, { connection: this.blocking, prefix: this.prefix, lastEventId, autorun: false });
    events.on('progress', ({ jobId, data }, id) => this.enqueue(id, { kind: 'progress', jobId, value: data }));
    events.on('completed', ({ jobId, returnvalue }, id) =>
      this.enqueue(id, { kind: 'completed', jobId, value: parseReturnValue(returnvalue) }),
    );
    events.on('failed', ({ jobId, failedReason }, id) => this.enqueue(id, { kind: 'failed', jobId, value: failedReason }));
    events.on('error', (err: Error) => this.logger.error('queue events error', { queue: this.queueName, error: err.message }));
    this.events = events;
    void events.run().catch((err: Error) => this.logger.error('queue events stopped', { queue: this.queueName, error: err.message }));
    await events.waitUntilReady();
    this.logger.info('listening to queue events', { queue: this.queueName, job: this.options.job, from: lastEventId });
  }

  /** Stops listening after the event being handled (if any). */
  async stop(): Promise<void> {
    const events = this.events;
    if (!events) return;
    this.events = null;
    await events.close();
    await this.chain;
    await this.queue?.close();
    // Connections handed to BullMQ are ours to close.
    this.blocking?.disconnect();
    await this.redis?.quit().catch(() => undefined);
    this.queue = null;
    this.redis = null;
    this.blocking = null;
  }

  private enqueue(eventId: string, delivery: Delivery): void {
    this.chain = this.chain.then(() => this.deliver(eventId, delivery));
  }

  private async deliver(eventId: string, delivery: Delivery): Promise<void> {
    const attempts = this.options.attempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.handle(delivery);
        break;
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        if (attempt >= attempts) {
          this.logger.error('job event handler failed; event skipped', {
            queue: this.queueName,
            event: delivery.kind,
            jobId: delivery.jobId,
            eventId,
            attempts: attempt,
            error,
          });
          break;
        }
        this.logger.warn('job event handler failed; retrying', {
          queue: this.queueName,
          event: delivery.kind,
          jobId: delivery.jobId,
          attempt,
          error,
        });
        await new Promise((r) => setTimeout(r, 200 * 2 ** (attempt - 1)));
      }
    }
    await this.redis
      ?.set(this.cursorKey, eventId, 'EX', CURSOR_TTL_S)
      .catch((err: Error) => this.logger.warn('could not store the event cursor', { error: err.message }));
  }

  private async handle(delivery: Delivery): Promise<void> {
    const handler = this.handlers[delivery.kind];
    if (!handler || !this.queue) return;
    const raw = await this.queue.getJob(delivery.jobId);
    if (!raw) {
      this.logger.warn('event for a job that no longer exists; skipped', {
        queue: this.queueName,
        event: delivery.kind,
        jobId: delivery.jobId,
      });
      return;
    }
    if (raw.name !== this.options.job) return;
    const job: EventJob<N> = { id: delivery.jobId, name: this.options.job, data: parseJobPayload(this.options.job, raw.data) };
    if (delivery.kind === 'progress') await this.handlers.progress?.(job, delivery.value);
    else if (delivery.kind === 'completed') await this.handlers.completed?.(job, delivery.value);
    else await this.handlers.failed?.(job, delivery.value, raw.attemptsMade);
  }
}

function parseReturnValue(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
