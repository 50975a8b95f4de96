import { JOBS, parseWith, type JobName, type JobPayload, type QueueName } from '@studio/contracts';
import type { JobHandler } from './job-queue';

/**
 * The job-handler bookkeeping every JobWorker adapter shares: who handles which job name, and
 * the start-up check that refuses to run a worker whose queues have a job name with no
 * handler or with two (a job sent to a queue nobody serves would wait forever).
 */

export function isJobName(name: string): name is JobName {
  return Object.prototype.hasOwnProperty.call(JOBS, name);
}

export function queueOf(name: JobName): QueueName {
  return JOBS[name].queue;
}

/** Job names carried by a queue, in the order of the JOBS registry. */
export function jobNamesOf(queue: QueueName): JobName[] {
  return (Object.keys(JOBS) as JobName[]).filter((name) => JOBS[name].queue === queue);
}

/** Validates a job payload against its contract; throws ContractViolation naming every problem. */
export function parseJobPayload<N extends JobName>(name: N, payload: unknown): JobPayload<N> {
  if (!isJobName(name)) throw new Error(`unknown job name "${String(name)}": known jobs are ${Object.keys(JOBS).join(', ')}`);
  return parseWith(JOBS[name].schema, payload, `payload of job "${name}"`) as JobPayload<N>;
}

export class JobWorkerStartupError extends Error {
  constructor(readonly problems: string[]) {
    super(`job worker refuses to start: ${problems.join('; ')}`);
    this.name = 'JobWorkerStartupError';
  }
}

export class JobHandlerRegistry {
  private readonly handlers = new Map<JobName, JobHandler<JobName>[]>();

  register<N extends JobName>(name: N, handler: JobHandler<N>): void {
    if (!isJobName(name)) throw new Error(`unknown job name "${String(name)}": known jobs are ${Object.keys(JOBS).join(', ')}`);
    const list = this.handlers.get(name) ?? [];
    list.push(handler as unknown as JobHandler<JobName>);
    this.handlers.set(name, list);
  }

  /**
   * Checks that the queues of `consumed` are fully served and returns them: every job name of a
   * consumed queue has exactly one handler, and no handler waits on a queue that is not consumed.
   */
  verify(consumed: readonly JobName[]): QueueName[] {
    const problems: string[] = [];
    const unknown = consumed.filter((name) => !isJobName(name));
    if (unknown.length > 0) problems.push(`unknown job names ${unknown.map((n) => `"${n}"`).join(', ')}`);
    const queues = [...new Set(consumed.filter(isJobName).map(queueOf))];
    if (queues.length === 0 && unknown.length === 0) problems.push('it consumes no queue');
    for (const queue of queues) {
      for (const name of jobNamesOf(queue)) {
        const count = this.handlers.get(name)?.length ?? 0;
        if (count === 0) problems.push(`job "${name}" on queue "${queue}" has no handler`);
        if (count > 1) problems.push(`job "${name}" on queue "${queue}" has ${count} handlers`);
      }
    }
    for (const name of this.handlers.keys()) {
      if (!queues.includes(queueOf(name)))
        problems.push(`job "${name}" has a handler but its queue "${queueOf(name)}" is not consumed by this worker`);
    }
    if (problems.length > 0) throw new JobWorkerStartupError(problems);
    return queues;
  }

  handlerFor<N extends JobName>(name: N): JobHandler<N> {
    const handler = this.handlers.get(name)?.[0];
    if (!handler) throw new Error(`no handler registered for job "${name}"`);
    return handler as unknown as JobHandler<N>;
  }
}

/**
 * Job ids are dedup keys, so they must survive every queue unchanged: non-empty, no ":" (BullMQ
 * reserves it) and not a plain integer (BullMQ keeps those for its own ids).
 */
export function assertJobId(jobId: string): string {
  if (jobId.length === 0 || jobId.length > 256) throw new Error(`invalid job id "${jobId}": use 1-256 characters`);
  if (jobId.includes(':')) throw new Error(`invalid job id "${jobId}": ":" is reserved by the queue`);
  if (`${parseInt(jobId, 10)}` === jobId) throw new Error(`invalid job id "${jobId}": a plain integer would clash with generated ids`);
  return jobId;
}

/** Reason given to a job's AbortSignal when it is cancelled (vs. the worker shutting down). */
export const JOB_CANCELLED = 'job cancelled';
export const WORKER_SHUTTING_DOWN = 'worker shutting down';
