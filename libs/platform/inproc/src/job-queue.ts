import { randomUUID } from 'node:crypto';
import type { JobName, JobPayload, QueueName } from '@studio/contracts';
import {
  assertJobId,
  JOB_CANCELLED,
  JobHandlerRegistry,
  parseJobPayload,
  queueOf,
  WORKER_SHUTTING_DOWN,
  type EnqueueOptions,
  type JobQueue,
  type JobState,
  type JobStatus,
  type JobWorker,
  type JobHandler,
  type EventJob,
  type JobEventHandlers,
  type JobEventsListener,
} from '@studio/ports';

export interface InProcessJobQueueOptions {
  /** Attempts per job unless the caller says otherwise (default 3). */
  defaultAttempts?: number;
  /** First retry delay, doubled on each retry (default 1 s), as the BullMQ adapter does. */
  defaultBackoffMs?: number;
}

interface JobRecord {
  id: string;
  name: JobName;
  queue: QueueName;
  payload: unknown;
  state: JobState;
  attempts: number;
  backoffMs: number;
  attemptsMade: number;
  progress: unknown;
  result: unknown;
  failedReason: string | null;
  controller: AbortController | null;
  retryTimer: NodeJS.Timeout | null;
}

/** JSON round trip: what a handler returns or reports is stored as BullMQ would store it. */
function asJson(value: unknown): unknown {
  return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as unknown);
}

/**
 * The embedded profile's job queue: the same job contracts, validation, dedup by job id,
 * retries with exponential backoff, status and cancellation as the BullMQ adapter, with jobs
 * kept in memory and run by InProcessJobWorker in this process.
 */
export class InProcessJobQueue implements JobQueue {
  private readonly jobs = new Map<string, JobRecord>();
  private readonly waiting = new Map<QueueName, JobRecord[]>();
  private readonly consumers = new Map<QueueName, InProcessJobWorker>();
  private readonly listeners = new Set<(event: JobEventRecord) => void>();
  private closed = false;

  constructor(private readonly options: InProcessJobQueueOptions = {}) {}

  async enqueue<N extends JobName>(name: N, payload: JobPayload<N>, options: EnqueueOptions = {}): Promise<{ jobId: string }> {
    if (this.closed) throw new Error(`cannot enqueue job "${name}": the job queue is closed`);
    const data = parseJobPayload(name, payload);
    const id = options.jobId !== undefined ? assertJobId(options.jobId) : randomUUID();
    const queue = queueOf(name);
    const delayMs = options.delayMs ?? 0;
    if (!Number.isInteger(delayMs) || delayMs < 0) throw new Error(`invalid job delay ${delayMs}: use a whole number of ms, 0 or more`);
    if (this.jobs.has(key(queue, id))) return { jobId: id };
    const record: JobRecord = {
      id,
      name,
      queue,
      payload: asJson(data),
      state: 'waiting',
      attempts: Math.max(1, options.attempts ?? this.options.defaultAttempts ?? 3),
      backoffMs: options.backoffMs ?? this.options.defaultBackoffMs ?? 1_000,
      attemptsMade: 0,
      progress: null,
      result: null,
      failedReason: null,
      controller: null,
      retryTimer: null,
    };
    this.jobs.set(key(queue, id), record);
    if (delayMs > 0) {
      record.state = 'delayed';
      record.retryTimer = setTimeout(() => {
        record.retryTimer = null;
        this.makeWaiting(record);
      }, delayMs);
    } else this.makeWaiting(record);
    return { jobId: id };
  }

  async status(name: JobName, jobId: string): Promise<JobStatus | null> {
    const record = this.jobs.get(key(queueOf(name), jobId));
    if (!record || record.name !== name) return null;
    const { id, state, progress, attemptsMade, result, failedReason } = record;
    return { id, name, state, progress, attemptsMade, result, failedReason };
  }

  async cancel(name: JobName, jobId: string): Promise<boolean> {
    const record = this.jobs.get(key(queueOf(name), jobId));
    if (!record || record.name !== name) return false;
    switch (record.state) {
      case 'waiting':
      case 'delayed':
        if (record.retryTimer) clearTimeout(record.retryTimer);
        this.waiting.set(
          record.queue,
          this.queueOf(record.queue).filter((r) => r !== record),
        );
        this.finish(record, 'cancelled', null, JOB_CANCELLED);
        return true;
      case 'active':
        record.controller?.abort(JOB_CANCELLED);
        return true;
      default:
        return false;
    }
  }

  /** Refuses new jobs and drops pending retries; active jobs are the worker's to finish. */
  async close(): Promise<void> {
    this.closed = true;
    for (const record of this.jobs.values()) if (record.retryTimer) clearTimeout(record.retryTimer);
  }

