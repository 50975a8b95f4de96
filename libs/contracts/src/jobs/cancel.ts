/** BullMQ's default Redis key prefix (a queue's `prefix` option). */
export const DEFAULT_QUEUE_PREFIX = 'bull';

/**
 * The Redis key that cancels a job, for workers in any language.
 *
 * A producer cancels a job by setting this key (any value; the TypeScript adapter stores the
 * reason `job cancelled` with a 7-day TTL). A worker that finds it refuses to start the job; while
 * the job runs, the worker watches for it (the Python training worker polls it every second; the
 * TypeScript worker is also woken by a custom queue event published alongside), stops the work
 * and fails the job without retries. The key lives under the queue's own prefix (`<prefix>:<queue>:`), so it
 * goes with the queue when the queue is obliterated.
 *
 * Mirrored by `job_cancel_key` in apps/model-runtime/src/studio_runtime/contracts.py; both are
 * checked against `cancel-key.vectors.json`.
 */
export function jobCancelKey(queue: string, jobId: string, prefix: string = DEFAULT_QUEUE_PREFIX): string {
  if (!prefix || !queue || !jobId)
    throw new Error(`a job cancel key needs a prefix, queue and job id (got "${prefix}", "${queue}", "${jobId}")`);
  return `${prefix}:${queue}:cancelled:${jobId}`;
}
