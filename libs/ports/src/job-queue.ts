import type { JobName, JobPayload } from '@studio/contracts';

export interface EnqueueOptions {
  /** Deterministic job id: enqueueing the same id twice yields one job. */
  jobId?: string;
  attempts?: number;
  backoffMs?: number;
  /** Run the job no sooner than this many ms from now (it is `delayed` until then). */
  delayMs?: number;
}

export type JobState = 'waiting' | 'active' | 'completed' | 'failed' | 'delayed' | 'cancelled' | 'unknown';

export interface JobStatus {
  id: string;
  name: JobName;
  state: JobState;
  /** The last progress the handler reported (kept across retries and resumes); null when none. */
  progress: unknown;
  attemptsMade: number;
  result: unknown;
  failedReason: string | null;
}

export interface JobContext {
  jobId: string;
  /** This attempt, from 1. */
  attempt: number;
  /** The attempts the job is allowed: `attempt === maxAttempts` is its last. */
  maxAttempts: number;
  reportProgress(progress: Record<string, unknown>): Promise<void>;
  /**
   * Aborted when the job is cancelled (reason JOB_CANCELLED: the job ends `cancelled`, without
   * retries) or the worker shuts down (reason WORKER_SHUTTING_DOWN: see JobWorker.stop).
   */
  signal: AbortSignal;
}

export type JobHandler<N extends JobName> = (payload: JobPayload<N>, context: JobContext) => Promise<unknown>;

/** Producer side: typed by the job contracts, validated before anything is enqueued. */
export interface JobQueue {
  enqueue<N extends JobName>(name: N, payload: JobPayload<N>, options?: EnqueueOptions): Promise<{ jobId: string }>;
  status(name: JobName, jobId: string): Promise<JobStatus | null>;
  cancel(name: JobName, jobId: string): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Consumer side. start() refuses to run when a consumed queue has a job name with no handler
 * or with two (a job sent to a queue nobody serves would wait forever).
 */
export interface JobWorker {
  handle<N extends JobName>(name: N, handler: JobHandler<N>): void;
  start(): Promise<void>;
  /**
   * Stops taking jobs and lets active ones finish for a grace period, then aborts their signals
   * with WORKER_SHUTTING_DOWN. A job interrupted that way is not a failed attempt: it goes back
   * to waiting with the progress it reported, and the next worker of its queue runs it again
   * with the same attempt number (resuming is the handler's business, from its own checkpoint).
   */
  stop(): Promise<void>;
}

/** A job an event is about: its id and its validated payload. */
export interface EventJob<N extends JobName> {
  id: string;
  name: N;
  data: JobPayload<N>;
}

/**
 * What a producer learns about its jobs, from whichever process ran them (a Python worker
 * included): progress as the worker reported it, the result, or the final failure (a failed
 * attempt that will be retried is not a failure).
 */
export interface JobEventHandlers<N extends JobName> {
  progress?(job: EventJob<N>, progress: unknown): Promise<void>;
  completed?(job: EventJob<N>, result: unknown): Promise<void>;
  failed?(job: EventJob<N>, reason: string, attemptsMade: number): Promise<void>;
}

/** Delivers one job name's events to its JobEventHandlers, one at a time in order, between start() and stop(). */
export interface JobEventsListener {
  start(): Promise<void>;
  /** Stops listening after the event being handled (if any). */
  stop(): Promise<void>;
}