  /** @internal Called by InProcessJobWorker.start(). */
  attach(queues: QueueName[], worker: InProcessJobWorker): void {
    const taken = queues.filter((q) => this.consumers.has(q) && this.consumers.get(q) !== worker);
    if (taken.length > 0) throw new Error(`queues ${taken.map((q) => `"${q}"`).join(', ')} already have an in-process worker`);
    for (const queue of queues) this.consumers.set(queue, worker);
    for (const queue of queues) this.dispatch(queue);
  }

  /** @internal Called by InProcessJobWorker.stop(). */
  detach(worker: InProcessJobWorker): void {
    for (const [queue, consumer] of this.consumers) if (consumer === worker) this.consumers.delete(queue);
  }

  /** @internal The worker takes the next waiting job of a queue, or null. */
  take(queue: QueueName): JobRecord | null {
    const next = this.queueOf(queue).shift();
    if (!next) return null;
    next.state = 'active';
    next.controller = new AbortController();
    return next;
  }

  /** @internal Settles an attempt: completed, retried with backoff, put back, or failed/cancelled. */
  settle(record: JobRecord, outcome: { ok: true; result: unknown } | { ok: false; error: Error; retryable: boolean }): void {
    const reason: unknown = record.controller?.signal.reason;
    record.controller = null;
    if (outcome.ok) {
      record.attemptsMade += 1;
      this.finish(record, 'completed', asJson(outcome.result), null);
    } else if (reason === WORKER_SHUTTING_DOWN) {
      this.makeWaiting(record, false); // not the job's fault: run it again later
    } else if (reason === JOB_CANCELLED) {
      record.attemptsMade += 1;
      this.finish(record, 'cancelled', null, JOB_CANCELLED);
    } else {
      record.attemptsMade += 1;
      if (outcome.retryable && record.attemptsMade < record.attempts && !this.closed) {
        record.state = 'delayed';
        record.failedReason = outcome.error.message;
        const delay = record.backoffMs * 2 ** (record.attemptsMade - 1);
        record.retryTimer = setTimeout(() => {
          record.retryTimer = null;
          this.makeWaiting(record);
        }, delay);
      } else {
        this.finish(record, 'failed', null, outcome.error.message);
      }
    }
    this.dispatch(record.queue);
  }

  /** @internal */
  setProgress(record: JobRecord, progress: unknown): void {
    record.progress = asJson(progress);
    this.emit({ kind: 'progress', record, value: record.progress });
  }

  /**
   * @internal Called by InProcessJobEvents: every job's progress, completion and final failure
   * (a cancelled job fails with JOB_CANCELLED, as with BullMQ), as BullMQ's event stream reports them.
   */
  listen(listener: (event: JobEventRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: JobEventRecord): void {
    for (const listener of this.listeners) listener(event);
  }

  private makeWaiting(record: JobRecord, dispatch = true): void {
    record.state = 'waiting';
    this.queueOf(record.queue).push(record);
    if (dispatch) this.dispatch(record.queue);
  }

  private finish(record: JobRecord, state: 'completed' | 'failed' | 'cancelled', result: unknown, failedReason: string | null): void {
    record.state = state;
    record.result = result;
    record.failedReason = failedReason;
    if (state === 'completed') this.emit({ kind: 'completed', record, value: result });
    else this.emit({ kind: 'failed', record, value: failedReason ?? state });
  }

  private dispatch(queue: QueueName): void {
    this.consumers.get(queue)?.poll(queue);
  }

  private queueOf(queue: QueueName): JobRecord[] {
    let list = this.waiting.get(queue);
    if (!list) {
      list = [];
      this.waiting.set(queue, list);
    }
    return list;
  }
}

/** @internal What InProcessJobQueue tells its listeners. */
export interface JobEventRecord {
  kind: 'progress' | 'completed' | 'failed';
  record: Pick<JobRecord, 'id' | 'name' | 'payload' | 'attemptsMade'>;
  value: unknown;
}

/**
 * The embedded profile's counterpart of BullMqJobEvents: hands each progress, completed and final
 * failed event of one job name on an InProcessJobQueue to its handler, with the job's validated
 * payload, one at a time in order; a handler that throws is retried (5 attempts, 200 ms doubling),
 * then the event is reported to `onLost` and skipped.
 */
export class InProcessJobEvents<N extends JobName> implements JobEventsListener {
  private unsubscribe: (() => void) | null = null;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly queue: InProcessJobQueue,
    private readonly job: N,
    private readonly handlers: JobEventHandlers<N>,
    private readonly options: { attempts?: number; onLost?: (error: string, event: { kind: string; jobId: string }) => void } = {},
  ) {}

  async start(): Promise<void> {
    if (this.unsubscribe) return;
    this.unsubscribe = this.queue.listen((event) => {
      if (event.record.name !== this.job) return;
      // Copy now: the record changes as the job goes on.
      const job: EventJob<N> = { id: event.record.id, name: this.job, data: parseJobPayload(this.job, event.record.payload) };
      const attemptsMade = event.record.attemptsMade;
      this.chain = this.chain.then(() => this.deliver(event.kind, job, event.value, attemptsMade));
    });
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    await this.chain;
  }

  private async deliver(kind: JobEventRecord['kind'], job: EventJob<N>, value: unknown, attemptsMade: number): Promise<void> {
    const attempts = this.options.attempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      try {
        if (kind === 'progress') await this.handlers.progress?.(job, value);
        else if (kind === 'completed') await this.handlers.completed?.(job, value);
        else await this.handlers.failed?.(job, String(value), attemptsMade);
        return;
      } catch (err) {
        if (attempt >= attempts) {
          this.options.onLost?.(err instanceof Error ? err.message : String(err), { kind, jobId: job.id });
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** (attempt - 1)));
      }
    }
  }
}

function key(queue: QueueName, id: string): string {
  return `${queue}/${id}`;
}

export interface InProcessJobWorkerOptions {
  /** The job names this worker serves; it consumes their queues, and must handle every job on them. */
  jobs: readonly JobName[];
  /** Jobs run at once per queue (default 1). */
  concurrency?: number;
  /** How long stop() lets active jobs finish before aborting their signals (default 30 s). */
  shutdownGraceMs?: number;
}

/** Runs the same job handlers as BullMqJobWorker, with the same start-up check, in this process. */
export class InProcessJobWorker implements JobWorker {
  private readonly registry = new JobHandlerRegistry();
  private readonly active = new Map<QueueName, Set<Promise<void>>>();
  private readonly aborters = new Set<() => void>();
  private started = false;
  private stopping = false;

  constructor(
    private readonly queue: InProcessJobQueue,
    private readonly options: InProcessJobWorkerOptions,
  ) {}

  handle<N extends JobName>(name: N, handler: JobHandler<N>): void {
    if (this.started) throw new Error(`cannot add a handler for job "${name}": the worker has started`);
    this.registry.register(name, handler);
  }

  async start(): Promise<void> {
    if (this.started) throw new Error('the job worker has already started');
    const queues = this.registry.verify(this.options.jobs);
    this.started = true;
    for (const queue of queues) this.active.set(queue, new Set());
    this.queue.attach(queues, this);
  }

  async stop(): Promise<void> {
    if (!this.started || this.stopping) return;
    this.stopping = true;
    this.queue.detach(this);
    const running = [...this.active.values()].flatMap((set) => [...set]);
    const grace = setTimeout(() => this.abortAll(), this.options.shutdownGraceMs ?? 30_000);
    try {
      await Promise.all(running);
    } finally {
      clearTimeout(grace);
    }
  }

  /** @internal Starts waiting jobs of a queue while below the concurrency limit. */
  poll(queue: QueueName): void {
    const running = this.active.get(queue);
    if (!running || this.stopping) return;
    while (running.size < (this.options.concurrency ?? 1)) {
      const record = this.queue.take(queue);
      if (!record) return;
      const run = this.run(record).finally(() => {
        running.delete(run);
        this.poll(queue);
      });
      running.add(run);
    }
  }

  private abortAll(): void {
    this.aborters.forEach((abort) => abort());
  }

  private async run(record: NonNullable<ReturnType<InProcessJobQueue['take']>>): Promise<void> {
    const controller = record.controller ?? new AbortController();
    const abort = () => controller.abort(WORKER_SHUTTING_DOWN);
    this.aborters.add(abort);
    // Let the caller of enqueue() return before the handler starts, as with a real queue.
    await new Promise<void>((resolve) => setImmediate(resolve));
    let payload;
    try {
      // Cancelled (or shut down) before the handler got to run: it never sees the job.
      controller.signal.throwIfAborted();
      payload = parseJobPayload(record.name, record.payload);
    } catch (err) {
      this.aborters.delete(abort);
      this.queue.settle(record, { ok: false, error: err instanceof Error ? err : new Error(String(err)), retryable: false });
      return;
    }
    try {
      const result = await this.registry.handlerFor(record.name)(payload, {
        jobId: record.id,
        attempt: record.attemptsMade + 1,
        maxAttempts: record.attempts,
        reportProgress: async (progress) => this.queue.setProgress(record, progress),
        signal: controller.signal,
      });
      this.queue.settle(record, { ok: true, result });
    } catch (err) {
      this.queue.settle(record, { ok: false, error: err instanceof Error ? err : new Error(String(err)), retryable: true });
    } finally {
      this.aborters.delete(abort);
    }
  }
}
